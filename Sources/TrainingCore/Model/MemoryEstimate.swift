// How much memory a model and one window need, estimated from the sizes alone before anything is
// allocated, and how much this process may use: a run that cannot fit is refused with both figures
// instead of ending in an allocation failure hours (or seconds) later.

import Foundation

public enum MemoryEstimate {
    /// Bytes a model of `config` needs to train (or, with `training: false`, to be probed) on
    /// windows of `batch` x `steps` tokens: parameters with their gradients and optimiser moments,
    /// the forward caches and backward scratch of a window, the softmax over the vocabulary, the
    /// probe's extended batch (every pending adjoint as a row) and its dense spectra. An upper-end
    /// estimate in Double, so no size can overflow it.
    public static func bytes(config: ModelConfig, batch: Int, steps: Int, training: Bool) -> Double {
        let B = Double(batch), T = Double(steps), H = Double(config.hidden), E = Double(config.embed)
        let V = Double(config.vocabularySize), L = Double(config.layers), D = Double(config.directions)
        let k = Double(config.cell == .lstm ? 4 : config.cell == .gru ? 3 : 1)
        // Parameters: embedding, per layer and direction W_ih, W_hh and two biases, the decoder.
        let recurrent = D * (k * H * (E + H + 2) + (L - 1) * k * H * (H + H + 2))
        let parameters = V * E + recurrent + V * H * D + V
        let state = config.cell == .lstm ? 2 * H : H
        // Training: values, gradients, two Adam moments and a clipping copy; caches of every step.
        let parameterBytes = 4 * parameters * (training ? 5 : 2)
        let window = 4 * D * L * T * B * (3 * k * H + 3 * state) + 4 * D * T * B * V * 3
        // Probe: the extended batch of pending adjoints (T rows per example at the first step),
        // G as Doubles, and the dense (2H)^2 step Jacobians with their QR and eigen work.
        let probe = 4 * D * L * T * B * state * 3 + 8 * D * L * (T * T + 8 * state * state + 2 * k * T * H)
        return parameterBytes + window + probe + 64 * 1_048_576
    }

    /// The memory this process may use, and what sets it: the smallest of physical memory, the
    /// address-space and data limits (`ulimit -v`, `ulimit -d`) and the cgroup's memory.max.
    public static func available() -> (bytes: Double, source: String) {
        var best = (bytes: Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE))),
                    source: "physical memory")
        var limit = rlimit()
        let unlimited = rlim_t.max  // RLIM_INFINITY, which Swift imports as an overflowing literal
        if getrlimit(RLIMIT_AS_VALUE, &limit) == 0, limit.rlim_cur != unlimited, Double(limit.rlim_cur) < best.bytes {
            best = (Double(limit.rlim_cur), "the address-space limit (ulimit -v)")
        }
        if getrlimit(RLIMIT_DATA_VALUE, &limit) == 0, limit.rlim_cur != unlimited, Double(limit.rlim_cur) < best.bytes {
            best = (Double(limit.rlim_cur), "the data-size limit (ulimit -d)")
        }
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), value < best.bytes {
            best = (value, "the cgroup's memory.max")
        }
        return best
    }

    /// Throws when `needed` bytes (for `what`) exceed what this process may use, leaving room for
    /// the program itself.
    public static func check(needed: Double, what: String, advice: String) throws {
        let (limit, source) = available()
        // The program, its threads' stacks and the allocator's slack take their share of a limit.
        let usable = limit * 0.85 - 256 * 1_048_576
        guard needed <= usable else {
            throw MemoryLimitError(what: what, neededBytes: needed, availableBytes: limit, source: source, advice: advice)
        }
    }
}

#if canImport(Glibc)
import Glibc
private let RLIMIT_AS_VALUE = __rlimit_resource_t(RLIMIT_AS.rawValue)
private let RLIMIT_DATA_VALUE = __rlimit_resource_t(RLIMIT_DATA.rawValue)
#else
private let RLIMIT_AS_VALUE = RLIMIT_AS
private let RLIMIT_DATA_VALUE = RLIMIT_DATA
#endif

public struct MemoryLimitError: Error, CustomStringConvertible, Equatable {
    public var what: String
    public var neededBytes: Double
    public var availableBytes: Double
    public var source: String
    public var advice: String
    public var description: String {
        func gib(_ bytes: Double) -> String { String(format: "%.1f GiB", bytes / 1_073_741_824) }
        return "\(what) would need about \(gib(neededBytes)) of memory, but \(source) allows \(gib(availableBytes)); \(advice)"
    }
}
