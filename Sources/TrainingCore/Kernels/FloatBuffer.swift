/// A fixed-size, zero-initialised Float buffer with a stable address: the storage behind every
/// matrix the kernels touch. Its pointer is valid exactly as long as the buffer is alive, which is
/// what lets the hot loops use raw pointers without copying or exclusivity checks.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public subscript(index: Int) -> Float {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// The buffer, grown (and zeroed) if it is smaller than `count`.
    public static func ensure(_ buffer: inout FloatBuffer?, count: Int) -> FloatBuffer {
        if let existing = buffer, existing.count >= count { return existing }
        let fresh = FloatBuffer(count: count)
        buffer = fresh
        return fresh
    }
}
