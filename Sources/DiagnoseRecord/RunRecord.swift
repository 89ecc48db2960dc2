// The run record: everything a training run (or a probe of an imported model) found,
// written as `run.json`. It is the only thing that crosses from TrainingCore to Renderer,
// so a picture can always be redrawn from the JSON alone, on another machine.
//
// Conventions
// - Shape letters: B batch, T steps per window (bptt), H hidden units, V vocabulary.
// - Non-finite numbers are written as the JSON strings "NaN", "Infinity" and "-Infinity"
//   (JSON has no NaN); `RecordCoding` configures encoder and decoder for that.
// - `gradientFlow[t][j]` is stored as a lower-triangular ragged array: row t holds j = 0...t.
// - Words such as the cell, the activation or a layer's direction are the enums of
//   Vocabulary.swift; their raw values are what the JSON holds. A backward direction reads its
//   window reversed, so its step index counts in its own processing order (index 0 is the
//   window's last token) and every lag is still t - j >= 0.
// - Fields added after schema 1 are optional or have a stated default when absent, so every
//   record written before still loads (see `origin`, `corpus.recall` and `LegacyPlaceholders`).
//
// Bump `RunRecord.currentSchemaVersion` whenever a field changes meaning or is removed.

import Foundation

public struct RunRecord: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var tool: ToolInfo
    /// The run's folder name under the output directory (`lstm`, `rnn`, or `--name`).
    public var name: String
    /// The command line that made this run, argv[1...]. For people: no module reads facts from it.
    public var command: [String]
    /// Where the weights came from. Records written before this field are read as `trained`, or
    /// as `continued` / `imported` when their command line says so.
    public var origin: RunOrigin
    public var config: RunConfig
    public var corpus: CorpusInfo
    public var parameterCount: Int
    /// PyTorch-style parameter names and shapes, in the order the model stores them.
    public var parameters: [ParameterInfo]
    public var steps: [StepRecord]
    public var evaluations: [EvaluationRecord]
    public var probes: [ProbeRecord]
    /// The first sequence of the probe batch as display strings, one per input step (T).
    public var probeTokens: [String]
    public var status: RunStatus
    public var summary: RunSummary

    public init(schemaVersion: Int = RunRecord.currentSchemaVersion, tool: ToolInfo, name: String,
                command: [String], origin: RunOrigin = .trained, config: RunConfig, corpus: CorpusInfo, parameterCount: Int,
                parameters: [ParameterInfo], steps: [StepRecord] = [], evaluations: [EvaluationRecord] = [],
                probes: [ProbeRecord] = [], probeTokens: [String] = [], status: RunStatus = RunStatus(),
                summary: RunSummary = RunSummary()) {
        self.schemaVersion = schemaVersion
        self.tool = tool
        self.name = name
        self.command = command
        self.origin = origin
        self.config = config
        self.corpus = corpus
        self.parameterCount = parameterCount
        self.parameters = parameters
        self.steps = steps
        self.evaluations = evaluations
        self.probes = probes
        self.probeTokens = probeTokens
        self.status = status
        self.summary = summary
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion, tool, name, command, origin, config, corpus, parameterCount, parameters, steps,
             evaluations, probes, probeTokens, status, summary
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        tool = try c.decode(ToolInfo.self, forKey: .tool)
        name = try c.decode(String.self, forKey: .name)
        command = try c.decode([String].self, forKey: .command)
        config = try c.decode(RunConfig.self, forKey: .config)
        origin = try c.decodeIfPresent(RunOrigin.self, forKey: .origin)
            ?? RunOrigin(legacyCommand: command, trainedHere: config.optimizer != nil)
        corpus = try c.decode(CorpusInfo.self, forKey: .corpus)
        if corpus.recall == nil, corpus.synthetic, let lag = config.lag, lag >= 1, corpus.vocabularySize > 2 {
            // Written before `corpus.recall`: the synthetic vocabulary is the letters and the marker.
            corpus.recall = RecallTask(lag: lag, letters: corpus.vocabularySize - 1)
        }
        parameterCount = try c.decode(Int.self, forKey: .parameterCount)
        parameters = try c.decode([ParameterInfo].self, forKey: .parameters)
        steps = try c.decode([StepRecord].self, forKey: .steps)
        evaluations = try c.decode([EvaluationRecord].self, forKey: .evaluations)
        probes = try c.decode([ProbeRecord].self, forKey: .probes)
        probeTokens = try c.decode([String].self, forKey: .probeTokens)
        status = try c.decode(RunStatus.self, forKey: .status)
        summary = try c.decode(RunSummary.self, forKey: .summary)
    }
}

