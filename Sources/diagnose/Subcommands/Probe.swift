import ArgumentParser
import DiagnoseRecord
import Foundation
import Renderer
import TrainingCore

/// `diagnose probe`: every probe of a model trained elsewhere (PyTorch safetensors) on one batch.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe a model trained in PyTorch: gradient flow, spectra, Jacobians and gates on one batch.",
        discussion: "Save the model with safetensors.torch.save_file(model.state_dict(), \"model.safetensors\") and a "
            + "batch as {\"tokens\": [[id, ...], ...]} (B rows of T + 1 ids, optional \"h0\"/\"c0\" as [layer][B][H]); "
            + "or give --corpus and --vocab to cut the batch from text. Several --weights files or --checkpoints DIR probe "
            + "checkpoints saved over training (step from metadata \"step\", else the last number in the name), and "
            + "--metrics adds the training loop's log. Writes <output>/<name>/run.json, its charts "
            + "and the report.")

    @Option(parsing: .upToNextOption,
            help: "The model's weights (safetensors; F32, F16, BF16 or F64); several files make a series over training.")
    var weights: [String] = []

    @Option(help: "A folder of checkpoints (every *.safetensors in it), probed as one run over training.")
    var checkpoints: String?

    @Option(help: "The training loop's metrics (JSON Lines or CSV: step, loss, grad_norm, clipped_grad_norm, lr, valid_loss).")
    var metrics: String?

    @Option(help: "Threads: checkpoints are probed concurrently. Default: all cores.")
    var threads: Int?

    @Option(help: "The probe batch as JSON: {\"tokens\": [[...], ...]}.")
    var tokens: String?

    @Option(help: "Text to cut the probe batch from (with --vocab).")
    var corpus: String?

    @Option(help: "The vocabulary as a JSON array of token strings, index = token id (with --corpus).")
    var vocab: String?

    @Option(help: "With --corpus: how text becomes tokens.")
    var tokenize = Tokenization.char

    @Option(parsing: .unconditional, help: "With --corpus: rows in the batch.")
    var batch: Int = 8

    @Option(parsing: .unconditional, help: "With --corpus: steps per row (T).")
    var bptt: Int = 32

    @Option(help: "The cell, when the shapes leave it open (they never do for rnn vs lstm vs gru; checked).")
    var cell: CellKind?

    @Option(help: "The simple RNN's nonlinearity (tanh and relu weights look alike). (default: tanh)")
    var activation: Activation?

    @Option(help: "The recurrent module's name prefix in the file, e.g. model.lstm. (default: rnn.).")
    var prefix: String?

    @Flag(help: "The layers are residual (y_l = h_l + y_(l-1)); shapes cannot tell. Dense stacks are recognised by their shapes.")
    var residual = false

    @Option(help: "Run folder name under --output.")
    var name: String = "imported"

    @OptionGroup var output: OutputFlags

    @Flag(name: .customLong("no-tensorboard"), help: "Do not write a TensorBoard event file in the run folder.")
    var noTensorBoard = false

    func validate() throws {
        if weights.isEmpty && checkpoints == nil {
            throw ValidationError("--weights FILE ... or --checkpoints DIR: give the model to probe")
        }
        if !weights.isEmpty && checkpoints != nil { throw ValidationError("--weights and --checkpoints: give one of them") }
        if let threads { try positive("--threads", threads, max: 256) }
        if tokens == nil && corpus == nil {
            throw ValidationError("--tokens FILE or --corpus FILE --vocab FILE: give the batch to probe")
        }
        if tokens != nil && corpus != nil { throw ValidationError("--tokens and --corpus: give one of them") }
        if corpus != nil && vocab == nil { throw ValidationError("--corpus needs --vocab (the model's vocabulary)") }
        try positive("--batch", batch, max: RecordLimits.maxBatch)
        try positive("--bptt", bptt, max: RecordLimits.maxSteps)
        try validateRunName(name, flag: "--name")
    }

    func run() throws {
        try output.renderOptions().validate()
        let outputDirectory = URL(fileURLWithPath: output.output)
        try checkOutput(outputDirectory, runNames: [name])
        let files: [String]
        if let checkpoints {
            try requireInputFile(checkpoints, flag: "--checkpoints", folder: true)
            files = try CheckpointSeries.files(inFolder: checkpoints)
        } else {
            for file in weights { try requireInputFile(file, flag: "--weights") }
            files = weights
        }
        if let tokens { try requireInputFile(tokens, flag: "--tokens") }
        if let vocab { try requireInputFile(vocab, flag: "--vocab") }
        if let corpus { try requireInputFile(corpus, flag: "--corpus") }
        if let metrics { try requireInputFile(metrics, flag: "--metrics") }
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let batchSource: ImportedProbe.BatchSource
        if let tokens {
            batchSource = .tokens(file: tokens)
        } else if let corpus, let vocab {
            batchSource = .text(file: corpus, vocabulary: vocab, tokenization: tokenize, batch: batch, steps: bptt)
        } else {
            throw ValidationError("--tokens FILE or --corpus FILE --vocab FILE: give the batch to probe")
        }
        let request = ImportedProbe.Request(files: files, weights: checkpoints ?? files[0],
                                            options: ModelImport.Options(cell: cell, activation: activation ?? .tanh, prefix: prefix,
                                                                         connections: residual ? .residual : nil),
                                            batch: batchSource, metrics: metrics, threads: threadCount)
        let weightsFlag = checkpoints == nil ? "--weights" : "--checkpoints"
        let job: ImportedProbe.Job
        do {
            job = try reading(flag: weightsFlag) { try ImportedProbe.Job(request) }
        } catch var refused as MemoryLimitError {
            refused.advice = "give fewer or shorter rows (--tokens), a smaller --batch or --bptt, or --threads 1"
            throw refused
        }
        if let activation, job.model.config.cell != .rnn {
            printError("warning: --activation \(activation.rawValue): only a simple RNN has a choice of nonlinearity; "
                + "this \(job.model.config.cell.rawValue) model ignores it")
        }
        if let logged = job.metrics, let metrics, !logged.unknownColumns.isEmpty {
            printError("warning: --metrics \(metrics): column(s) \(logged.unknownColumns.prefix(8).joined(separator: ", ")) "
                + "are not used (known: \(TrainingMetrics.columns.joined(separator: ", ")))")
        }
        let (record, weightsData) = try reading(flag: weightsFlag) {
            try job.run(name: name, command: Array(CommandLine.arguments.dropFirst()), toolVersion: Diagnose.version)
        }
        if let names = record.status.nonFiniteWeights, let first = names.first {
            printError("warning: \(weightsFlag) \(job.series.checkpoints[0].file): tensor \(first)"
                + (names.count > 1 ? " (and \(names.count - 1) more)" : "")
                + " holds NaN or infinite values; the probe figures that depend on them are not numbers, and the record says so")
        }
        let runDirectory = outputDirectory.appendingPathComponent(name)
        // Until here Ctrl-C stops at once and nothing is written. From here it waits until the run
        // folder and the report that draws it are whole (a run folder without its charts would leave
        // the old report pointing at missing images), then exits 130.
        Interrupt.install()
        try writeRunFolder(NewRun(name: name, record: record, files: [("model.safetensors", weightsData)]), output: outputDirectory)
        let summary = try renderReport(output: outputDirectory, options: output.renderOptions()) {
            if !noTensorBoard { _ = try writeTensorBoardEvents(record, in: runDirectory) }
        }
        let config = job.model.config, probed = job.input.batch
        print("\(config.layers)-layer \(config.bidirectional ? "bidirectional " : "")\(config.cell.rawValue), "
            + "V=\(config.vocabularySize) E=\(config.embed) H=\(config.hidden); batch \(probed.batch) x \(probed.steps)")
        let probes = record.probes
        for probe in probes {
            guard let top = probe.topForward else { continue }
            let at = probes.count > 1 ? "step \(probe.step): " : ""
            print("\(at)decay per step \(format(top.decayPerStep, 3)), horizon \(top.horizon.map(String.init) ?? "beyond \(probed.steps)"), "
                + "spectral radius \(format(top.spectrum.whole.spectralRadius, 3))")
        }
        print("record: \(runDirectory.appendingPathComponent("run.json").path)")
        print("report: \(summary.report.path)")
        try GitHubActions.appendStepSummary(MarkdownSummary.runs([record], title: "diagnose probe"))
        if Interrupt.requested { throw CommandError.interrupted("interrupted: the run and the report were written whole first") }
    }
}
