import DiagnoseRecord
import Dispatch
import Foundation

/// The run record of a model trained elsewhere: every probe on one given batch, no training here.
/// One checkpoint gives one probe; a series of checkpoints gives one probe at each checkpoint's
/// training step, and the training loop's logged metrics fill the training curves.
/// `Job` is the whole import for `diagnose probe`: built from a `Request` (the files and the batch),
/// it checks everything; `run` probes and returns the record and the weights to write.
public enum ImportedProbe {
    /// The largest batch or vocabulary file read (a full batch of 4096 x 4097 ids is about 100 MB).
    public static let maxBatchFileBytes = 512 << 20

    /// Where the probe batch comes from.
    public enum BatchSource: Sendable {
        /// Token ids as JSON: {"tokens": [[id, ...], ...]} (B rows of T + 1 ids), optional "h0"/"c0".
        case tokens(file: String)
        /// `batch` rows of `steps + 1` tokens cut from the start of a text, with the model's vocabulary
        /// (a JSON array of token strings, index = token id).
        case text(file: String, vocabulary: String, tokenization: Tokenization, batch: Int, steps: Int)
    }

    /// A model trained elsewhere to probe: one weights file, or checkpoints saved over training.
    public struct Request: Sendable {
        /// The checkpoint files; one file is one model.
        public var files: [String]
        /// What the record names as the weights: the checkpoint folder, or the one file.
        public var weights: String
        public var options: ModelImport.Options
        public var batch: BatchSource
        /// The training loop's metrics log (JSON Lines or CSV), if any.
        public var metrics: String?
        /// Checkpoints probed at once; spare threads go to each model's matrix multiplies.
        public var threads: Int

        public init(files: [String], weights: String, options: ModelImport.Options, batch: BatchSource,
                    metrics: String?, threads: Int) {
            (self.files, self.weights, self.options, self.batch) = (files, weights, options, batch)
            (self.metrics, self.threads) = (metrics, threads)
        }
    }

    /// A probe run checked and ready, the way a `Trainer` is before it trains: every header, step
    /// and shape of the series read, the first checkpoint's model built, the batch read against it,
    /// the memory checked and the metrics parsed, so bad input fails before any probe runs.
    public struct Job {
        public let series: CheckpointSeries
        /// The first checkpoint's model.
        public let model: LanguageModel
        public let input: ProbeInput
        /// The training loop's log; its `unknownColumns` are the caller's to warn about.
        public let metrics: TrainingMetrics?
        let source: Source
        let options: ModelImport.Options
        let threads: Int

        /// Errors: `InputFileError` for a checkpoint, batch, vocabulary or metrics file, `CorpusError`
        /// for the text, `SafetensorsError`, and `MemoryLimitError` when the probes would not fit.
        public init(_ request: Request) throws {
            series = try CheckpointSeries(files: request.files)
            (options, threads) = (request.options, request.threads)
            model = try ImportedProbe.model(series.checkpoints[0].file, options: options)
            (input, source) = try ImportedProbe.batch(request.batch, model: model, weights: request.weights)
            try MemoryEstimate.check(
                needed: MemoryEstimate.bytes(config: model.config, batch: input.batch.batch, steps: input.batch.steps,
                                             training: false) * Double(max(1, min(threads, series.checkpoints.count))),
                what: "probing this \(model.config.cell.rawValue) (H=\(model.config.hidden), \(model.config.layers) layer(s)) on "
                    + "\(input.batch.batch) x \(input.batch.steps) tokens",
                advice: "probe fewer or shorter rows, or fewer checkpoints at once")
            metrics = try request.metrics.map { try TrainingMetrics.load(path: $0) }
        }

        /// Probes every checkpoint and returns the run's record and the last checkpoint's weights as
        /// read (float32, our names, as safetensors), so the report's link and `--weights` work.
        public func run(name: String, command: [String], toolVersion: String) throws -> (record: RunRecord, weights: Data) {
            let probes = try ImportedProbe.probes(of: series, options: options, input: input, threads: threads)
            let record = ImportedProbe.record(model: model, probes: probes, input: input, source: source, metrics: metrics,
                                              threads: threads, name: name, command: command, toolVersion: toolVersion)
            let lastCheckpoint = series.checkpoints[series.checkpoints.count - 1]
            let last = series.checkpoints.count > 1 ? try ImportedProbe.model(lastCheckpoint.file, options: options) : model
            let weights = try Safetensors.encode(tensors: last.namedTensors().map {
                SafetensorsTensor(name: $0.entry.name, shape: $0.entry.shape, values: $0.values)
            }, metadata: ["format": "pt", "source": lastCheckpoint.file, "step": String(lastCheckpoint.step)])
            return (record, weights)
        }
    }

