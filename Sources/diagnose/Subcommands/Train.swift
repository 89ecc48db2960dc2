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

    @Option(help: "Threads: cells train concurrently when there are cores to spare. Default: all cores.")
    var threads: Int?

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        if let threads { try positive("--threads", threads, max: 256) }
        if let name { try validateRunName(name, flag: "--name") }
    }

    func run() throws {
        try reportingErrors(execute)
    }

    func execute() throws {
        let cells = try model.cells()
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let outputDirectory = URL(fileURLWithPath: output.output)
        try output.renderOptions().validate()
        if !quiet { for warning in training.ineffectiveFlags() { printError("warning: \(warning)") } }
        let loading = CorpusLoadPrinter(quiet: quiet)
        let corpus = try training.loadCorpus(progress: loading.update)
        loading.finish()
        // Build every trainer first: bad sizes and short corpora fail before any training starts.
        var runs: [(name: String, trainer: Trainer)] = []
        for cell in cells {
            let runName = name.map { cells.count > 1 ? "\($0)-\(cell.rawValue)" : $0 } ?? cell.rawValue
            let options = training.options(model: model.modelConfig(cell: cell), initialization: model.initialization(),
                                           threads: threadCount)
            let trainer = try Trainer(options: options, corpus: corpus)
            let words = training.corpus != nil && training.tokenization == .word
            trainer.corpusTokenization = words ? "word" : "char"
            trainer.corpusVocabLimit = words ? training.vocabSize ?? 10_000 : nil
            // 0 when the validation split is a file of its own.
            trainer.corpusValidFraction = training.valid == nil ? training.validFraction ?? 0.1 : 0
            trainer.corpusLag = training.corpus == nil ? training.lag ?? 8 : nil
            if let weights { try trainer.load(tensors: try loadWeights(path: weights), file: weights) }
            runs.append((runName, trainer))
        }
        let runDirectories = try runs.map { try prepareRunDirectory(outputDirectory, name: $0.name) }

        let printer = ProgressPrinter(names: runs.map(\.name), quiet: quiet)
        Interrupt.install()
        let command = Array(CommandLine.arguments.dropFirst())
        let records = RecordSlots(count: runs.count)
        let concurrent = max(1, min(threadCount, runs.count))
        // Cores left over after one per concurrent run go to each model's matrix multiplies.
        setComputeThreads(max(1, threadCount / concurrent))
        let queue = DispatchQueue(label: "diagnose.train", attributes: .concurrent)
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: concurrent)
        for (index, run) in runs.enumerated() {
            slots.wait()
            queue.async(group: group) {
                defer { slots.signal() }
                let record = run.trainer.run(name: run.name, command: command, toolVersion: Diagnose.version,
                                             progress: { printer.update(index: index, $0) },
                                             shouldStop: { Interrupt.requested })
                records.set(index, record)
            }
        }
        group.wait()
        printer.finish()

        let finished = records.values.map { $0! }
        for (index, run) in runs.enumerated() {
            let record = finished[index]
            try AtomicFile.write(RecordCoding.encode(record), to: runDirectories[index].appendingPathComponent("run.json"))
            try Safetensors.write(tensors: run.trainer.modelTensors(), metadata: ["format": "pt", "diagnose": Diagnose.version],
                                  to: runDirectories[index].appendingPathComponent("model.safetensors"))
            if let step = record.status.divergedAtStep, !quiet {
                printError("warning: \(run.name) diverged at step \(step) (\(record.status.divergenceReason ?? "non-finite")); "
                    + "the record keeps everything up to it. To train on, lower --lr, --clip or --spectral-radius.")
            }
        }
        // The report covers every run in the output folder, old and new.
        let all = ReportWriter.discoverRuns(in: outputDirectory)
        let summary = try ReportWriter.renderRuns(runDirectories: all, outputDirectory: outputDirectory,
                                                  options: output.renderOptions())
        if !quiet {
            print(SummaryTable.render(finished))
            print("report: \(summary.report.path)")
        }
        if finished.contains(where: { $0.status.interrupted }) { throw ExitCode(130) }
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

func validateRunName(_ name: String, flag: String) throws {
    guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), name != "compare" else {
        throw ValidationError("\(flag) \(name): must be a plain folder name (no '/', not '.', '..' or 'compare')")
    }
}

/// Creates <output>/<name>/ and proves it is writable before any training time is spent.
func prepareRunDirectory(_ output: URL, name: String) throws -> URL {
    let directory = output.appendingPathComponent(name)
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let probe = directory.appendingPathComponent(".write-test-\(getpid())")
        try Data().write(to: probe)
        try FileManager.default.removeItem(at: probe)
    } catch {
        throw CommandError.output(path: directory.path, reason: error.localizedDescription)
    }
    return directory
}

func loadWeights(path: String) throws -> [String: [Float]] {
    guard FileManager.default.fileExists(atPath: path) else { throw CommandError.missingInput(flag: "--weights", path: path) }
    let file = try Safetensors.read(from: URL(fileURLWithPath: path))
    return file.tensors.mapValues(\.values)
}

/// Ctrl-C asks the trainers to stop after the current step; a second Ctrl-C exits at once.
enum Interrupt {
    nonisolated(unsafe) static var requested = false

    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.requested { _exit(130) }
            Interrupt.requested = true
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