/// Where a run's weights came from.
public enum RunOrigin: Sendable, Equatable, Codable {
    /// Initialised from the seed and trained here.
    case trained
    /// Loaded from `weights` (a model.safetensors) and trained on here.
    case continued(weights: String)
    /// A model trained elsewhere, loaded from `weights` and probed without training.
    case imported(weights: String)

    /// The weights file the run started from, if any.
    public var weightsFile: String? {
        switch self {
        case .trained: return nil
        case let .continued(weights), let .imported(weights): return weights
        }
    }

    public var isImported: Bool {
        if case .imported = self { return true }
        return false
    }

    /// JSON: {"kind": "trained"}, {"kind": "continued", "weights": "..."}, {"kind": "imported", "weights": "..."}.
    enum CodingKeys: String, CodingKey { case kind, weights }
    enum Kind: String, Codable { case trained, continued, imported }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Kind.self, forKey: .kind) {
        case .trained: self = .trained
        case .continued: self = .continued(weights: try c.decode(String.self, forKey: .weights))
        case .imported: self = .imported(weights: try c.decode(String.self, forKey: .weights))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .trained: try c.encode(Kind.trained, forKey: .kind)
        case let .continued(weights):
            try c.encode(Kind.continued, forKey: .kind)
            try c.encode(weights, forKey: .weights)
        case let .imported(weights):
            try c.encode(Kind.imported, forKey: .kind)
            try c.encode(weights, forKey: .weights)
        }
    }

    /// For records written before `origin` existed: the one place a command line is read for
    /// facts. `probe` runs (which recorded no optimiser) were imported; `--weights` continued.
    init(legacyCommand command: [String], trainedHere: Bool) {
        var weights = ""
        for (i, argument) in command.enumerated() {
            if argument == "--weights", i + 1 < command.count { weights = command[i + 1] }
            if argument.hasPrefix("--weights=") { weights = String(argument.dropFirst("--weights=".count)) }
        }
        if command.first == "probe" || !trainedHere {
            self = .imported(weights: weights)
        } else if command.contains(where: { $0 == "--weights" || $0.hasPrefix("--weights=") }) {
            self = .continued(weights: weights)
        } else {
            self = .trained
        }
    }
}

public struct ToolInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public init(name: String = "diagnose", version: String) {
        self.name = name
        self.version = version
    }
}

/// Every flag that shapes the numbers. Two runs whose configs are equal are comparable.
/// Its Codable conformance is synthesized: a new field is declared here (optional, so older
/// records still load) and in `init` when every run has it; older records' placeholder words are
/// read by `LegacyPlaceholders`.
public struct RunConfig: Codable, Sendable, Equatable {
    public var cell: CellKind
    /// The simple RNN's nonlinearity; `tanh` for gated cells.
    public var activation: Activation
    public var layers: Int
    public var bidirectional: Bool
    public var hidden: Int
    public var embed: Int
    public var batch: Int
    public var bptt: Int
    public var steps: Int
    /// nil for an imported model (no training here; older records wrote "none").
    public var optimizer: Optimizer?
    public var learningRate: Double
    /// Global-norm clipping threshold; 0 means off.
    public var clip: Double
    public var seed: UInt64
    /// The input weights' initialisation; nil for an imported model (older records wrote "imported").
    public var initialization: InputWeights?
    /// If set, every W_h was rescaled at initialisation to this spectral radius.
    public var spectralRadius: Double?
    public var forgetBias: Double
    public var probeEvery: Int
    public var evalEvery: Int
    /// nil for an imported model probed on token ids given as JSON (older records wrote "ids",
    /// or "vocabulary" for text cut into tokens).
    public var tokenize: Tokenization?
    public var vocabSizeLimit: Int?
    public var validFraction: Double
    /// Synthetic corpus only: the recall lag (also in `corpus.recall`, with what follows from it).
    public var lag: Int?
    public var threads: Int
    /// How the layers are wired through depth; nil (records written before it existed) means plain.
    public var connections: LayerConnections?
    /// Word tokenisation: whether `<eos>` was appended at every line end (absent in older records).
    public var endOfLine: Bool?
    /// Dropout probability on the non-recurrent connections during training (absent: 0).
    public var dropout: Double?
    /// Set when the length was given as passes over the training windows; `steps` is then
    /// epochs x windows per epoch.
    public var epochs: Int?
    /// The learning rate was multiplied by this after every evaluation that did not improve the
    /// best validation loss (absent: never).
    public var learningRateDecay: Double?

