import Foundation

/// The clock from /proc/cpuinfo (Linux); nil where the system does not say (macOS on Apple silicon).
public func cpuMegahertz() -> Double? {
    #if os(Linux)
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu MHz") }),
          let value = Double(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) else { return nil }
    return value
    #else
    return nil
    #endif
}

/// One timed window and how much CPU other processes used meanwhile (as torch_bench.py measures it).
struct ContentionWindow {
    /// Windows where others used more than this fraction of all cores are discarded.
    static let othersMax = 0.05
    let start = now()
    let busy = ContentionWindow.machineBusySeconds()
    let own = cpuSeconds()

    /// Wall seconds since `init` and the fraction of the machine's CPU used by other processes.
    func stop() -> (seconds: Double, others: Double) {
        let seconds = now() - start
        let others = (Self.machineBusySeconds() - busy) - (cpuSeconds() - own)
        return (seconds, Swift.max(0, others) / (seconds * Double(ProcessInfo.processInfo.activeProcessorCount)))
    }

    /// Sleeps until others use less than `othersMax` over half a second, at most `limit` seconds.
    static func waitForQuiet(limit: Double = 30) -> Bool {
        let end = now() + limit
        while now() < end {
            let window = ContentionWindow()
            usleep(500_000)
            if window.stop().others < othersMax { return true }
        }
        return false
    }

    /// Busy CPU seconds of the whole machine (all cores) from the first line of /proc/stat. Other
    /// systems have no /proc: there it stays 0, and every window counts as clean.
    static func machineBusySeconds() -> Double {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first else { return 0 }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 4 else { return 0 }
        let idle = values[3] + (values.count > 4 ? values[4] : 0)
        return (values.prefix(8).reduce(0, +) - idle) / Double(sysconf(Int32(_SC_CLK_TCK)))
        #else
        return 0
        #endif
    }
}

/// This process's resource usage so far (getrusage, on Linux and macOS alike).
func ownUsage() -> rusage {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return usage
}

/// User plus system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    let usage = ownUsage()
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The maximum resident set of this process: Linux counts ru_maxrss in KiB, macOS in bytes.
func peakResidentBytes() -> Int {
    #if os(Linux)
    return ownUsage().ru_maxrss * 1024
    #else
    return ownUsage().ru_maxrss
    #endif
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