    static func model(_ file: String, options: ModelImport.Options) throws -> LanguageModel {
        try ModelImport.model(from: try Safetensors.read(from: URL(fileURLWithPath: file)).tensors, file: file, options: options)
    }

    /// The batch `source` names, checked against `model`, and where it came from.
    static func batch(_ source: BatchSource, model: LanguageModel, weights: String) throws -> (ProbeInput, Source) {
        switch source {
        case let .tokens(file):
            let data = try read(file, kind: .batch)
            let input = try ProbeInput.parse(data, file: file, model: model)
            return (input, Source(weightsFile: weights, batchFile: file, batchSHA256: SHA256.hex(data), vocabulary: nil))
        case let .text(file, vocabularyFile, tokenization, batch, steps):
            // A file that cannot be read says why, not that it is not JSON.
            let parsed: Any
            do { parsed = try JSONText.parse(try read(vocabularyFile, kind: .vocabulary)) } catch let invalid as JSONText.Invalid {
                throw InputFileError(kind: .vocabulary, file: vocabularyFile, problem: "is not valid JSON (\(invalid.reason)); "
                    + "it must be a JSON array of token strings (index = token id)")
            }
            guard let vocabulary = parsed as? [String], !vocabulary.isEmpty else {
                throw InputFileError(kind: .vocabulary, file: vocabularyFile,
                                     problem: "must be a JSON array of token strings (index = token id)")
            }
            guard vocabulary.count == model.config.vocabularySize else {
                throw InputFileError(kind: .vocabulary, file: vocabularyFile, problem: "has \(vocabulary.count) tokens but the "
                    + "model's embedding has \(model.config.vocabularySize) rows")
            }
            let cut = try Corpus.probeBatch(path: file, vocabulary: vocabulary, tokenization: tokenization, batch: batch, steps: steps)
            return (ProbeInput(batch: cut.batch),
                    Source(weightsFile: weights, batchFile: file, batchSHA256: cut.sha256, vocabulary: vocabulary,
                           tokenization: tokenization))
        }
    }

    /// A batch or vocabulary file, bounded before it is read.
    static func read(_ file: String, kind: InputFileError.Kind) throws -> Data {
        do { return try FileBytes.read(file, limit: maxBatchFileBytes) } catch {
            throw InputFileError(kind: kind, file: file, problem: "cannot be read (\(error))")
        }
    }

    public struct Source: Sendable {
        public var weightsFile: String
        /// The file the batch came from (tokens JSON or corpus) and its bytes' SHA-256.
        public var batchFile: String
        public var batchSHA256: String
        /// Display strings for token ids, when a vocabulary was given.
        public var vocabulary: [String]?
        /// How the batch's text became tokens; nil when it was given as token ids.
        public var tokenization: Tokenization?

        public init(weightsFile: String, batchFile: String, batchSHA256: String, vocabulary: [String]?,
                    tokenization: Tokenization? = nil) {
            (self.weightsFile, self.batchFile, self.batchSHA256) = (weightsFile, batchFile, batchSHA256)
            (self.vocabulary, self.tokenization) = (vocabulary, tokenization)
        }
    }

