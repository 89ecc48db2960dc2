import ArgumentParser
import DiagnoseRecord
import Foundation
import TrainingCore

/// `diagnose bench`: the speed figures, measured the way ../shared/bench/torch_bench.py measures
/// PyTorch (same models, batch and window, SGD lr 1, global-norm clipping at 0.25, state carried).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training tokens/s, gradient-flow probe time, GEMM GFLOP/s and peak memory.",
        discussion: "Build with `swift run -c release diagnose bench`. Each training configuration runs in its own "
            + "process so that its peak memory (maximum resident set) is its own.")

    @Option(help: "Configurations to run, comma-separated: a, b, c (see README, Performance).")
    var config: String = "a,b,c"

    @Option(help: "Cells, comma-separated.")
    var cell = WordList<CellKind>([.rnn, .lstm, .gru])

    @Option(name: .customLong("window-seconds"), parsing: .unconditional, help: "Length of one timed window of whole steps.")
    var windowSeconds: Double = 2

    @Option(parsing: .unconditional, help: "Timed windows per configuration (median, min and max are reported).")
    var windows: Int = 5

    @Option(name: .customLong("warmup-seconds"), parsing: .unconditional, help: "Untimed warm-up before the windows.")
    var warmupSeconds: Double = 1

    @Option(parsing: .unconditional, help: "Threads per model.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Also write the figures as JSON to this file.")
    var json: String?

    @Flag(name: .customLong("skip-training"), help: "Only the probe and GEMM figures.")
    var skipTraining = false

    @Option(help: .hidden) var child: String?

    @Flag(help: ArgumentHelp("Print a hash of the bits of a few training steps and of the probe per config and cell "
        + "(compare runs with different --threads, or before and after a change), then stop."))
    var fingerprint = false

    func validate() throws {
        for name in config.split(separator: ",") where BenchConfig.all[String(name)] == nil {
            throw ValidationError("--config \(name): unknown configuration; use a, b or c")
        }
        try positive("--windows", windows, max: 1000)
        try positive("--threads", threads, max: 256)
        // Finite and bounded: the seconds become step counts (Int) and loop limits.
        guard windowSeconds.isFinite, windowSeconds > 0, windowSeconds <= Bench.maxSeconds else {
            throw ValidationError("--window-seconds \(windowSeconds): must be a number of seconds above 0 and at most \(Int(Bench.maxSeconds))")
        }
        guard warmupSeconds.isFinite, warmupSeconds >= 0, warmupSeconds <= Bench.maxSeconds else {
            throw ValidationError("--warmup-seconds \(warmupSeconds): must be a number of seconds from 0 to \(Int(Bench.maxSeconds))")
        }
        if let child, Bench.parseChild(child) == nil {
            throw ValidationError("--child is internal to bench (it names the measurement a child process runs); do not pass it")
        }
    }

    static let maxSeconds = 3600.0

    /// "CONFIG:CELL" of a child measurement, when both are known.
    static func parseChild(_ text: String) -> (BenchConfig, CellKind)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let config = BenchConfig.all[parts[0]], let cell = CellKind(rawValue: parts[1]) else { return nil }
        return (config, cell)
    }

    /// A child measurement ends when its parent does: the parent holds the write end of the child's
    /// standard input and never writes, so end of file there means the parent is gone (killed, even
    /// by SIGKILL). Portable, unlike prctl(PR_SET_PDEATHSIG).
    static func exitWithParent() {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let got = read(0, &byte, 1)
                if got == 0 || (got < 0 && errno != EINTR) { _exit(1) }
            }
        }
        thread.start()
    }

    func run() throws {
        if fingerprint {
            for name in config.split(separator: ",").map(String.init) {
                for cell in cell.items {
                    print("\(name) \(cell.rawValue): \(BenchConfig.all[name]!.fingerprint(cell: cell, threads: ComputeThreads(threads)))")
                }
            }
            return
        }
        if let child, let (benchConfig, benchCell) = Bench.parseChild(child) {
            Bench.exitWithParent()
            let result = benchConfig.measureTraining(
                cell: benchCell, windowSeconds: windowSeconds, windows: windows,
                warmupSeconds: warmupSeconds, threads: threads)
            print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
            return
        }
        // The JSON path is checked before minutes of measuring.
        if let json { try checkWritableFile(json, flag: "--json") }
        let configs = config.split(separator: ",").map(String.init)
        let cells = cell.items.map(\.rawValue)
        var report = BenchReport()
        if !skipTraining {
            print("Training throughput (tokens/s; median of \(windows) windows of >= \(windowSeconds)s; \(threads) threads)")
            print(pad(["config", "cell", "tokens/s", "min", "max", "ms/step", "peak memory", "clean/dirty"],
                      [7, 5, 10, 10, 10, 8, 12, 11]))
            for name in configs {
                for cellName in cells {
                    var result = try runChild(config: name, cell: cellName)
                    result.config = name
                    result.cell = cellName
                    report.training.append(result)
                    print(pad([name, cellName, thousands(result.tokensPerSecond), thousands(result.min),
                               thousands(result.max), String(format: "%.1f", result.millisecondsPerStep),
                               String(format: "%.0f MiB", Double(result.peakMemoryBytes) / 1_048_576),
                               "\(result.cleanWindows ?? 0)/\(result.dirtyWindows ?? 0)"],
                              [7, 5, 10, 10, 10, 8, 12, 11]))
                }
            }
        }
        print("\nGradient-flow probe, config a (B=32, T=64, all 2080 pairs; forward, per-step losses, "
            + "per-tensor gradient norms and G)")
        for kind in cell.items {
            let seconds = BenchConfig.all["a"]!.measureProbe(cell: kind, repetitions: 7)
            report.probe.append(ProbeFigure(config: "a", cell: kind.rawValue, seconds: seconds))
            print("  \(kind.rawValue): \(String(format: "%.4f", seconds)) s")
        }
        let lanes = gemmVectorLanes
        let peakNote = cpuMegahertz().map {
            "; peak = \(4 * lanes) flops/cycle x \(String(format: "%.0f", $0)) MHz"
        } ?? ""
        print("\nMatrix multiply (one thread, \(lanes)-lane kernel\(peakNote))")
        for (m, n, k) in [(32, 512, 128), (128, 128, 128), (512, 512, 512)] {
            let figure = measureGEMM(m: m, n: n, k: k)
            report.gemm.append(figure)
            print("  \(m)x\(n)x\(k): \(String(format: "%.1f", figure.gflops)) GFLOP/s"
                + (figure.peakFraction.map { " (\(String(format: "%.0f", $0 * 100))% of peak)" } ?? ""))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(encoder.encode(report), to: URL(fileURLWithPath: json))
        }
    }

    /// Runs one training measurement in a child process, for its own peak memory.
    func runChild(config: String, cell: String) throws -> TrainingFigure {
        let process = Process()
        process.executableURL = Bundle.main.executableURL
        process.arguments = ["bench", "--child", "\(config):\(cell)", "--window-seconds", "\(windowSeconds)",
                             "--windows", "\(windows)", "--warmup-seconds", "\(warmupSeconds)", "--threads", "\(threads)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        let parentAlive = Pipe()  // never written: its end of file tells the child its parent is gone
        process.standardInput = parentAlive
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandError.measurementFailed("bench: the measurement of config \(config), cell \(cell) failed "
                + "(exit \(process.terminationStatus))")
        }
        return try JSONDecoder().decode(TrainingFigure.self, from: data)
    }
}

