import ArgumentParser
import BenchHarness
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
        if let json { try requireNonEmptyPath(json, flag: "--json") }
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
        if let child, ChildMeasurement.parse(child) == nil {
            throw ValidationError("--child is internal to bench (it names the measurement a child process runs); do not pass it")
        }
    }

    static let maxSeconds = 3600.0

    func run() throws {
        if fingerprint {
            for name in config.split(separator: ",").map(String.init) {
                for cell in cell.items {
                    print("\(name) \(cell.rawValue): \(BenchConfig.all[name]!.fingerprint(cell: cell, threads: ComputeThreads(threads)))")
                }
            }
            return
        }
        if let child, let (benchConfig, benchCell) = ChildMeasurement.parse(child) {
            ChildMeasurement.exitWithParent()
            try ChildMeasurement.report(benchConfig.measureTraining(
                cell: benchCell, windowSeconds: windowSeconds, windows: windows,
                warmupSeconds: warmupSeconds, threads: threads))
            return
        }
        // The JSON path is checked before minutes of measuring.
        if let json { try checkWritableFile(json, flag: "--json") }
        let configs = config.split(separator: ",").map(String.init)
        var report = BenchReport()
        if !skipTraining {
            print("Training throughput (tokens/s; median of \(windows) windows of >= \(windowSeconds)s; \(threads) threads)")
            print(pad(["config", "cell", "tokens/s", "min", "max", "ms/step", "peak memory", "clean/dirty"],
                      [7, 5, 10, 10, 10, 8, 12, 11]))
            for name in configs {
                for kind in cell.items {
                    var result = try runChild(config: name, cell: kind)
                    result.config = name
                    result.cell = kind.rawValue
                    report.training.append(result)
                    print(pad([name, kind.rawValue, thousands(result.tokensPerSecond), thousands(result.min),
                               thousands(result.max), String(format: "%.1f", result.millisecondsPerStep),
                               String(format: "%.0f MiB", Double(result.peakMemoryBytes) / 1_048_576),
                               "\(result.cleanWindows ?? 0)/\(result.dirtyWindows ?? 0)"],
                              [7, 5, 10, 10, 10, 8, 12, 11]))
                }
            }
        }
        let pool = ComputeThreads(threads)
        print("\nGradient-flow probe, config a (B=32, T=64, all 2080 pairs; forward, per-step losses, "
            + "per-tensor gradient norms and G; \(threads) thread\(threads == 1 ? "" : "s"))")
        for kind in cell.items {
            let seconds = BenchConfig.all["a"]!.measureProbe(cell: kind, repetitions: 7, threads: pool)
            report.probe.append(ProbeFigure(config: "a", cell: kind.rawValue, seconds: seconds))
            print("  \(kind.rawValue): \(String(format: "%.4f", seconds)) s")
        }
        let lanes = gemmVectorLanes
        let peakNote = cpuMegahertz().map {
            "; peak = \(4 * lanes) flops/cycle x \(String(format: "%.0f", $0)) MHz a thread"
        } ?? ""
        // The micro-kernel's shapes on one thread, then large products on the bench's threads,
        // where each thread should add a core's rate: a square one and config c's three decoder
        // products (B x T = 700 rows, 10,000 words, H = 256: logits, dW_dec, d h).
        let shapes: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, threads: ComputeThreads)] = [
            (32, 512, 128, false, false, 1), (128, 128, 128, false, false, 1), (512, 512, 512, false, false, 1),
            (2048, 2048, 2048, false, false, pool), (700, 10_000, 256, false, true, pool),
            (10_000, 256, 700, true, false, pool), (700, 256, 10_000, false, false, pool),
        ]
        print("\nMatrix multiply (\(lanes)-lane kernel\(peakNote))")
        for shape in shapes {
            let figure = measureGEMM(m: shape.m, n: shape.n, k: shape.k, transA: shape.transA, transB: shape.transB,
                                     threads: shape.threads)
            report.gemm.append(figure)
            let operands = (shape.transA ? "A^T" : "A") + " " + (shape.transB ? "B^T" : "B")
            print("  \(shape.m)x\(shape.n)x\(shape.k) (\(operands), \(shape.threads.count) thread\(shape.threads.count == 1 ? "" : "s")): "
                + "\(String(format: "%.1f", figure.gflops)) GFLOP/s"
                + (figure.peakFraction.map { " (\(String(format: "%.0f", $0 * 100))% of peak)" } ?? ""))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writing(flag: "--json") { try AtomicFile.write(encoder.encode(report), to: URL(fileURLWithPath: json)) }
        }
    }

    /// Runs one training measurement in a child process, for its own peak memory.
    func runChild(config: String, cell: CellKind) throws -> TrainingFigure {
        try ChildMeasurement.run(
            arguments: ["bench", "--child", ChildMeasurement.argument(config: config, cell: cell),
                        "--window-seconds", "\(windowSeconds)", "--windows", "\(windows)",
                        "--warmup-seconds", "\(warmupSeconds)", "--threads", "\(threads)"],
            what: "config \(config), cell \(cell.rawValue)")
    }
}

func thousands(_ value: Double) -> String {
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.maximumFractionDigits = 0
    return formatter.string(from: NSNumber(value: value)) ?? "\(Int(value))"
}

func pad(_ cells: [String], _ widths: [Int]) -> String {
    zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
}
