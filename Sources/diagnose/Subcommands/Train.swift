import ArgumentParser
import DiagnoseRecord
import Dispatch
import Foundation
import Renderer
import TrainingCore

/// `diagnose` / `diagnose train`: train each cell, write its run record, weights, charts and the report.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one or more cells and write run records, weights, charts and the HTML report (the default).")

    @OptionGroup var model: ModelFlags
    @OptionGroup var training: TrainingFlags
    @OptionGroup var output: OutputFlags

    @Option(help: "Run folder name under --output (default: the cell name; with several cells, NAME-cell).")
    var name: String?

    @Option(help: "Continue training from a model.safetensors written by diagnose (or PyTorch with our names).")
    var weights: String?

    @Flag(name: .customLong("ignore-extra-tensors"),
          help: "With --weights: load this model's tensors and ignore others in the file (refused by default).")
    var ignoreExtraTensors = false

    @Option(parsing: .unconditional, help: "Threads: cells train concurrently when there are cores to spare. Default: all cores.")
    var threads: Int?

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        if let threads { try positive("--threads", threads, max: 256) }
        if let name { try validateRunName(name, flag: "--name") }
        if ignoreExtraTensors && weights == nil { throw ValidationError("--ignore-extra-tensors: only with --weights") }
    }

    func run() throws {
        try reportingErrors(execute)
    }

    func execute() throws {
        Interrupt.install()
        let cells = try model.cells()
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let outputDirectory = URL(fileURLWithPath: output.output)
        try output.renderOptions().validate()
        let runNames = cells.map { cell in name.map { cells.count > 1 ? "\($0)-\(cell.rawValue)" : $0 } ?? cell.rawValue }
        for runName in runNames { try validateRunName(runName, flag: "--name") }
        if let weights { try requireInputFile(weights, flag: "--weights") }
        // Every path the run will write is checked before any training time is spent.
        try checkOutput(outputDirectory, runNames: runNames)
        let corpus = try training.loadCorpus()
        let weightTensors = try weights.map { try loadWeights(path: $0) }
        let concurrent = max(1, min(threadCount, cells.count))
        // The models that will train at once must fit in memory together.
        let needs = cells.map { cell -> Double in
            var config = model.modelConfig(cell: cell)
            config.vocabularySize = corpus.vocabularySize
            return MemoryEstimate.bytes(config: config, batch: training.batch, steps: training.bptt, training: true)
        }
        try MemoryEstimate.check(needed: needs.sorted(by: >).prefix(concurrent).reduce(0, +),
                                 what: concurrent > 1 ? "training \(concurrent) models at once" : "training this model",
                                 advice: "lower --hidden, --layers, --batch, --bptt or --vocab-size"
                                    + (concurrent > 1 ? ", or train one cell at a time (--threads 1)" : ""))
        // Build every trainer first: bad sizes and short corpora fail before any training starts.
        var runs: [(name: String, trainer: Trainer)] = []
        for (cell, runName) in zip(cells, runNames) {
            let options = training.options(model: model.modelConfig(cell: cell), initialization: model.initialization(),
                                           threads: threadCount)
            let trainer = try Trainer(options: options, corpus: corpus)
            trainer.corpusTokenization = training.corpus == nil ? "char" : training.tokenize
            trainer.corpusVocabLimit = training.corpus != nil && training.tokenize == "word" ? training.vocabSize : nil
            trainer.corpusValidFraction = training.validFraction
            trainer.corpusLag = training.corpus == nil ? training.lag : nil
            if let weights, let weightTensors {
                try trainer.load(tensors: weightTensors, file: weights, ignoreExtra: ignoreExtraTensors)
            }
            runs.append((runName, trainer))
        }

        let printer = ProgressPrinter(names: runs.map(\.name), quiet: quiet)
        let command = Array(CommandLine.arguments.dropFirst())
        let records = RecordSlots(count: runs.count)
        // Cores left over after one per concurrent run go to each model's matrix multiplies.
        setComputeThreads(max(1, threadCount / concurrent))
        let queue = DispatchQueue(label: "diagnose.train", attributes: .concurrent)
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: concurrent)
        for (index, run) in runs.enumerated() {
            slots.wait()
            queue.async(group: group) {
                defer { slots.signal() }
                // A cell still queued when Ctrl-C came never starts, and so writes nothing.
                guard !Interrupt.requested else { return }
                let record = run.trainer.run(name: run.name, command: command, toolVersion: Diagnose.version,
                                             progress: { printer.update(index: index, $0) },
                                             shouldStop: { Interrupt.requested })
                records.set(index, record)
            }
        }
        group.wait()
        printer.finish()

        var finished: [NewRun] = []
        for (index, run) in runs.enumerated() {
            guard let record = records.values[index] else {
                if !quiet { printError("note: \(run.name) had not started when interrupted; its folder is unchanged") }
                continue
            }
            let model = try Safetensors.encode(tensors: run.trainer.modelTensors(),
                                               metadata: ["format": "pt", "diagnose": Diagnose.version])
            finished.append(NewRun(name: run.name, record: record, files: [("model.safetensors", model)]))
            if let step = record.status.divergedAtStep, !quiet {
                printError("warning: \(run.name) diverged at step \(step) (\(record.status.divergenceReason ?? "non-finite")); "
                    + "the record keeps everything up to it. To train on, lower --lr, --clip or --spectral-radius.")
            }
        }
        if !finished.isEmpty {
            // The report covers every run in the output folder, old and new.
            let summary = try publish(finished, output: outputDirectory, options: output.renderOptions())
            if !quiet {
                print(SummaryTable.render(finished.map(\.record)))
                print("report: \(summary.report.path)")
            }
        }
        if Interrupt.requested || finished.contains(where: { $0.record.status.interrupted }) { throw ExitCode(130) }
    }
}

