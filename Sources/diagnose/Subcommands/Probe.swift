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
            + "or give --corpus and --vocab to cut the batch from text. Writes <output>/<name>/run.json, its charts "
            + "and the report.")

    /// The largest --tokens or --vocab file read (a full batch of 4096 x 4097 ids is about 100 MB).
    static let maxBatchFileBytes = 512 << 20

    @Option(help: "The model's weights (safetensors; F32, F16, BF16 or F64).")
    var weights: String

    @Option(help: "The probe batch as JSON: {\"tokens\": [[...], ...]}.")
    var tokens: String?

    @Option(help: "Text to cut the probe batch from (with --vocab).")
    var corpus: String?

    @Option(help: "The vocabulary as a JSON array of token strings, index = token id (with --corpus).")
    var vocab: String?

    @Option(help: "With --corpus: how text becomes tokens, char or word.")
    var tokenize: String = "char"

    @Option(parsing: .unconditional, help: "With --corpus: rows in the batch.")
    var batch: Int = 8

    @Option(parsing: .unconditional, help: "With --corpus: steps per row (T).")
    var bptt: Int = 32

    @Option(help: "The cell, when the shapes leave it open (they never do for rnn vs lstm vs gru; checked).")
    var cell: String?

    @Option(help: "The simple RNN's nonlinearity (tanh and relu weights look alike): tanh, relu or linear.")
    var activation: String = "tanh"

    @Option(help: "The recurrent module's name prefix in the file, e.g. model.lstm. (default: rnn.).")
    var prefix: String?

    @Option(help: "Run folder name under --output.")
    var name: String = "imported"

    @OptionGroup var output: OutputFlags

    func validate() throws {
        if tokens == nil && corpus == nil {
            throw ValidationError("--tokens FILE or --corpus FILE --vocab FILE: give the batch to probe")
        }
        if tokens != nil && corpus != nil { throw ValidationError("--tokens and --corpus: give one of them") }
        if corpus != nil && vocab == nil { throw ValidationError("--corpus needs --vocab (the model's vocabulary)") }
        if let cell, CellKind(rawValue: cell) == nil { throw ValidationError("--cell \(cell): use rnn, lstm or gru") }
        guard Activation(rawValue: activation) != nil else {
            throw ValidationError("--activation \(activation): use tanh, relu or linear")
        }
        guard Tokenization(rawValue: tokenize) != nil else { throw ValidationError("--tokenize \(tokenize): use char or word") }
        try positive("--batch", batch, max: RecordLimits.maxBatch)
        try positive("--bptt", bptt, max: RecordLimits.maxSteps)
        try validateRunName(name, flag: "--name")
    }

    func run() throws {
        try reportingErrors(execute)
    }

    func execute() throws {
        try output.renderOptions().validate()
        let outputDirectory = URL(fileURLWithPath: output.output)
        try checkOutput(outputDirectory, runNames: [name])
        try requireInputFile(weights, flag: "--weights")
        if let tokens { try requireInputFile(tokens, flag: "--tokens") }
        if let vocab { try requireInputFile(vocab, flag: "--vocab") }
        if let corpus { try requireInputFile(corpus, flag: "--corpus") }
        let file = try Safetensors.read(from: URL(fileURLWithPath: weights))
        let model = try ModelImport.model(
            from: file.tensors, file: weights,
            options: ModelImport.Options(cell: cell.flatMap(CellKind.init(rawValue:)),
                                         activation: Activation(rawValue: activation)!, prefix: prefix))
        let (input, source) = try loadBatch(model: model)
        try MemoryEstimate.check(
            needed: MemoryEstimate.bytes(config: model.config, batch: input.batch.batch, steps: input.batch.steps, training: false),
            what: "probing this \(model.config.cell.rawValue) (H=\(model.config.hidden), \(model.config.layers) layer(s)) on "
                + "\(input.batch.batch) x \(input.batch.steps) tokens",
            advice: "give fewer or shorter rows (--tokens), or a smaller --batch or --bptt")
        let nonFinite = model.nonFiniteTensorNames()
        if let first = nonFinite.first {
            printError("warning: --weights \(weights): tensor \(first)" + (nonFinite.count > 1 ? " (and \(nonFinite.count - 1) more)" : "")
                + " holds NaN or infinite values; the probe figures that depend on them are not numbers, and the record says so")
        }
        let record = ImportedProbe.record(model: model, input: input, source: source, name: name,
                                          command: Array(CommandLine.arguments.dropFirst()), toolVersion: Diagnose.version)
        // The weights as read (float32, our names), so the report's link and --weights work.
        let weightsData = try Safetensors.encode(tensors: model.namedTensors().map {
            SafetensorsTensor(name: $0.entry.name, shape: $0.entry.shape, values: $0.values)
        }, metadata: ["format": "pt", "source": weights])
        let summary = try publish([NewRun(name: name, record: record, files: [("model.safetensors", weightsData)])],
                                  output: outputDirectory, options: output.renderOptions())
        let runDirectory = outputDirectory.appendingPathComponent(name)
        let top = record.probes[0].layers.last { $0.direction == "forward" }!
        print("\(model.config.layers)-layer \(model.config.bidirectional ? "bidirectional " : "")\(model.config.cell.rawValue), "
            + "V=\(model.config.vocabularySize) E=\(model.config.embed) H=\(model.config.hidden); batch \(input.batch.batch) x \(input.batch.steps)")
        print("decay per step \(format(top.decayPerStep, 3)), horizon \(top.horizon.map(String.init) ?? "beyond \(input.batch.steps)"), "
            + "spectral radius \(format(top.spectrum.whole.spectralRadius, 3))")
        print("record: \(runDirectory.appendingPathComponent("run.json").path)")
        print("report: \(summary.report.path)")
    }

    func loadBatch(model: LanguageModel) throws -> (ProbeInput, ImportedProbe.Source) {
        if let tokens {
            let data: Data
            do { data = try FileBytes.read(tokens, limit: Probe.maxBatchFileBytes) } catch {
                throw ProbeInputError(file: tokens, problem: "cannot be read (\(error))")
            }
            let input = try ProbeInput.parse(data, file: tokens, model: model)
            return (input, ImportedProbe.Source(weightsFile: weights, batchFile: tokens, batchData: data, vocabulary: nil))
        }
        let vocabData: Data
        do { vocabData = try FileBytes.read(vocab!, limit: Probe.maxBatchFileBytes) } catch {
            throw ProbeInputError(file: vocab!, problem: "cannot be read (\(error))")
        }
        guard let vocabulary = (try? JSONSerialization.jsonObject(with: vocabData)) as? [String], !vocabulary.isEmpty else {
            throw ProbeInputError(file: vocab!, problem: "must be a JSON array of token strings (index = token id)")
        }
        guard vocabulary.count == model.config.vocabularySize else {
            throw ProbeInputError(file: vocab!, problem: "has \(vocabulary.count) tokens but the model's embedding has "
                + "\(model.config.vocabularySize) rows")
        }
        let text = try Corpus.load(path: corpus!, tokenization: Tokenization(rawValue: tokenize)!, vocabSizeLimit: nil,
                                   validFraction: 0.5)
        var index: [String: Int] = [:]
        for (i, token) in vocabulary.enumerated() { index[token] = i }
        let unknown = index["<unk>"]
        var ids: [[Int]] = []
        var position = 0
        let pieces = text.tokens.map { text.vocabulary[Int($0)] }
        for _ in 0..<batch {
            guard position + bptt + 1 <= pieces.count else {
                throw CorpusError.tooShort(name: corpus!, split: "whole", have: pieces.count, need: batch * (bptt + 1))
            }
            ids.append(try pieces[position...(position + bptt)].map { piece in
                guard let id = index[piece] ?? unknown else {
                    throw ProbeInputError(file: corpus!, problem: "token \"\(piece)\" is not in --vocab \(vocab!) (and it has no <unk>)")
                }
                return id
            })
            position += bptt + 1
        }
        let json = try JSONSerialization.data(withJSONObject: ["tokens": ids])
        let input = try ProbeInput.parse(json, file: corpus!, model: model)
        let corpusData = (try? Data(contentsOf: URL(fileURLWithPath: corpus!))) ?? Data()
        return (input, ImportedProbe.Source(weightsFile: weights, batchFile: corpus!, batchData: corpusData, vocabulary: vocabulary))
    }
}