    /// Probes every checkpoint of `series` on `input`, up to `threads` checkpoints at once (each
    /// with its own model and workspace; spare threads go to each model's matrix multiplies).
    /// Every probe is the one `probe` of that checkpoint alone gives, bit for bit, whatever
    /// `threads` is. The first and last probes keep the gate activations. Errors: the one of the
    /// earliest failing checkpoint.
    public static func probes(of series: CheckpointSeries, options: ModelImport.Options, input: ProbeInput,
                              threads: Int) throws -> [ProbeRecord] {
        let checkpoints = series.checkpoints
        let count = checkpoints.count
        let concurrent = max(1, min(threads, count))
        let modelThreads = ComputeThreads(threads / concurrent)
        let results = ConcurrentSlots<Result<ProbeRecord, Error>>(count: count)
        let queue = DispatchQueue(label: "diagnose.checkpoints", attributes: .concurrent)
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: concurrent)
        for (index, checkpoint) in checkpoints.enumerated() {
            slots.wait()
            if results.hasFailure() { slots.signal(); break }
            queue.async(group: group) {
                defer { slots.signal() }
                do {
                    let file = try Safetensors.read(from: URL(fileURLWithPath: checkpoint.file))
                    let model = try ModelImport.model(from: file.tensors, file: checkpoint.file, options: options)
                    let probe = model.probe(input.batch, step: checkpoint.step, keepActivations: index == 0 || index == count - 1,
                                            workspace: Workspace(model: model, threads: modelThreads), state: input.state)
                    results.set(index, .success(probe))
                } catch {
                    results.set(index, .failure(error))
                }
            }
        }
        group.wait()
        var probes: [ProbeRecord] = []
        for result in results.values {
            switch result {
            case .success(let probe)?: probes.append(probe)
            case .failure(let error)?: throw error
            case nil: break  // not started after an earlier failure; that failure is thrown first
            }
        }
        return probes
    }

    /// The record of `probes` (ordered by step) of checkpoints of `model`'s architecture, with the
    /// training loop's `metrics` when given; `threads` as given to `probes(of:)`.
    public static func record(model: LanguageModel, probes: [ProbeRecord], input: ProbeInput, source: Source,
                              metrics: TrainingMetrics? = nil, threads: Int, name: String, command: [String],
                              toolVersion: String) -> RunRecord {
        let batch = input.batch, c = model.config
        let lastStep = max(probes.last?.step ?? 0, metrics?.steps.last?.step ?? 0, metrics?.evaluations.last?.step ?? 0)
        let firstRate = metrics?.steps.first { $0.learningRate.isFinite }?.learningRate ?? 0
        let config = RunConfig(cell: c.cell, activation: c.cell == .rnn ? c.activation : .tanh,
                               layers: c.layers, bidirectional: c.bidirectional, hidden: c.hidden, embed: c.embed,
                               batch: batch.batch, bptt: batch.steps, steps: lastStep, optimizer: nil,
                               learningRate: firstRate, clip: metrics?.impliedClipThreshold ?? 0,
                               seed: 0, initialization: nil, spectralRadius: nil, forgetBias: 0,
                               probeEvery: probeSpacing(probes), evalEvery: 1,
                               tokenize: source.tokenization, vocabSizeLimit: nil,
                               validFraction: 0, lag: nil, threads: threads, connections: c.connections)
        let tokens = batch.batch * (batch.steps + 1)
        let corpus = CorpusInfo(name: source.batchFile, synthetic: false, sha256: source.batchSHA256, tokens: tokens,
                                trainTokens: 0, validTokens: tokens, vocabularySize: c.vocabularySize)
        var record = RunRecord(tool: ToolInfo(version: toolVersion), name: name, command: command,
                               origin: .imported(weights: source.weightsFile), config: config,
                               corpus: corpus, parameterCount: model.parameterCount,
                               parameters: model.layout.entries.map { ParameterInfo(name: $0.name, shape: $0.shape) })
        let nonFinite = model.nonFiniteTensorNames()
        if !nonFinite.isEmpty { record.status.nonFiniteWeights = nonFinite }
        record.probes = probes
        record.steps = metrics?.steps ?? []
        record.evaluations = metrics?.evaluations ?? []
        record.probeTokens = (0..<batch.steps).map { t in
            let id = Int(batch.window[t * batch.batch])
            return source.vocabulary.map { $0[id] } ?? String(id)
        }
        // Without logged validation losses, the probe batch's mean loss at the last checkpoint.
        let probeLoss = probes.last.map { probe -> Double in
            let losses = probe.stepLosses.map { $0.reduce(0, +) / Double(max($0.count, 1)) }
            return losses.reduce(0, +) / Double(max(losses.count, 1))
        }
        let validLoss = record.evaluations.last?.validLoss ?? probeLoss
        let recent = record.steps.suffix(50).map(\.loss).filter(\.isFinite)
        let trainLoss = recent.isEmpty ? nil : recent.reduce(0, +) / Double(recent.count)
        record.summary = RunSummary(
            finalTrainLoss: trainLoss, finalTrainPerplexity: trainLoss.map { Foundation.exp($0) },
            finalValidLoss: validLoss, finalValidPerplexity: validLoss.map { Foundation.exp($0) },
            clippedFraction: metrics?.hasClipping == true && !record.steps.isEmpty
                ? Double(record.steps.filter(\.clipped).count) / Double(record.steps.count) : nil,
            stepsCompleted: lastStep)
        record.summary.read(probes: probes)
        return record
    }

    /// The smallest gap between consecutive probes (1 for a single probe).
    static func probeSpacing(_ probes: [ProbeRecord]) -> Int {
        zip(probes, probes.dropFirst()).map { $1.step - $0.step }.min() ?? 1
    }
}
