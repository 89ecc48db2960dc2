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

    /// The largest --tokens or --vocab file read (a full batch of 4096 x 4097 ids is about 100 MB).
    static let maxBatchFileBytes = 512 << 20

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

    @Option(help: "The simple RNN's nonlinearity (tanh and relu weights look alike).")
    var activation = Activation.tanh

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
            guard FileManager.default.fileExists(atPath: checkpoints) else {
                throw CommandError.missingInput(flag: "--checkpoints", path: checkpoints)
            }
            files = try CheckpointSeries.files(inFolder: checkpoints)
        } else {
            for file in weights { try requireInputFile(file, flag: "--weights") }
            files = weights
        }
        if let tokens { try requireInputFile(tokens, flag: "--tokens") }
        if let vocab { try requireInputFile(vocab, flag: "--vocab") }
        if let corpus { try requireInputFile(corpus, flag: "--corpus") }
        if let metrics { try requireInputFile(metrics, flag: "--metrics") }
        // Every header, step and shape is checked, and the first model built, before any probe runs.
        let series = try CheckpointSeries(files: files)
        let options = ModelImport.Options(cell: cell, activation: activation, prefix: prefix,
                                          connections: residual ? .residual : nil)
        func load(_ file: String) throws -> LanguageModel {
            try ModelImport.model(from: try Safetensors.read(from: URL(fileURLWithPath: file)).tensors, file: file, options: options)
        }
        let model = try load(series.checkpoints[0].file)
        let (input, source) = try loadBatch(model: model, weightsFile: checkpoints ?? files[0])
        try MemoryEstimate.check(
            needed: MemoryEstimate.bytes(config: model.config, batch: input.batch.batch, steps: input.batch.steps, training: false)
                * Double(max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, series.checkpoints.count))),
            what: "probing this \(model.config.cell.rawValue) (H=\(model.config.hidden), \(model.config.layers) layer(s)) on "
                + "\(input.batch.batch) x \(input.batch.steps) tokens",
            advice: "give fewer or shorter rows (--tokens), a smaller --batch or --bptt, or --threads 1")
        let logged = try metrics.map { try TrainingMetrics.load(path: $0) }
        if let logged, let metrics, !logged.unknownColumns.isEmpty {
            printError("warning: --metrics \(metrics): column(s) \(logged.unknownColumns.prefix(8).joined(separator: ", ")) "
                + "are not used (known: \(TrainingMetrics.columns.joined(separator: ", ")))")
        }
        let runDirectory = outputDirectory.appendingPathComponent(name)
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let probes = try ImportedProbe.probes(of: series, options: options, input: input, threads: threadCount)
        let record = ImportedProbe.record(model: model, probes: probes, input: input, source: source, metrics: logged,
                                          threads: threadCount, name: name,
                                          command: Array(CommandLine.arguments.dropFirst()), toolVersion: Diagnose.version)
        // The last checkpoint's weights as read (float32, our names), so the report's link and --weights work.
        let last = series.checkpoints.count > 1 ? try load(series.checkpoints.last!.file) : model
        if let names = record.status.nonFiniteWeights, let first = names.first {
            printError("warning: \(checkpoints == nil ? "--weights" : "--checkpoints") \(series.checkpoints[0].file): tensor \(first)"
                + (names.count > 1 ? " (and \(names.count - 1) more)" : "")
                + " holds NaN or infinite values; the probe figures that depend on them are not numbers, and the record says so")
        }
        let weightsData = try Safetensors.encode(tensors: last.namedTensors().map {
            SafetensorsTensor(name: $0.entry.name, shape: $0.entry.shape, values: $0.values)
        }, metadata: ["format": "pt", "source": series.checkpoints.last!.file, "step": String(series.checkpoints.last!.step)])
        try writeRunFolder(NewRun(name: name, record: record, files: [("model.safetensors", weightsData)]), output: outputDirectory)
        let summary = try renderReport(output: outputDirectory, options: output.renderOptions()) {
            if !noTensorBoard { _ = try writeTensorBoardEvents(record, in: runDirectory) }
        }
        print("\(model.config.layers)-layer \(model.config.bidirectional ? "bidirectional " : "")\(model.config.cell.rawValue), "
            + "V=\(model.config.vocabularySize) E=\(model.config.embed) H=\(model.config.hidden); batch \(input.batch.batch) x \(input.batch.steps)")
        for probe in probes {
            guard let top = probe.topForward else { continue }
            let at = probes.count > 1 ? "step \(probe.step): " : ""
            print("\(at)decay per step \(format(top.decayPerStep, 3)), horizon \(top.horizon.map(String.init) ?? "beyond \(input.batch.steps)"), "
                + "spectral radius \(format(top.spectrum.whole.spectralRadius, 3))")
        }
        print("record: \(runDirectory.appendingPathComponent("run.json").path)")
        print("report: \(summary.report.path)")
        try GitHubActions.appendStepSummary(MarkdownSummary.runs([record], title: "diagnose probe"))
    }

    func loadBatch(model: LanguageModel, weightsFile weights: String) throws -> (ProbeInput, ImportedProbe.Source) {
        if let tokens {
            let data = try read(tokens, flag: "--tokens")
            let input = try ProbeInput.parse(data, file: tokens, model: model)
            return (input, ImportedProbe.Source(weightsFile: weights, batchFile: tokens, batchSHA256: SHA256.hex(data),
                                                      vocabulary: nil))
        }
        guard let corpus, let vocab else { throw ValidationError("--tokens FILE or --corpus FILE --vocab FILE: give the batch to probe") }
        guard let vocabulary = (try? JSONSerialization.jsonObject(with: try read(vocab, flag: "--vocab"))) as? [String],
              !vocabulary.isEmpty else {
            throw CommandError.badInput(flag: "--vocab", path: vocab, reason: "must be a JSON array of token strings (index = token id)")
        }
        guard vocabulary.count == model.config.vocabularySize else {
            throw CommandError.badInput(flag: "--vocab", path: vocab, reason: "has \(vocabulary.count) tokens but the model's "
                + "embedding has \(model.config.vocabularySize) rows")
        }
        let cut = try Corpus.probeBatch(path: corpus, vocabulary: vocabulary, tokenization: tokenize, batch: batch, steps: bptt)
        return (ProbeInput(batch: cut.batch),
                ImportedProbe.Source(weightsFile: weights, batchFile: corpus, batchSHA256: cut.sha256, vocabulary: vocabulary,
                                     tokenization: tokenize))
    }

    /// A batch or vocabulary file, bounded before it is read.
    func read(_ path: String, flag: String) throws -> Data {
        do { return try FileBytes.read(path, limit: Probe.maxBatchFileBytes) } catch {
            throw CommandError.badInput(flag: flag, path: path, reason: "cannot be read (\(error))")
        }
    }
}