    public init(cell: CellKind, activation: Activation, layers: Int, bidirectional: Bool, hidden: Int, embed: Int,
                batch: Int, bptt: Int, steps: Int, optimizer: Optimizer?, learningRate: Double, clip: Double,
                seed: UInt64, initialization: InputWeights?, spectralRadius: Double?, forgetBias: Double,
                probeEvery: Int, evalEvery: Int, tokenize: Tokenization?, vocabSizeLimit: Int?, validFraction: Double,
                lag: Int?, threads: Int, connections: LayerConnections? = nil) {
        self.cell = cell
        self.activation = activation
        self.layers = layers
        self.bidirectional = bidirectional
        self.hidden = hidden
        self.embed = embed
        self.batch = batch
        self.bptt = bptt
        self.steps = steps
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.clip = clip
        self.seed = seed
        self.initialization = initialization
        self.spectralRadius = spectralRadius
        self.forgetBias = forgetBias
        self.probeEvery = probeEvery
        self.evalEvery = evalEvery
        self.tokenize = tokenize
        self.vocabSizeLimit = vocabSizeLimit
        self.validFraction = validFraction
        self.lag = lag
        self.threads = threads
        self.connections = connections
    }
}

/// A word that older records wrote as a placeholder where it did not apply: an imported model
/// recorded `optimizer "none"`, `initialization "imported"` and `tokenize "ids"` (or "vocabulary").
/// The placeholder reads as nil; any other unknown word is still an error.
protocol LegacyPlaceholders: RawRepresentable<String>, Decodable {
    static var legacyPlaceholders: Set<String> { get }
}

extension Optimizer: LegacyPlaceholders { static let legacyPlaceholders: Set<String> = ["none"] }
extension InputWeights: LegacyPlaceholders { static let legacyPlaceholders: Set<String> = ["imported"] }
extension Tokenization: LegacyPlaceholders { static let legacyPlaceholders: Set<String> = ["ids", "vocabulary"] }

extension KeyedDecodingContainer {
    /// The synthesized decoders (`RunConfig`'s) call this overload for an optional word with
    /// placeholders: it is more specific than the standard library's `decodeIfPresent`.
    func decodeIfPresent<Word: LegacyPlaceholders>(_ type: Word.Type, forKey key: Key) throws -> Word? {
        guard let text = try decodeIfPresent(String.self, forKey: key), !Word.legacyPlaceholders.contains(text) else { return nil }
        guard let word = Word(rawValue: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self,
                                                   debugDescription: "\"\(text)\" is not a known \(key.stringValue)")
        }
        return word
    }
}

public struct CorpusInfo: Codable, Sendable, Equatable {
    /// The file's name as given, or "synthetic-recall" for the built-in corpus.
    public var name: String
    public var synthetic: Bool
    /// SHA-256 of the corpus bytes (of the generated text for the synthetic corpus), hex.
    public var sha256: String
    public var tokens: Int
    public var trainTokens: Int
    public var validTokens: Int
    public var vocabularySize: Int
    /// The synthetic recall task's facts, written by the corpus that made it (nil for other corpora
    /// and for records written before this field).
    public var recall: RecallTask?
    /// Validation (test) tokens represented by `<unk>`: not in the vocabulary, which comes from the
    /// training split alone (word level also: cut by the vocabulary cap, or `<unk>` in the text).
    public var unknownValidTokens: Int?
    public var testTokens: Int?
    public var unknownTestTokens: Int?
    /// Separate validation and test files (`--valid`, `--test`): name as given and SHA-256.
    public var validFile: String?
    public var validSha256: String?
    public var testFile: String?
    public var testSha256: String?
    public init(name: String, synthetic: Bool, sha256: String, tokens: Int, trainTokens: Int,
                validTokens: Int, vocabularySize: Int, recall: RecallTask? = nil) {
        self.name = name
        self.synthetic = synthetic
        self.sha256 = sha256
        self.tokens = tokens
        self.trainTokens = trainTokens
        self.validTokens = validTokens
        self.vocabularySize = vocabularySize
        self.recall = recall
    }
}

