import DiagnoseRecord
import Dispatch
import Foundation

/// The run record of a model trained elsewhere: every probe on one given batch, no training here.
/// One checkpoint gives one probe; a series of checkpoints gives one probe at each checkpoint's
/// training step, and the training loop's logged metrics fill the training curves.
public enum ImportedProbe {
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
