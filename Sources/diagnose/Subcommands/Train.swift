import ArgumentParser
import DiagnoseRecord
import Dispatch
import Foundation
import Renderer
import Synchronization
import TrainingCore

/// `diagnose` / `diagnose train`: train each cell, write its run record, weights, charts and the report.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one or more cells and write run records, weights, charts and the HTML report (the default).")

    @OptionGroup var model: ModelFlags
    @OptionGroup var training: TrainingFlags
    @OptionGroup var output: OutputFlags

    @Option(help: "Run folder name under --output (default: the cell name; with several cells or lists, the prefix of each folder).")
    var name: String?

    @Option(help: "Continue training from a model.safetensors written by diagnose (or PyTorch with our names).")
    var weights: String?

    @Flag(name: .customLong("ignore-extra-tensors"),
          help: "With --weights: load this model's tensors and ignore others in the file (refused by default).")
    var ignoreExtraTensors = false

    @Option(parsing: .unconditional, help: "Threads: runs train concurrently when there are cores to spare. Default: all cores.")
    var threads: Int?

    @Option(help: "Run only the K-th of N deterministic slices of the run list (K/N, e.g. 2/3), for spreading a sweep over machines.")
    var shard: Shard?

    @Flag(name: .customLong("dry-run"), help: "Print the runs (folder and flags, one per line) and exit without training.")
    var dryRun = false

    @Flag(help: "Run even when the lists make more than \(RunPlan.confirmationLimit) runs.")
    var yes = false

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @Flag(name: .customLong("no-tensorboard"), help: "Do not write a TensorBoard event file in each run folder.")
    var noTensorBoard = false

    func validate() throws {
        if let threads { try positive("--threads", threads, max: 256) }
        if let name { try validateRunName(name, flag: "--name") }
        try shard?.check()
        if ignoreExtraTensors && weights == nil { throw ValidationError("--ignore-extra-tensors: only with --weights") }
    }

    /// The runs this command makes (after `--shard`), with the folder names of the whole plan.
    func plannedRuns() throws -> [PlannedRun] {
        let cells = model.cells
        let all = try RunPlan.expand(cells: cells, lists: model.lists + training.lists, name: name, confirmed: yes || dryRun)
        for run in all { try validateRunName(run.name, flag: "--name") }
        return RunPlan.shard(all, shard)
    }

    func run() throws {
        Interrupt.install()
        let planned = try plannedRuns()
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let concurrent = max(1, min(threadCount, planned.count))
        if dryRun {
            // The plan is printed only when every run of it could start: what needs no data is checked,
            // and the memory with a one-token vocabulary (a refusal then is certain with the real one).
            let jobs = planned.map { TrainingJob(run: $0, model: model.picking($0), training: training.picking($0)) }
            for job in jobs { try job.options().checkCompatible() }
            try checkMemory(jobs, concurrent: concurrent) { _ in 1 }
            for run in planned { print(([run.name] + run.flags).joined(separator: " ")) }
            return
        }
        guard !planned.isEmpty else {
            if !quiet, let shard { printError("shard \(shard.index)/\(shard.count) holds no runs: the plan has fewer runs than shards") }
            return
        }
        let outputDirectory = URL(fileURLWithPath: output.output)
        try output.renderOptions().validate()
        if let weights { try requireInputFile(weights, flag: "--weights") }
        // A FIFO or device as --corpus would block or mislead the reader: refused by kind first.
        if let corpus = training.corpus { try requireInputFile(corpus, flag: "--corpus") }
        // Every path the runs will write is checked before any training time is spent.
        try checkOutput(outputDirectory, runNames: planned.map(\.name))
        if !quiet { for warning in training.ineffectiveFlags() { printError("warning: \(warning)") } }
        let weightTensors = try weights.map { try loadWeights(path: $0) }
        let arguments = Array(CommandLine.arguments.dropFirst())
        let corpora = CorpusCache(quiet: quiet)
        // Build every trainer once before training: bad sizes and short corpora fail before any
        // training starts. They are built again when their turn comes, so memory holds only the runs
        // in flight.
        // Cores left over after one per concurrent run go to each model's matrix multiplies.
        let computeThreads = max(1, threadCount / concurrent)
        let jobs = planned.map { run in
            TrainingJob(run: run, model: model.picking(run), training: training.picking(run), weights: weights,
                        weightTensors: weightTensors, ignoreExtraTensors: ignoreExtraTensors, threads: computeThreads,
                        command: RunPlan.command(for: run, arguments: arguments))
        }
        // Checked before any model is built.
        try checkMemory(jobs, concurrent: concurrent) { try corpora.corpus(for: $0.training).vocabularySize }
        for job in jobs { _ = try job.makeTrainer(corpora) }

        let progress = RunProgress(names: jobs.map(\.run.name), concurrent: concurrent, quiet: quiet)
        let records = ConcurrentSlots<RunRecord>(count: jobs.count)
        let failures = ErrorSlots()
        // Each worker takes the next run until none are left or Ctrl-C. Several workers take the
        // costliest first: the runs that start last are then the short ones, so no core waits long
        // for the last run to end. One worker keeps the plan's order.
        let order = concurrent == 1 ? Array(jobs.indices)
            : jobs.indices.sorted { a, b in jobs[a].cost != jobs[b].cost ? jobs[a].cost > jobs[b].cost : a < b }
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: concurrent) { _ in
            while !Interrupt.requested, failures.first == nil, let position = next.take(below: jobs.count) {
                let index = order[position]
                do {
                    let job = jobs[index]
                    let trainer = try job.makeTrainer(corpora)
                    progress.started(index)
                    let record = trainer.run(name: job.run.name, command: job.command, toolVersion: Diagnose.version,
                                             progress: { progress.update(index: index, $0) },
                                             shouldStop: { Interrupt.requested })
                    // Written as soon as it is done, its folder whole: Ctrl-C later keeps every finished run.
                    let weights = try Safetensors.encode(tensors: trainer.modelTensors(),
                                                         metadata: ["format": "pt", "diagnose": Diagnose.version])
                    try writeRunFolder(NewRun(name: job.run.name, record: record, files: [("model.safetensors", weights)]),
                                       output: outputDirectory)
                    records.set(index, record)
                    progress.finished(index, record)
                } catch {
                    failures.record(error)
                }
            }
        }
        progress.finish()
        if let error = failures.first { throw error }

        let finished = records.values.compactMap { $0 }
        for record in finished {
            if let step = record.status.divergedAtStep, !quiet {
                printError("warning: \(record.name) diverged at step \(step) (\(record.status.divergenceReason ?? "non-finite")); "
                    + "the record keeps everything up to it. To train on, lower --lr, --clip or --spectral-radius.")
            }
        }
        annotateDivergence(finished)
        let skipped = jobs.count - finished.count
        if skipped > 0 && !quiet {
            printError("interrupted: \(finished.count) of \(jobs.count) runs written; \(skipped) not started "
                + "(run the same command again with --dry-run to see the list)")
        }
        // The report covers every run in the output folder, old and new.
        let summary = try renderReport(output: outputDirectory, options: output.renderOptions()) {
            // TensorBoard events after the charts, which they carry as images; one run per core.
            if !noTensorBoard {
                let written = records.values
                let failures = ErrorSlots()
                DispatchQueue.concurrentPerform(iterations: written.count) { index in
                    guard let record = written[index] else { return }
                    do {
                        _ = try writeTensorBoardEvents(record, in: outputDirectory.appendingPathComponent(jobs[index].run.name))
                    } catch {
                        failures.record(error)
                    }
                }
                if let error = failures.first { throw error }
            }
        }
        if !quiet {
            print(SummaryTable.render(finished))
            print("report: \(summary.report.path)")
        }
        try GitHubActions.appendStepSummary(MarkdownSummary.runs(finished))
        if Interrupt.requested || finished.contains(where: { $0.status.interrupted }) { throw CommandError.interrupted(nil) }
    }
}