struct TrainingFigure: Codable {
    var config = ""
    var cell = ""
    var tokensPerSecond: Double
    var min: Double
    var max: Double
    var millisecondsPerStep: Double
    var peakMemoryBytes: Int
    /// Tokens per second of CPU time (user + system, all threads) over the timed windows: less
    /// sensitive than wall time to other processes on a shared machine.
    var tokensPerCPUSecond: Double? = nil
    /// Timed windows without and with more than 5% of the machine used by other processes.
    var cleanWindows: Int? = nil
    var dirtyWindows: Int? = nil
}

struct ProbeFigure: Codable {
    var config: String
    var cell: String
    var seconds: Double
}

struct GEMMFigure: Codable {
    var m: Int
    var n: Int
    var k: Int
    var gflops: Double
    /// Of two FMA units' peak at the kernel's vector width; nil when the clock is unknown.
    var peakFraction: Double?
}

struct BenchReport: Codable {
    var training: [TrainingFigure] = []
    var probe: [ProbeFigure] = []
    var gemm: [GEMMFigure] = []
}

/// The configurations of ../shared/bench/torch_bench.py.
struct BenchConfig {
    var vocabulary: Int
    var hidden: Int
    var layers: Int
    var batch: Int
    var steps: Int

    static let all: [String: BenchConfig] = [
        "a": BenchConfig(vocabulary: 65, hidden: 128, layers: 1, batch: 32, steps: 64),
        "b": BenchConfig(vocabulary: 65, hidden: 512, layers: 1, batch: 32, steps: 64),
        "c": BenchConfig(vocabulary: 10_000, hidden: 256, layers: 2, batch: 20, steps: 35),
    ]

