/// How many threads one model's matrix multiplies may use. Results are bit-identical for every
/// value (the threaded GEMM splits only independent blocks of C), so this is a speed knob only.
public enum Parallelism {
    nonisolated(unsafe) public static var threads = 1
}

public func setComputeThreads(_ count: Int) {
    Parallelism.threads = max(1, count)
}