/// The `concurrent` costliest of `jobs`, which train at once, must fit in memory together.
func checkMemory(_ jobs: [TrainingJob], concurrent: Int, vocabularySize: (TrainingJob) throws -> Int) throws {
    let needs = try jobs.map { job -> Double in
        var config = job.model.modelConfig(cell: job.run.cell)
        config.vocabularySize = try vocabularySize(job)
        return MemoryEstimate.bytes(config: config, batch: job.training.batch.value, steps: job.training.bptt.value,
                                    training: true)
    }
    try MemoryEstimate.check(needed: needs.sorted(by: >).prefix(concurrent).reduce(0, +),
                             what: concurrent > 1 ? "training \(concurrent) models at once" : "training this model",
                             advice: "lower --hidden, --layers, --batch, --bptt or --vocab-size"
                                + (concurrent > 1 ? ", or train one run at a time (--threads 1)" : ""))
}

/// One run of the plan, ready to build its trainer.
struct TrainingJob {
    var run: PlannedRun
    var model: ModelFlags
    var training: TrainingFlags
    var weights: String? = nil
    var weightTensors: [String: SafetensorsTensor]? = nil
    var ignoreExtraTensors = false
    var threads = 1
    var command: [String] = []

    /// Roughly the multiply-adds of the recurrent layers over the whole run: enough to order runs
    /// by how long they take.
    var cost: Double {
        let hidden = Double(model.hidden.value), embed = Double(model.embed.value)
        let layers = Double(model.layers.value) * (model.bidirectional ? 2 : 1)
        let perStep = Double(run.cell.gateCount) * hidden * (embed + hidden) * layers * Double(training.batch.value * training.bptt.value)
        return perStep * Double(training.steps ?? 1500) * Double(training.epochs ?? 1)
    }

