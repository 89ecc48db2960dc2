/// How many threads a piece of work may use, and the pool they come from. It travels with the
/// work (a `Workspace`, an optimizer step), so runs that share a process can each have their own
/// count. Results are bit-identical for every count (work is split only into independent pieces,
/// never along a sum), so this is a speed knob only.
public struct ComputeThreads: Sendable, ExpressibleByIntegerLiteral {
    /// Threads a job may use: the caller's and up to `count - 1` of the pool's workers.
    public let count: Int
    let pool: WorkerPool

    /// Up to `count` threads of the process-wide pool. While another job holds that pool, a job
    /// runs on its caller alone: the same result, later.
    public init(_ count: Int) {
        self.count = max(1, count)
        pool = .shared
    }

    public init(integerLiteral count: Int) { self.init(count) }

    /// `count` threads with a pool of their own, which no other work can keep busy: for checks
    /// that must really run split. The pool and its parked workers are never freed: make few.
    public static func privatePool(_ count: Int) -> ComputeThreads {
        ComputeThreads(count: max(1, count), pool: WorkerPool(workers: max(1, count) - 1))
    }

    private init(count: Int, pool: WorkerPool) {
        self.count = count
        self.pool = pool
    }

    /// Jobs this pool has split over more than one thread so far (a check that work was shared).
    public var splitJobs: Int { pool.splitJobs }
}