/// The synthetic corpus's recall task: periods of `lag` random letters, a marker, then the answer,
/// which repeats the letter `lag` steps before the marker.
public struct RecallTask: Codable, Sendable, Equatable {
    /// How many steps a letter must be carried.
    public var lag: Int
    /// The alphabet size the letters (and so the answers) are drawn from.
    public var letters: Int
    /// The accuracy of guessing an answer: 1 / letters.
    public var chanceAccuracy: Double
    /// The lowest possible mean loss per token in nats: of every lag + 2 tokens, `lag` are uniform
    /// random letters (log(letters) each) and the marker and the answer are predictable, so
    /// lag / (lag + 2) * log(letters).
    public var lossFloor: Double

    /// The task with `lag` and `letters`, and the chance and floor that follow from them.
    public init(lag: Int, letters: Int) {
        self.lag = lag
        self.letters = letters
        chanceAccuracy = 1 / Double(letters)
        lossFloor = Double(lag) / Double(lag + 2) * log(Double(letters))
    }
}

public struct ParameterInfo: Codable, Sendable, Equatable {
    /// PyTorch state-dict name, e.g. `rnn.weight_hh_l0`.
    public var name: String
    public var shape: [Int]
    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
    }
}

/// One optimiser step.
public struct StepRecord: Codable, Sendable, Equatable {
    public var step: Int
    /// Mean cross-entropy over the B x T predictions of this window (mean over directions).
    public var loss: Double
    public var perplexity: Double
    /// Global L2 norm of the whole gradient before clipping.
    public var gradientNorm: Double
    /// The same after clipping (equal to `gradientNorm` when not clipped).
    public var clippedGradientNorm: Double
    public var clipped: Bool
    public var learningRate: Double
    public init(step: Int, loss: Double, perplexity: Double, gradientNorm: Double, clippedGradientNorm: Double,
                clipped: Bool, learningRate: Double) {
        self.step = step
        self.loss = loss
        self.perplexity = perplexity
        self.gradientNorm = gradientNorm
        self.clippedGradientNorm = clippedGradientNorm
        self.clipped = clipped
        self.learningRate = learningRate
    }
}

/// One pass over the validation split.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var trainLoss: Double
    public var validLoss: Double
    public var validPerplexity: Double
    /// Per direction (forward first), when bidirectional.
    public var directionValidLosses: [Double]?
    /// Synthetic corpus only: argmax accuracy at the recall positions of the validation split.
    public var recallAccuracy: Double?
    public init(step: Int, trainLoss: Double, validLoss: Double, validPerplexity: Double,
                directionValidLosses: [Double]? = nil, recallAccuracy: Double? = nil) {
        self.step = step
        self.trainLoss = trainLoss
        self.validLoss = validLoss
        self.validPerplexity = validPerplexity
        self.directionValidLosses = directionValidLosses
        self.recallAccuracy = recallAccuracy
    }
}

public struct RunStatus: Codable, Sendable, Equatable {
    /// Set when a loss or gradient turned NaN or infinite: training stopped at that step.
    public var divergedAtStep: Int?
    public var divergenceReason: String?
    /// Set when Ctrl-C (or SIGTERM) stopped the run early.
    public var interrupted: Bool
    /// Weight tensors that held NaN or infinite values when probed (imported weights); nil when all were finite.
    public var nonFiniteWeights: [String]?
    public init(divergedAtStep: Int? = nil, divergenceReason: String? = nil, interrupted: Bool = false,
                nonFiniteWeights: [String]? = nil) {
        self.divergedAtStep = divergedAtStep
        self.divergenceReason = divergenceReason
        self.interrupted = interrupted
        self.nonFiniteWeights = nonFiniteWeights
    }
}

