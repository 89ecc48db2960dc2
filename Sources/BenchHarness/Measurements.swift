// The benchmark harness behind `diagnose bench`: the configurations of ../shared/bench/torch_bench.py
// and how each is measured (training tokens/s in a child process of its own, the gradient-flow
// probe, the GEMM), with the machine facts the figures need (/proc/cpuinfo's clock, /proc/stat's
// busy time for contention, getrusage's CPU time and peak memory). The command line only parses
// flags and prints the tables.

import DiagnoseRecord
import Foundation
import TrainingCore

/// One training configuration and cell: tokens per second over timed windows of whole steps.
public struct TrainingFigure: Codable, Sendable {
    public var config = ""
    public var cell = ""
    public var tokensPerSecond: Double
    public var min: Double
    public var max: Double
    public var millisecondsPerStep: Double
    public var peakMemoryBytes: Int
    /// Tokens per second of CPU time (user + system, all threads) over the timed windows: less
    /// sensitive than wall time to other processes on a shared machine.
    public var tokensPerCPUSecond: Double? = nil
    /// Timed windows without and with more than 5% of the machine used by other processes.
    public var cleanWindows: Int? = nil
    public var dirtyWindows: Int? = nil
}

/// Seconds of one gradient-flow section.
public struct ProbeFigure: Codable, Sendable {
    public var config: String
    public var cell: String
    public var seconds: Double

    public init(config: String, cell: String, seconds: Double) {
        (self.config, self.cell, self.seconds) = (config, cell, seconds)
    }
}

/// One matrix multiply size on one thread.
public struct GEMMFigure: Codable, Sendable {
    public var m: Int
    public var n: Int
    public var k: Int
    /// Threads the product was split over.
    public var threads: Int?
    public var gflops: Double
    /// Of two FMA units' peak at the kernel's vector width; nil when the clock is unknown.
    public var peakFraction: Double?
}

/// Everything one `diagnose bench` measured (its --json file).
public struct BenchReport: Codable, Sendable {
    public var training: [TrainingFigure] = []
    public var probe: [ProbeFigure] = []
    public var gemm: [GEMMFigure] = []

    public init() {}
}

/// The configurations of ../shared/bench/torch_bench.py.
public struct BenchConfig: Sendable {
    var vocabulary: Int
    var hidden: Int
    var layers: Int
    var batch: Int
    var steps: Int

    public static let all: [String: BenchConfig] = [
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

    public func measureTraining(cell: CellKind, windowSeconds: Double, windows: Int, warmupSeconds: Double,
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
    public func fingerprint(cell: CellKind, threads: ComputeThreads) -> String {
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

    /// Median seconds of the gradient-flow section (forward included) over `repetitions` runs, on
    /// `threads` threads (PyTorch's probe runs on as many).
    public func measureProbe(cell: CellKind, repetitions: Int, threads: ComputeThreads) -> Double {
        let model = model(cell)
        let batch = randomBatches(count: 1)[0]
        let workspace = Workspace(model: model, threads: threads)
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

public func measureGEMM(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                        threads: ComputeThreads = 1) -> GEMMFigure {
    let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
    for i in 0..<a.count { a[i] = Float(i % 7) * 0.1 }
    for i in 0..<b.count { b[i] = Float(i % 5) * 0.1 }
    let flops = 2.0 * Double(m * n * k)
    let repetitions = Swift.max(3, Int(2e9 / flops))
    var best = Double.infinity
    for _ in 0..<5 {
        let start = now()
        for _ in 0..<repetitions {
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a.pointer, lda: transA ? m : k,
                  b: b.pointer, ldb: transB ? k : n,
                  beta: 0, c: c.pointer, ldc: n, threads: threads)
        }
        best = Swift.min(best, (now() - start) / Double(repetitions))
    }
    let gflops = flops / best / 1e9
    let peak = cpuMegahertz().map { Double(4 * gemmVectorLanes * threads.count) * $0 / 1000 }
    return GEMMFigure(m: m, n: n, k: k, threads: threads.count, gflops: gflops, peakFraction: peak.map { gflops / $0 })
}

/// A training measurement runs in a child process of its own, so that its peak memory (maximum
/// resident set) is its own. The child is this executable again, told which measurement by
/// `argument(config:cell:)`; it prints its `TrainingFigure` as JSON.
public enum ChildMeasurement {
    /// "CONFIG:CELL": what the parent passes the child.
    public static func argument(config: String, cell: CellKind) -> String { "\(config):\(cell.rawValue)" }

    /// The configuration and cell named by `argument(config:cell:)`, when both are known.
    public static func parse(_ text: String) -> (BenchConfig, CellKind)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let config = BenchConfig.all[parts[0]], let cell = CellKind(rawValue: parts[1]) else { return nil }
        return (config, cell)
    }

    /// Runs this executable with `arguments` and reads the figure it prints.
    public static func run(arguments: [String], what: String) throws -> TrainingFigure {
        let process = Process()
        process.executableURL = Bundle.main.executableURL
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        let parentAlive = Pipe()  // never written: its end of file tells the child its parent is gone
        process.standardInput = parentAlive
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw MeasurementError(what: what, status: process.terminationStatus) }
        return try JSONDecoder().decode(TrainingFigure.self, from: data)
    }

    /// Prints a child's figure for its parent.
    public static func report(_ figure: TrainingFigure) throws {
        print(String(decoding: try JSONEncoder().encode(figure), as: UTF8.self))
    }

    /// A child measurement ends when its parent does: the parent holds the write end of the child's
    /// standard input and never writes, so end of file there means the parent is gone (killed, even
    /// by SIGKILL). Portable, unlike prctl(PR_SET_PDEATHSIG).
    public static func exitWithParent() {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let got = read(0, &byte, 1)
                if got == 0 || (got < 0 && errno != EINTR) { _exit(1) }
            }
        }
        thread.start()
    }
}

/// A child measurement that did not finish: which one, and its exit status.
public struct MeasurementError: Error, CustomStringConvertible, Equatable {
    public var what: String
    public var status: Int32
    public var description: String { "the measurement of \(what) failed (exit \(status))" }
}