    func model(_ cell: CellKind) -> LanguageModel {
        let model = LanguageModel(config: ModelConfig(cell: cell, layers: layers, vocabularySize: vocabulary,
                                                      embed: hidden, hidden: hidden))
        model.initialize(Initialization(seed: 0))
        return model
    }

    func randomBatches(count: Int) -> [Batch] {
        var generator = SeededGenerator(seed: 1)
        return (0..<count).map { _ in
            Batch(batch: batch, steps: steps,
                  window: (0..<((steps + 1) * batch)).map { _ in Int32(generator.nextInt(below: vocabulary)) }, recall: nil)
        }
    }

    func measureTraining(cell: CellKind, windowSeconds: Double, windows: Int, warmupSeconds: Double,
                         threads: Int) -> TrainingFigure {
        let runner = StepRunner(model: model(cell), optimizer: .sgd, learningRate: 1, clip: 0.25,
                                threads: ComputeThreads(threads))
        let batches = randomBatches(count: 16)
        var index = 0
        func step() {
            _ = runner.step(batches[index % batches.count])
            index += 1
        }
        let warmStart = now()
        var warm = 0
        while now() - warmStart < warmupSeconds || warm < 3 {
            step()
            warm += 1
        }
        let calibrate = now()
        for _ in 0..<3 { step() }
        let perStep = (now() - calibrate) / 3
        let stepsPerWindow = Swift.max(2, Int(windowSeconds / perStep))
        // Contention guard, as in torch_bench.py: a window during which other processes used more
        // than 5% of the machine's CPU is "dirty"; the figures are taken over clean windows (all
        // windows when none was clean), after waiting for a quiet moment following a dirty one.
        var clean: [Double] = [], dirty: [Double] = []
        var cpu = 0.0, timedSteps = 0
        while clean.count < windows && clean.count + dirty.count < Swift.max(25, windows) {
            if !dirty.isEmpty { _ = ContentionWindow.waitForQuiet() }
            let window = ContentionWindow()
            let cpuStart = cpuSeconds()
            for _ in 0..<stepsPerWindow { step() }
            let (seconds, others) = window.stop()
            cpu += cpuSeconds() - cpuStart
            timedSteps += stepsPerWindow
            let rate = Double(stepsPerWindow * batch * steps) / seconds
            if others < ContentionWindow.othersMax { clean.append(rate) } else { dirty.append(rate) }
        }
        var rates = clean.isEmpty ? dirty : clean
        rates.sort()
        let median = rates[rates.count / 2]
        return TrainingFigure(tokensPerSecond: median, min: rates.first!, max: rates.last!,
                              millisecondsPerStep: 1000 * Double(batch * steps) / median,
                              peakMemoryBytes: peakResidentBytes(),
                              tokensPerCPUSecond: Double(timedSteps * batch * steps) / cpu,
                              cleanWindows: clean.count, dirtyWindows: dirty.count)
    }