public struct RunSummary: Codable, Sendable, Equatable {
    public var finalTrainLoss: Double?
    public var finalTrainPerplexity: Double?
    public var finalValidLoss: Double?
    public var finalValidPerplexity: Double?
    /// With a test file: the loss over the whole test split with the final weights, measured once.
    public var finalTestLoss: Double?
    public var finalTestPerplexity: Double?
    public var recallAccuracy: Double?
    /// Top layer, forward direction, hidden state, at the last probe.
    public var decayPerStep: Double?
    /// nil when the gradient never fell below 1e-3 of the local one within the window.
    public var horizon: Int?
    /// The same two at the first probe (step 0, the initialisation): the architecture's own
    /// behaviour before training shapes the weights, where the lecture's argument applies directly.
    public var decayPerStepFirst: Double?
    public var horizonFirst: Int?
    public var spectralRadiusFirst: Double?
    public var spectralRadiusLast: Double?
    public var clippedFraction: Double?
    /// Gate name -> saturated fraction at the last probe (top layer, forward direction).
    public var gateSaturation: [String: Double]?
    /// The depth profile's first entry (forward direction) at the first and the last probe: how much
    /// of the top layer's gradient reaches the bottom layer. nil for one-layer models.
    public var depthShareFirst: Double?
    public var depthShareLast: Double?
    public var tokensPerSecond: Double?
    public var seconds: Double?
    public var stepsCompleted: Int
    public init(finalTrainLoss: Double? = nil, finalTrainPerplexity: Double? = nil, finalValidLoss: Double? = nil,
                finalValidPerplexity: Double? = nil, recallAccuracy: Double? = nil, decayPerStep: Double? = nil,
                horizon: Int? = nil, decayPerStepFirst: Double? = nil, horizonFirst: Int? = nil, spectralRadiusFirst: Double? = nil, spectralRadiusLast: Double? = nil,
                clippedFraction: Double? = nil, gateSaturation: [String: Double]? = nil,
                tokensPerSecond: Double? = nil, seconds: Double? = nil, stepsCompleted: Int = 0) {
        self.finalTrainLoss = finalTrainLoss
        self.finalTrainPerplexity = finalTrainPerplexity
        self.finalValidLoss = finalValidLoss
        self.finalValidPerplexity = finalValidPerplexity
        self.recallAccuracy = recallAccuracy
        self.decayPerStep = decayPerStep
        self.horizon = horizon
        self.decayPerStepFirst = decayPerStepFirst
        self.horizonFirst = horizonFirst
        self.spectralRadiusFirst = spectralRadiusFirst
        self.spectralRadiusLast = spectralRadiusLast
        self.clippedFraction = clippedFraction
        self.gateSaturation = gateSaturation
        self.tokensPerSecond = tokensPerSecond
        self.seconds = seconds
        self.stepsCompleted = stepsCompleted
    }
}

extension RunSummary {
    /// Sets the numbers the probes give: the top layer's forward direction at the first and the
    /// last probe, and for stacks the bottom layer's share of the gradient. One reading for a
    /// trained run and an imported one.
    public mutating func read(probes: [ProbeRecord]) {
        let first = probes.first?.topForward, last = probes.last?.topForward
        decayPerStep = last?.decayPerStep
        horizon = last?.horizon
        decayPerStepFirst = first?.decayPerStep
        horizonFirst = first?.horizon
        spectralRadiusFirst = first?.spectrum.whole.spectralRadius
        spectralRadiusLast = last?.spectrum.whole.spectralRadius
        gateSaturation = last.map { Dictionary(uniqueKeysWithValues: $0.gates.map { ($0.name, $0.saturated) }) }
        depthShareFirst = probes.first?.firstLayerShare
        depthShareLast = probes.last?.firstLayerShare
    }
}

// MARK: - Probes

