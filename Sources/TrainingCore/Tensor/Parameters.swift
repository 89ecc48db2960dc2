/// Where one named tensor lives inside a flat parameter buffer.
public struct ParameterEntry: Sendable, Equatable {
    /// PyTorch state-dict name, e.g. `rnn.weight_hh_l0`.
    public var name: String
    /// Row-major shape, PyTorch's layout (weights are (out, in)).
    public var shape: [Int]
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
}

/// The layout of every trainable tensor in one flat Float buffer. Parameters, gradients and
/// optimiser moments all share it (as llm.c's ParameterTensors serves both), so the optimiser,
/// clipping and global norms are single loops over one array.
public struct ParameterLayout: Sendable, Equatable {
    public private(set) var entries: [ParameterEntry] = []
    public private(set) var count = 0

    public init() {}

    /// Appends a tensor and returns its offset.
    @discardableResult
    public mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let entry = ParameterEntry(name: name, shape: shape, offset: count)
        entries.append(entry)
        count += entry.count
        return entry.offset
    }

    public func entry(named name: String) -> ParameterEntry? {
        entries.first { $0.name == name }
    }
}