/// Where things are written and how charts are drawn.
struct OutputFlags: ParsableArguments {
    @Option(help: "Folder for run folders, comparison charts and report.html.")
    var output: String = "output"

    @Option(help: "TrueType font for the charts (default: DejaVu Sans from the system).")
    var font: String?

    func renderOptions() -> RenderOptions {
        var options = RenderOptions()
        options.fontPath = font
        return options
    }
}

/// Refuses run names the output folder cannot hold or the report would skip: empty, '.' or '..',
/// with '/' or a NUL, hidden (leading '.'), the names of the report's own folders, or longer than
/// `OutputFolder.maxRunNameBytes` bytes.
func validateRunName(_ name: String, flag: String) throws {
    let reserved = [ReportWriter.comparisonFolderName, ReportWriter.chartsFolderName, ReportWriter.reportFileName]
    guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), !name.contains("\0"), !reserved.contains(name) else {
        throw ValidationError("\(flag) \(name): must be a plain folder name: no '/', not starting with '.' (hidden "
            + "folders are not reported), and not \(reserved.map { "'\($0)'" }.joined(separator: ", "))")
    }
    guard name.utf8.count <= OutputFolder.maxRunNameBytes else {
        throw ValidationError("\(flag): the name is \(name.utf8.count) bytes long; at most \(OutputFolder.maxRunNameBytes) are allowed")
    }
}

/// Before any work: the output folder can be created and written, and nothing in it is in the way.
func checkOutput(_ output: URL, runNames: [String]) throws {
    try OutputFolder.checkWritable(output, runNames: runNames, reportFile: ReportWriter.reportFileName,
                                   comparisonFolder: ReportWriter.comparisonFolderName)
}

func loadWeights(path: String) throws -> [String: SafetensorsTensor] {
    try requireInputFile(path, flag: "--weights")
    return try Safetensors.read(from: URL(fileURLWithPath: path)).tensors
}

/// A run that finished and is about to be written: its record and the other files of its folder.
struct NewRun {
    var name: String
    var record: RunRecord
    var files: [(name: String, data: Data)]
}

/// Writes new runs and the report through the output folder's lock: each run folder is staged whole
/// and put in place after its charts are drawn; every other run in the folder is redrawn (one whose
/// record cannot be read is skipped with a warning), then `compare/` and `report.html`.
func publish(_ newRuns: [NewRun], output: URL, options: RenderOptions) throws -> ReportSummary {
    let folder = try OutputFolder(output, waiting: { printError("note: \($0)") })
    defer { folder.unlock() }
    var staged: [StagedRun] = []
    defer { for stage in staged { stage.discard() } }
    for run in newRuns {
        let stage = try folder.stageRun(named: run.name)
        staged.append(stage)
        try stage.write(RecordCoding.encode(run.record), as: ReportWriter.recordFileName)
        for file in run.files { try stage.write(file.data, as: file.name) }
    }
    // Every run folder in byte order of its name, as `discoverRuns` gives them.
    var inputs: [String: ReportRunInput] = [:]
    for directory in ReportWriter.discoverRuns(in: output) {
        inputs[directory.lastPathComponent] = ReportRunInput(directory: directory)
    }
    for (run, stage) in zip(newRuns, staged) {
        inputs[run.name] = ReportRunInput(directory: stage.finalURL, record: run.record, chartDirectory: stage.stagingURL)
    }
    let ordered = inputs.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { inputs[$0]! }
    let summary = try ReportWriter.renderRuns(ordered, outputDirectory: output, options: options, skipUndrawable: true,
                                              beforeReport: { for stage in staged { try stage.commit() } })
    for message in summary.skipped { printError("warning: left out of the report: \(message)") }
    return summary
}

/// Ctrl-C or SIGTERM asks the trainers to stop after the current step; a second one exits at
/// once (its temporaries are removed by the next run in that folder).
enum Interrupt {
    nonisolated(unsafe) static var requested = false

    static func install() {
        // A parent may have started us with these signals blocked (a blocked mask is inherited):
        // unblock them, or Ctrl-C and SIGTERM would never arrive.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in
                if Interrupt.requested { _exit(130) }
                Interrupt.requested = true
            }
        }
    }
}

/// Results of concurrently trained runs, filled in by index.
final class RecordSlots: @unchecked Sendable {
    private var slots: [RunRecord?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ record: RunRecord) {
        lock.lock()
        slots[index] = record
        lock.unlock()
    }
    var values: [RunRecord?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