/// What the probes found at one training step, on the fixed probe batch
/// (the first B validation windows of length T, zero initial state).
public struct ProbeRecord: Codable, Sendable, Equatable {
    public var step: Int
    /// Per direction (forward first): mean over the batch of l_b(t), for t = 0..<T.
    public var stepLosses: [[Double]]
    /// PyTorch parameter name -> L2 norm of the gradient of the probe batch's mean loss.
    public var parameterGradientNorms: [String: Double]
    /// One entry per (direction, layer): the forward stack first, each stack layer 0 first.
    public var layers: [LayerProbe]
    /// Gradient flow through depth, one entry per direction (forward first); nil in records written
    /// before it existed.
    public var depth: [DepthProbe]?
    public init(step: Int, stepLosses: [[Double]], parameterGradientNorms: [String: Double], layers: [LayerProbe],
                depth: [DepthProbe]? = nil) {
        self.step = step
        self.stepLosses = stepLosses
        self.parameterGradientNorms = parameterGradientNorms
        self.layers = layers
        self.depth = depth
    }
    /// The top layer's forward direction: the layer the summary numbers describe (the last layer
    /// when none is forward).
    public var topForward: LayerProbe? {
        layers.filter { $0.direction == .forward }.max { $0.layer < $1.layer } ?? layers.last
    }
}

/// How far the gradient of the probe batch's mean loss J reaches down the stack of one direction.
public struct DepthProbe: Codable, Sendable, Equatable {
    public var direction: Direction
    /// D[l][t] = mean_b ||dJ / dh_l,b(t)||_2 for every layer l (layer 0 first) and step t: the total
    /// derivative, through the recurrence, the layers above and any skip connections.
    public var gradient: [[Double]]
    /// profile[l] = mean_t D[l][t] / mean_t D[L-1][t]: the share of the top layer's gradient that
    /// reaches layer l (1 at the top).
    public var profile: [Double]
    public init(direction: Direction, gradient: [[Double]], profile: [Double]) {
        self.direction = direction
        self.gradient = gradient
        self.profile = profile
    }
}

public struct LayerProbe: Codable, Sendable, Equatable {
    public var layer: Int
    public var direction: Direction
    /// G[t][j] = mean_b ||d l_b(t) / d h_b(j)||_2 for j <= t (row t has t + 1 entries).
    public var gradientFlow: [[Double]]
    /// g(l) = mean over t >= l of G[t][t - l], for l = 0..<T.
    public var lagProfile: [Double]
    /// exp(slope) of the least-squares line through log g(l) against l: the factor per step.
    public var decayPerStep: Double?
    /// Smallest lag with g(l) / g(0) < 1e-3; nil means beyond the window.
    public var horizon: Int?
    /// LSTM only: the same three for the cell state c(j).
    public var cellGradientFlow: [[Double]]?
    public var cellLagProfile: [Double]?
    public var cellDecayPerStep: Double?
    public var cellHorizon: Int?
    /// Synthetic corpus, forward direction: G restricted to the recall answers, i.e. averaged only
    /// over the examples whose prediction at step t is an answer (null where none is at t), and its
    /// lag profile. The gradient that teaches the long-range dependency.
    public var recallGradientFlow: [[Double?]]?
    public var recallLagProfile: [Double?]?
    /// Spectra of the recurrent matrix W_h (whole, and per gate block for gated cells).
    public var spectrum: SpectrumRecord
    /// Step Jacobians along the probe batch's first sequence.
    public var jacobians: JacobianRecord
    /// Gate (or activation) statistics on the probe batch.
    public var gates: [GateRecord]
    public init(layer: Int, direction: Direction, gradientFlow: [[Double]], lagProfile: [Double],
                decayPerStep: Double?, horizon: Int?, cellGradientFlow: [[Double]]? = nil,
                cellLagProfile: [Double]? = nil, cellDecayPerStep: Double? = nil, cellHorizon: Int? = nil,
                spectrum: SpectrumRecord, jacobians: JacobianRecord, gates: [GateRecord]) {
        self.layer = layer
        self.direction = direction
        self.gradientFlow = gradientFlow
        self.lagProfile = lagProfile
        self.decayPerStep = decayPerStep
        self.horizon = horizon
        self.cellGradientFlow = cellGradientFlow
        self.cellLagProfile = cellLagProfile
        self.cellDecayPerStep = cellDecayPerStep
        self.cellHorizon = cellHorizon
        self.spectrum = spectrum
        self.jacobians = jacobians
        self.gates = gates
    }
}