    /// FNV-1a over the bits of three training steps (losses, gradient norms, final parameters) and,
    /// for config a, of the gradient-flow section: equal fingerprints mean bit-identical results.
    func fingerprint(cell: CellKind, threads: ComputeThreads) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bits: UInt64) { hash = (hash ^ bits) &* 0x100_0000_01b3 }
        let model = model(cell)
        let runner = StepRunner(model: model, optimizer: .sgd, learningRate: 1, clip: 0.25, threads: threads)
        for batch in randomBatches(count: 3) {
            let outcome = runner.step(batch)
            mix(outcome.loss.bitPattern)
            mix(outcome.gradientNorm.bitPattern)
        }
        for i in 0..<model.parameterCount { mix(UInt64(model.parameters[i].bitPattern)) }
        let training = String(hash, radix: 16)
        guard vocabulary < 1000 else { return "training \(training)" }
        let workspace = Workspace(model: model, threads: threads)
        let (losses, norms, flows) = model.gradientFlowSection(randomBatches(count: 1)[0], workspace: workspace)
        for value in losses.joined() { mix(value.bitPattern) }
        for key in norms.keys.sorted() { mix(norms[key]!.bitPattern) }
        for flow in flows {
            for value in flow.hidden.joined() { mix(value.bitPattern) }
            for value in (flow.cell ?? []).joined() { mix(value.bitPattern) }
        }
        return "training \(training) probe \(String(hash, radix: 16))"
    }

    /// Median seconds of the gradient-flow section (forward included) over `repetitions` runs, on one thread.
    func measureProbe(cell: CellKind, repetitions: Int) -> Double {
        let model = model(cell)
        let batch = randomBatches(count: 1)[0]
        let workspace = Workspace(model: model)
        _ = model.gradientFlowSection(batch, workspace: workspace)
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = now()
            _ = model.gradientFlowSection(batch, workspace: workspace)
            times.append(now() - start)
        }
        return times.sorted()[times.count / 2]
    }
}

func measureGEMM(m: Int, n: Int, k: Int) -> GEMMFigure {
    let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
    for i in 0..<a.count { a[i] = Float(i % 7) * 0.1 }
    for i in 0..<b.count { b[i] = Float(i % 5) * 0.1 }
    let flops = 2.0 * Double(m * n * k)
    let repetitions = Swift.max(3, Int(2e9 / flops))
    var best = Double.infinity
    for _ in 0..<5 {
        let start = now()
        for _ in 0..<repetitions {
            sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a.pointer, lda: k, b: b.pointer, ldb: n,
                  beta: 0, c: c.pointer, ldc: n)
        }
        best = Swift.min(best, (now() - start) / Double(repetitions))
    }
    let gflops = flops / best / 1e9
    let peak = cpuMegahertz().map { Double(4 * gemmVectorLanes) * $0 / 1000 }
    return GEMMFigure(m: m, n: n, k: k, gflops: gflops, peakFraction: peak.map { gflops / $0 })
}

/// The clock from /proc/cpuinfo (Linux); nil where the system does not say (macOS on Apple silicon).
func cpuMegahertz() -> Double? {
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

func thousands(_ value: Double) -> String {
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.maximumFractionDigits = 0
    return formatter.string(from: NSNumber(value: value)) ?? "\(Int(value))"
}

func pad(_ cells: [String], _ widths: [Int]) -> String {
    zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
}
