// The words every module shares: what a cell, an activation, a direction ... is. Each is a
// String-backed enum whose raw value is exactly what run.json has always held, so the JSON is
// unchanged and a record with an unknown word fails to decode instead of reaching a `switch`.

/// The recurrent cell families, with PyTorch's gate counts and gate order.
public enum CellKind: String, Sendable, CaseIterable, Codable, Comparable {
    case rnn, lstm, gru

    /// Rows of W_ih and W_hh per hidden unit: 1 (rnn), 4 (lstm: i, f, g, o), 3 (gru: r, z, n).
    public var gateCount: Int {
        switch self {
        case .rnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    /// Gate names in weight-row order, as the record names them.
    public var gateNames: [String] {
        switch self {
        case .rnn: return ["activation"]
        case .lstm: return ["input", "forget", "candidate", "output"]
        case .gru: return ["reset", "update", "candidate"]
        }
    }

    /// The nonlinearity of each gate block, in the order of `gateNames`.
    public func gateFunctions(activation: Activation) -> [GateFunction] {
        switch self {
        case .rnn: return [GateFunction(activation)]
        case .lstm: return [.sigmoid, .sigmoid, .tanh, .sigmoid]
        case .gru: return [.sigmoid, .sigmoid, .tanh]
        }
    }

    /// Whether the recurrent state includes an LSTM cell state c next to h.
    public var hasCellState: Bool { self == .lstm }

    /// The lecture's order: simple RNN, then GRU, then LSTM.
    public static func < (a: CellKind, b: CellKind) -> Bool { a.lectureRank < b.lectureRank }

    private var lectureRank: Int {
        switch self {
        case .rnn: return 0
        case .gru: return 1
        case .lstm: return 2
        }
    }
}

/// The simple RNN's nonlinearity sigma in h(t) = sigma(W_h h(t-1) + W_x x(t) + b). Gated cells
/// record `tanh` (their candidate's nonlinearity).
public enum Activation: String, Sendable, CaseIterable, Codable {
    case tanh, relu, linear

    /// gamma, the largest value of sigma': the lecture's bound says rho(W_h) < 1 / gamma forces vanishing.
    public var maxDerivative: Double { 1 }
}

/// Which way a stack reads its window. A backward stack reads it reversed, so its step index
/// counts in its own processing order (index 0 is the window's last token).
public enum Direction: String, Sendable, CaseIterable, Codable, Comparable {
    case forward, backward

    /// The index of this direction's stack in a model: 0 forward, 1 backward.
    public var index: Int { self == .forward ? 0 : 1 }

    public init(index: Int) {
        precondition(index == 0 || index == 1, "a model has at most two directions")
        self = index == 0 ? .forward : .backward
    }

    public static func < (a: Direction, b: Direction) -> Bool { a.index < b.index }
}

/// The nonlinearity after a gate block (or the simple RNN's activation).
public enum GateFunction: String, Sendable, CaseIterable, Codable {
    case sigmoid, tanh, relu, linear

    public init(_ activation: Activation) {
        switch activation {
        case .tanh: self = .tanh
        case .relu: self = .relu
        case .linear: self = .linear
        }
    }
}

/// The optimiser that trained the weights.
public enum Optimizer: String, Sendable, CaseIterable, Codable {
    case sgd, adam
}

/// How the input weights were initialised (recurrent weights: see `RunConfig.spectralRadius`).
public enum InputWeights: String, Sendable, CaseIterable, Codable {
    case xavier, orthogonal
}

/// How text becomes tokens.
public enum Tokenization: String, Sendable, CaseIterable, Codable {
    /// One token per Character (grapheme cluster), so "é" is one token.
    case char
    /// Whitespace-separated words; the vocabulary is capped and rarer words become `<unk>`.
    case word
}
