// Results that concurrent workers write by index and the caller reads once they have finished:
// training runs, probed checkpoints, rendered runs, encoded charts. The order of the values is
// the order of the indices, never the order the work finished in.

import Foundation

public final class ConcurrentSlots<Value>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    public func set(_ index: Int, _ value: Value) { lock.withLock { slots[index] = value } }

    public func get(_ index: Int) -> Value? { lock.withLock { slots[index] } }

    /// Every slot, nil where nothing was written.
    public var values: [Value?] { lock.withLock { slots } }
}

extension ConcurrentSlots {
    /// Whether a worker has written a failure: later work can stop early.
    public func hasFailure<Success>() -> Bool where Value == Result<Success, any Error> {
        values.contains { if case .failure? = $0 { return true } else { return false } }
    }
}
