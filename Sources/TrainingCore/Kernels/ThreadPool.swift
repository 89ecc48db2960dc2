// A standing pool of worker threads for kernels whose tasks last tens of microseconds.
//
// Why not DispatchQueue.concurrentPerform: waking a dispatch worker costs several microseconds,
// comparable with a whole 32 x 512 x 128 product. Here the workers spin on an atomic generation
// counter for a while after each job (so back-to-back jobs of a recurrent loop start within
// ~100 ns) and only then park on a condition variable.
import Foundation
import Synchronization

/// Runs `parts` independent pieces of one job on the caller's thread plus `width - 1` standing
/// workers. One job at a time: a call made while the pool is busy (from another thread, or from
/// inside a job) runs all its parts on the caller, which gives the same result, only later.
final class WorkerPool: @unchecked Sendable {
    /// The process-wide pool: one worker per extra core.
    static let shared = WorkerPool(workers: max(0, min(ProcessInfo.processInfo.activeProcessorCount, 16) - 1))

    /// Threads that take part in a job: the workers and the caller.
    let width: Int

    /// Spin iterations (an atomic load each, some 30 to 60 microseconds in all) before a worker
    /// parks: long enough to bridge the elementwise work between two products of a recurrent
    /// step, short enough not to burn a core that another process wants.
    private static let spinLimit = 100_000
    /// Spins of the caller waiting for the last part before it starts yielding its core (a
    /// worker that was descheduled cannot finish while the caller spins on the only other core).
    private static let waitSpins = 4_000

    private let generation = Atomic<Int>(0)
    private let nextPart = Atomic<Int>(0)
    private let unfinished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let splitCount = Atomic<Int>(0)
    private let parking = NSCondition()
    // Written by the caller before it publishes `nextPart`; read by workers after they claim a part.
    private var job: ((Int) -> Void)?
    private let partCount = Atomic<Int>(0)

    init(workers: Int) {
        width = workers + 1
        for index in 0..<workers {
            // The workers keep their pool alive: a pool is never freed, so its threads can never
            // touch a freed one (the shared pool lives as long as the process anyway; private pools
            // are made a few at a time, for checks).
            let thread = Thread { self.workerLoop() }
            thread.name = "sgemm-worker-\(index)"
            thread.start()
        }
    }

    /// Calls `body(part)` once for every part in 0..<parts, spread over the pool, and returns when
    /// all have finished. Which thread runs which part is unspecified, so the parts must be
    /// independent.
    func run(parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, width > 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for part in 0..<parts { body(part) }
            return
        }
        splitCount.wrappingAdd(1, ordering: .relaxed)
        withoutActuallyEscaping(body) { body in
            job = body
            partCount.store(parts, ordering: .relaxed)
            unfinished.store(parts, ordering: .relaxed)
            nextPart.store(0, ordering: .releasing)
            parking.lock()
            generation.wrappingAdd(1, ordering: .releasing)
            parking.broadcast()
            parking.unlock()
            drain()
            var spins = 0
            while unfinished.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > Self.waitSpins { sched_yield() }
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Jobs that were split over more than one thread.
    var splitJobs: Int { splitCount.load(ordering: .relaxed) }

    /// Claims and runs parts until none is left.
    private func drain() {
        while true {
            let part = nextPart.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
            if part >= partCount.load(ordering: .relaxed) { return }
            job!(part)
            unfinished.wrappingSubtract(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins == Self.spinLimit {
                    parking.lock()
                    while generation.load(ordering: .acquiring) == seen { parking.wait() }
                    parking.unlock()
                }
            }
            seen = generation.load(ordering: .acquiring)
            drain()
        }
    }
}

/// Calls `body` on contiguous, disjoint pieces of 0..<count that together cover it, spread over up
/// to `threads.count` threads of its pool, each piece (but a lone one) at least `grain` long.
/// The pieces must be independent; as long as `body` treats every index the same way wherever
/// it falls, the result does not depend on the thread count.
func parallelRanges(_ count: Int, threads: ComputeThreads, grain: Int, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let parts = min(threads.count, threads.pool.width, max(1, count / max(grain, 1)))
    if parts <= 1 {
        body(0..<count)
        return
    }
    threads.pool.run(parts: parts) { part in
        body(count * part / parts ..< count * (part + 1) / parts)
    }
}
