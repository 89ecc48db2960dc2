import DiagnoseRecord
import Foundation

// Shapes: B batch, T steps, E embedding, H hidden, V vocabulary, D directions (1 or 2), L layers.

/// The architecture: everything that fixes the parameter layout.
public struct ModelConfig: Sendable, Equatable {
    public var cell: CellKind
    public var activation: Activation
    public var layers: Int
    public var bidirectional: Bool
    public var vocabularySize: Int
    public var embed: Int
    public var hidden: Int
    /// How the layers are wired through depth (plain, residual or dense).
    public var connections: LayerConnections

    public init(cell: CellKind, activation: Activation = .tanh, layers: Int = 1, bidirectional: Bool = false,
                vocabularySize: Int, embed: Int, hidden: Int, connections: LayerConnections = .plain) {
        self.cell = cell
        self.activation = activation
        self.layers = layers
        self.bidirectional = bidirectional
        self.vocabularySize = vocabularySize
        self.embed = embed
        self.hidden = hidden
        self.connections = connections
    }

    public var directions: Int { bidirectional ? 2 : 1 }

    /// Width of layer `layer`'s input: E at the bottom; H above it, or E + layer H for dense stacks.
    public func inputSize(layer: Int) -> Int {
        if layer == 0 { return embed }
        return connections == .dense ? embed + layer * hidden : hidden
    }
}

/// How the weights start.
public struct Initialization: Sendable, Equatable {
    public var inputWeights: InputWeights = .xavier
    /// Rescale every recurrent matrix (each gate block) so its spectral radius is this value.
    public var spectralRadius: Double? = nil
    /// LSTM forget-gate bias (added to b_ih's forget block).
    public var forgetBias: Double = 1
    public var seed: UInt64 = 0
    public init(inputWeights: InputWeights = .xavier, spectralRadius: Double? = nil, forgetBias: Double = 1, seed: UInt64 = 0) {
        self.inputWeights = inputWeights
        self.spectralRadius = spectralRadius
        self.forgetBias = forgetBias
        self.seed = seed
    }
}

/// Embedding (V, E) -> recurrent stack per direction -> linear decoder (V, H) -> softmax.
///
/// A bidirectional model is an ELMo-style pair of language models: the forward stack predicts the
/// next token, the backward stack reads the window reversed and predicts the previous one; they
/// share the embedding and the decoder, and each has its own loss. Each direction's stack feeds
/// only itself, so neither direction ever sees the token it predicts.
public struct LanguageModel {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let parameters: FloatBuffer
    public let embedding: Int        // (V, E)
    /// stacks[direction][layer]
    public let stacks: [[RecurrentLayer]]
    public let decoderWeight: Int    // (V, H)
    public let decoderBias: Int      // (V)

    public init(config: ModelConfig) {
        var layout = ParameterLayout()
        embedding = layout.add("embedding.weight", [config.vocabularySize, config.embed])
        var stacks = [[RecurrentLayer]](repeating: [], count: config.directions)
        let gateRows = config.cell.gateCount * config.hidden
        for layer in 0..<config.layers {
            for direction in 0..<config.directions {
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                let inputSize = config.inputSize(layer: layer)
                let wi = layout.add("rnn.weight_ih" + suffix, [gateRows, inputSize])
                let wh = layout.add("rnn.weight_hh" + suffix, [gateRows, config.hidden])
                let bi = layout.add("rnn.bias_ih" + suffix, [gateRows])
                let bh = layout.add("rnn.bias_hh" + suffix, [gateRows])
                stacks[direction].append(RecurrentLayer(
                    cell: config.cell, activation: config.activation, inputSize: inputSize, hidden: config.hidden,
                    weightIH: wi, weightHH: wh, biasIH: bi, biasHH: bh))
            }
        }
        decoderWeight = layout.add("decoder.weight", [config.vocabularySize, config.hidden])
        decoderBias = layout.add("decoder.bias", [config.vocabularySize])
        self.config = config
        self.layout = layout
        self.stacks = stacks
        parameters = FloatBuffer(count: layout.count)
    }

    public var parameterCount: Int { layout.count }

