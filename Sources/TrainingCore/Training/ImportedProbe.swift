import DiagnoseRecord
import Foundation

/// The run record of a model trained elsewhere: every probe on one given batch, no training.
public enum ImportedProbe {
    public struct Source: Sendable {
        public var weightsFile: String
        /// The file the batch came from (tokens JSON or corpus) and its bytes' SHA-256.
        public var batchFile: String
        public var batchSHA256: String
        /// Display strings for token ids, when a vocabulary was given.
        public var vocabulary: [String]?

        public init(weightsFile: String, batchFile: String, batchData: Data, vocabulary: [String]?) {
            self.weightsFile = weightsFile
            self.batchFile = batchFile
            batchSHA256 = SHA256.hex(batchData)
            self.vocabulary = vocabulary
        }
    }

    public static func record(model: LanguageModel, input: ProbeInput, source: Source, name: String,
                              command: [String], toolVersion: String) -> RunRecord {
        let batch = input.batch, c = model.config
        let config = RunConfig(cell: c.cell.rawValue, activation: c.cell == .rnn ? c.activation.rawValue : "tanh",
                               layers: c.layers, bidirectional: c.bidirectional, hidden: c.hidden, embed: c.embed,
                               batch: batch.batch, bptt: batch.steps, steps: 0, optimizer: "none", learningRate: 0, clip: 0,
                               seed: 0, initialization: "imported", spectralRadius: nil, forgetBias: 0, probeEvery: 1,
                               evalEvery: 1, tokenize: source.vocabulary == nil ? "ids" : "vocabulary", vocabSizeLimit: nil,
                               validFraction: 0, lag: nil, threads: Parallelism.threads, connections: c.connections)
        let tokens = batch.batch * (batch.steps + 1)
        let corpus = CorpusInfo(name: source.batchFile, synthetic: false, sha256: source.batchSHA256, tokens: tokens,
                                trainTokens: 0, validTokens: tokens, vocabularySize: c.vocabularySize)
        var record = RunRecord(tool: ToolInfo(version: toolVersion), name: name, command: command, config: config,
                               corpus: corpus, parameterCount: model.parameterCount,
                               parameters: model.layout.entries.map { ParameterInfo(name: $0.name, shape: $0.shape) })
        let probe = model.probe(batch, step: 0, keepActivations: true, workspace: Workspace(model: model), state: input.state)
        record.probes = [probe]
        record.probeTokens = (0..<batch.steps).map { t in
            let id = Int(batch.window[t * batch.batch])
            return source.vocabulary.map { $0[id] } ?? String(id)
        }
        let top = probe.layers.last { $0.direction == "forward" }
        let losses = probe.stepLosses.map { $0.reduce(0, +) / Double(max($0.count, 1)) }
        let loss = losses.reduce(0, +) / Double(max(losses.count, 1))
        record.summary = RunSummary(
            finalValidLoss: loss, finalValidPerplexity: Foundation.exp(loss), decayPerStep: top?.decayPerStep,
            horizon: top?.horizon, decayPerStepFirst: top?.decayPerStep, horizonFirst: top?.horizon,
            spectralRadiusFirst: top?.spectrum.whole.spectralRadius, spectralRadiusLast: top?.spectrum.whole.spectralRadius,
            gateSaturation: top.map { Dictionary(uniqueKeysWithValues: $0.gates.map { ($0.name, $0.saturated) }) },
            stepsCompleted: 0)
        record.summary.depthShareFirst = probe.firstLayerShare
        record.summary.depthShareLast = probe.firstLayerShare
        return record
    }
}