public struct MatrixSpectrum: Codable, Sendable, Equatable {
    /// "W_hh" for the whole recurrent matrix, or the gate name for a block ("input", "forget", ...).
    public var matrix: String
    /// All eigenvalues as [re, im] pairs, sorted by decreasing modulus.
    public var eigenvalues: [[Double]]
    /// All singular values, decreasing.
    public var singularValues: [Double]
    public var spectralRadius: Double
    public init(matrix: String, eigenvalues: [[Double]], singularValues: [Double], spectralRadius: Double) {
        self.matrix = matrix
        self.eigenvalues = eigenvalues
        self.singularValues = singularValues
        self.spectralRadius = spectralRadius
    }
}

public struct SpectrumRecord: Codable, Sendable, Equatable {
    /// The square recurrent map: for the simple RNN W_h (H x H); for gated cells the
    /// eigen-analysis is of each H x H gate block, `whole` holds the singular values of the
    /// full (kH x H) matrix and the spectral radius of its largest block.
    public var whole: MatrixSpectrum
    public var blocks: [MatrixSpectrum]
    /// Simple RNN only: the largest derivative of the activation (1 for tanh and linear).
    public var gamma: Double?
    /// Simple RNN only: rho(W_h) < 1 / gamma, so vanishing is guaranteed.
    public var vanishingGuaranteed: Bool?
    public init(whole: MatrixSpectrum, blocks: [MatrixSpectrum], gamma: Double?, vanishingGuaranteed: Bool?) {
        self.whole = whole
        self.blocks = blocks
        self.gamma = gamma
        self.vanishingGuaranteed = vanishingGuaranteed
    }
}

public struct JacobianRecord: Codable, Sendable, Equatable {
    /// Size of the step Jacobian: H for rnn and gru, 2H for lstm (the (h, c) state).
    public var size: Int
    /// stepSingularValues[t]: singular values of d s(t) / d s(t-1), decreasing, for t = 1..<T.
    public var stepSingularValues: [[Double]]
    /// productSingularValues[l-1]: the leading singular values of the product of the first l step
    /// Jacobians (l = 1..<T), from an accumulated QR factorisation.
    public var productSingularValues: [[Double]]
    /// (1 / l) log sigma_i of the same products: finite-time Lyapunov exponents.
    public var lyapunovExponents: [[Double]]
    public init(size: Int, stepSingularValues: [[Double]], productSingularValues: [[Double]],
                lyapunovExponents: [[Double]]) {
        self.size = size
        self.stepSingularValues = stepSingularValues
        self.productSingularValues = productSingularValues
        self.lyapunovExponents = lyapunovExponents
    }
}

public struct Histogram: Codable, Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    /// Equal-width bins between lower and upper (50 of them).
    public var counts: [Int]
    public init(lower: Double, upper: Double, counts: [Int]) {
        self.lower = lower
        self.upper = upper
        self.counts = counts
    }
}

public struct GateRecord: Codable, Sendable, Equatable {
    /// `CellKind.gateNames`: "input", "forget", "candidate", "output" (lstm); "reset", "update",
    /// "candidate" (gru); "activation" (rnn).
    public var name: String
    public var function: GateFunction
    /// T x H activations of the probe batch's first sequence. Kept at the first and last probe only.
    public var activations: [[Double]]?
    public var histogram: Histogram
    /// Fraction of activations below 0.1 (sigmoid), or nil where not meaningful.
    public var saturatedLow: Double?
    /// Fraction above 0.9 (sigmoid), or |x| > 0.9 (tanh).
    public var saturatedHigh: Double?
    /// Total saturated fraction: low + high for sigmoid, |x| > 0.9 for tanh, exact zeros for relu,
    /// 0 for linear.
    public var saturated: Double
    public init(name: String, function: GateFunction, activations: [[Double]]?, histogram: Histogram,
                saturatedLow: Double?, saturatedHigh: Double?, saturated: Double) {
        self.name = name
        self.function = function
        self.activations = activations
        self.histogram = histogram
        self.saturatedLow = saturatedLow
        self.saturatedHigh = saturatedHigh
        self.saturated = saturated
    }
}