    /// Fills the parameters from `initialization` (deterministic in its seed).
    public func initialize(_ initialization: Initialization) {
        var generator = SeededGenerator(seed: initialization.seed).derived(0x1417)
        let p = parameters.pointer
        let H = config.hidden
        let bound = 1 / Double(H).squareRoot()
        func uniform(_ offset: Int, _ count: Int, _ limit: Double) {
            for i in 0..<count { p[offset + i] = Float((generator.nextUnit() * 2 - 1) * limit) }
        }
        // nn.Embedding's default N(0, 1).
        for i in 0..<(config.vocabularySize * config.embed) { p[embedding + i] = Float(generator.nextGaussian()) }
        for stack in stacks {
            for layer in stack {
                let gates = config.cell.gateCount
                for g in 0..<gates {
                    let block = layer.weightIH + g * H * layer.inputSize
                    switch initialization.inputWeights {
                    case .xavier:
                        uniform(block, H * layer.inputSize, (6 / Double(H + layer.inputSize)).squareRoot())
                    case .orthogonal:
                        let q = Orthogonal.random(rows: H, cols: layer.inputSize, generator: &generator)
                        for i in 0..<q.count { p[block + i] = Float(q[i]) }
                    }
                }
                // PyTorch's default for recurrent weights and biases: U(-1/sqrt(H), 1/sqrt(H)).
                uniform(layer.weightHH, layer.gateRows * H, bound)
                uniform(layer.biasIH, layer.gateRows, bound)
                uniform(layer.biasHH, layer.gateRows, bound)
                if config.cell == .lstm {
                    for u in 0..<H {
                        p[layer.biasIH + H + u] = Float(initialization.forgetBias)
                        p[layer.biasHH + H + u] = 0
                    }
                }
                if let radius = initialization.spectralRadius {
                    for g in 0..<gates {
                        let block = layer.weightHH + g * H * H
                        let matrix = DenseMatrix(rows: H, cols: H, floatValues: Array(UnsafeBufferPointer(start: p + block, count: H * H)))
                        let current = LinearAlgebra.spectralRadius(of: matrix)
                        guard current > 0, current.isFinite else { continue }
                        let scale = Float(radius / current)
                        for i in 0..<(H * H) { p[block + i] *= scale }
                    }
                }
            }
        }
        uniform(decoderWeight, config.vocabularySize * H, bound)
        uniform(decoderBias, config.vocabularySize, bound)
    }

    /// Copies of every tensor, named as PyTorch's state dict names them.
    public func namedTensors() -> [(entry: ParameterEntry, values: [Float])] {
        layout.entries.map { entry in
            (entry, Array(UnsafeBufferPointer(start: parameters.pointer + entry.offset, count: entry.count)))
        }
    }
}

enum Orthogonal {
    /// A rows x cols matrix with orthonormal rows (rows <= cols) or columns (rows > cols), by
    /// Gram-Schmidt (twice, for accuracy) on Gaussian vectors: the usual orthogonal initialisation.
    static func random(rows: Int, cols: Int, generator: inout SeededGenerator) -> [Double] {
        let (n, m) = rows <= cols ? (rows, cols) : (cols, rows)  // n vectors of length m
        var vectors = [[Double]](repeating: [], count: n)
        for i in 0..<n {
            var v = (0..<m).map { _ in generator.nextGaussian() }
            for _ in 0..<2 {
                for j in 0..<i {
                    let d = zip(v, vectors[j]).reduce(0) { $0 + $1.0 * $1.1 }
                    for k in 0..<m { v[k] -= d * vectors[j][k] }
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            vectors[i] = v.map { $0 / max(norm, 1e-30) }
        }
        var out = [Double](repeating: 0, count: rows * cols)
        for i in 0..<rows {
            for j in 0..<cols {
                out[i * cols + j] = rows <= cols ? vectors[i][j] : vectors[j][i]
            }
        }
        return out
    }
}

extension LanguageModel {
    /// The names of the parameter tensors that hold a NaN or an infinity, in layout order.
    public func nonFiniteTensorNames() -> [String] {
        layout.entries.filter { entry in
            (0..<entry.count).contains { !parameters[entry.offset + $0].isFinite }
        }.map(\.name)
    }
}