    /// The run's training options (its model, initialisation and training flags).
    func options() -> TrainingOptions {
        training.options(model: model.modelConfig(cell: run.cell), initialization: model.initialization(), threads: threads)
    }

    func makeTrainer(_ corpora: CorpusCache) throws -> Trainer {
        let trainer = try Trainer(options: options(), corpus: try corpora.corpus(for: training))
        if let weights, let weightTensors {
            try trainer.load(tensors: weightTensors, file: weights, ignoreExtra: ignoreExtraTensors)
        }
        return trainer
    }
}

/// Corpora by the flags that make them (a text file once; the synthetic corpus per seed and lag).
final class CorpusCache: @unchecked Sendable {
    private var corpora: [String: Corpus] = [:]
    private let lock = NSLock()
    private let quiet: Bool

    init(quiet: Bool) { self.quiet = quiet }

    func corpus(for flags: TrainingFlags) throws -> Corpus {
        let key = flags.corpus == nil ? "synthetic \(flags.seed.value) \(flags.lags.value)" : "file"
        lock.lock()
        defer { lock.unlock() }
        if let corpus = corpora[key] { return corpus }
        let loading = CorpusLoadPrinter(quiet: quiet)
        let corpus = try flags.loadCorpus(progress: loading.update)
        loading.finish()
        corpora[key] = corpus
        return corpus
    }
}

/// Hands out 0, 1, 2 ... to concurrent workers.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

/// The first error a worker hit.
final class ErrorSlots: @unchecked Sendable {
    private var error: Error?
    private let lock = NSLock()
    func record(_ error: Error) {
        lock.lock()
        if self.error == nil { self.error = error }
        lock.unlock()
    }
    var first: Error? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}

/// Where things are written and how charts are drawn.
struct OutputFlags: ParsableArguments {
    @Option(help: "Folder for run folders, comparison charts and report.html.")
    var output: String = "output"

    @Option(help: "TrueType font for the charts (default: DejaVu Sans from the system).")
    var font: String?

    func validate() throws {
        try requireNonEmptyPath(output, flag: "--output")
        if let font { try requireNonEmptyPath(font, flag: "--font") }
    }

    func renderOptions() -> RenderOptions {
        var options = RenderOptions()
        options.fontPath = font
        return options
    }
}

/// An empty path (an unset shell variable, `--output "$OUT"`) would mean the current folder;
/// it is refused rather than written into.
func requireNonEmptyPath(_ path: String, flag: String) throws {
    guard path.isEmpty else { return }
    throw ValidationError("\(flag) is empty; give a path (\(flag) . for the current folder)")
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
    return try reading(flag: "--weights") { try Safetensors.read(from: URL(fileURLWithPath: path)).tensors }
}

private let runFolderWriter = NSLock()

/// A run that finished and is about to be written: its record and the other files of its folder.
struct NewRun {
    var name: String
    var record: RunRecord
    var files: [(name: String, data: Data)]
}

/// Writes one run's folder whole, under the output folder's lock: its files are staged in a hidden
/// folder that then replaces `<output>/<name>/`, so the folder never holds one run's record beside
/// another run's model, and a failure (a full disk) leaves the previous run as it was.
func writeRunFolder(_ run: NewRun, output: URL) throws {
    // The folder lock keeps other processes out; this one keeps this process's workers from
    // queueing on it (and from reporting each other as "another diagnose").
    runFolderWriter.lock()
    defer { runFolderWriter.unlock() }
    let folder = try OutputFolder(output, waiting: { printError("note: \($0)") })
    defer { folder.unlock() }
    let stage = try folder.stageRun(named: run.name)
    defer { stage.discard() }
    try stage.write(RecordCoding.encode(run.record), as: ReportWriter.recordFileName)
    for file in run.files { try stage.write(file.data, as: file.name) }
    try stage.commit()
}

/// Redraws every run in the output folder and writes the report, under the output folder's lock
/// (a run whose record cannot be read is left out with a warning); `then` runs under the same lock,
/// for files derived from the charts.
func renderReport(output: URL, options: RenderOptions, then: () throws -> Void = {}) throws -> ReportSummary {
    let folder = try OutputFolder(output, waiting: { printError("note: \($0)") })
    defer { folder.unlock() }
    let summary = try ReportWriter.renderRuns(runDirectories: ReportWriter.discoverRuns(in: output), outputDirectory: output,
                                              options: options, skipUndrawable: true)
    for message in summary.skipped { printError("warning: left out of the report: \(message)") }
    try then()
    return summary
}

/// Ctrl-C or SIGTERM asks the trainers to stop after the current step; a second one exits at
/// once (its temporaries are removed by the next run in that folder).
enum Interrupt {
    /// Set by the signal handler (an atomic exchange is async-signal-safe), read by the trainers.
    private static let flag = Atomic<Bool>(false)

    static var requested: Bool { flag.load(ordering: .relaxed) }

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
                if Interrupt.flag.exchange(true, ordering: .relaxed) { _exit(130) }
            }
        }
    }
}
