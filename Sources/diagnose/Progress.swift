import DiagnoseRecord
import Foundation
import TrainingCore

/// Progress for one or more concurrent runs: a redrawn status line on a terminal, plain
/// periodic lines otherwise (as in CI). Thread-safe.
final class ProgressPrinter: @unchecked Sendable {
    private let names: [String]
    private let quiet: Bool
    private let terminal = isatty(STDERR_FILENO) != 0
    private var latest: [TrainingProgress?]
    private var lastPrinted: [Int]
    private var lastDraw = 0.0
    private let lock = NSLock()

    init(names: [String], quiet: Bool) {
        self.names = names
        self.quiet = quiet
        latest = Array(repeating: nil, count: names.count)
        lastPrinted = Array(repeating: 0, count: names.count)
    }

    func update(index: Int, _ progress: TrainingProgress) {
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        latest[index] = progress
        if terminal {
            let now = Date().timeIntervalSince1970
            guard now - lastDraw > 0.1 || progress.step == progress.totalSteps else { return }
            lastDraw = now
            let parts = zip(names, latest).map { name, p -> String in
                guard let p else { return "\(name) waiting" }
                let fraction = Double(p.step) / Double(max(p.totalSteps, 1))
                let filled = Int(fraction * 20)
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled)
                let left = p.step > 0 ? p.elapsed / Double(p.step) * Double(p.totalSteps - p.step) : 0
                return "\(name) [\(bar)] \(p.step)/\(p.totalSteps) loss \(format(p.loss, 3)) "
                    + "\(Int(p.tokensPerSecond)) tok/s \(Int(left.rounded()))s left"
            }
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + parts.joined(separator: " | ")).utf8))
        } else {
            // Ten lines per run, plus every evaluation.
            let every = max(progress.totalSteps / 10, 1)
            guard progress.step - lastPrinted[index] >= every || progress.validLoss != nil else { return }
            lastPrinted[index] = progress.step
            var line = "\(names[index]): step \(progress.step)/\(progress.totalSteps) loss \(format(progress.loss, 4)) "
                + "\(Int(progress.tokensPerSecond)) tok/s"
            if let valid = progress.validLoss { line += " valid \(format(valid, 4))" }
            if let recall = progress.recallAccuracy { line += " recall \(format(recall, 3))" }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        guard !quiet, terminal else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// Progress of a list of runs. When every run trains at once it is `ProgressPrinter`'s per-run
/// display; with more runs than run at once (a sweep) it counts runs done / total and estimates the
/// time left from the work done so far (finished runs plus the fractions of the runs in flight).
final class RunProgress: @unchecked Sendable {
    private let names: [String]
    private let quiet: Bool
    private let perRun: ProgressPrinter?
    private let terminal = isatty(STDERR_FILENO) != 0
    private var fractions: [Double]
    private var running: Set<Int> = []
    private var done = 0
    private let start = Date()
    private var lastDraw = 0.0
    private let lock = NSLock()

    init(names: [String], concurrent: Int, quiet: Bool) {
        self.names = names
        self.quiet = quiet
        perRun = names.count <= concurrent ? ProgressPrinter(names: names, quiet: quiet) : nil
        fractions = Array(repeating: 0, count: names.count)
    }

    func started(_ index: Int) {
        lock.lock()
        running.insert(index)
        lock.unlock()
    }

    func update(index: Int, _ progress: TrainingProgress) {
        if let perRun { return perRun.update(index: index, progress) }
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        fractions[index] = Double(progress.step) / Double(max(progress.totalSteps, 1))
        let now = Date().timeIntervalSince1970
        guard terminal, now - lastDraw > 0.2 else { return }
        lastDraw = now
        draw()
    }

    func finished(_ index: Int, _ record: RunRecord) {
        guard perRun == nil, !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        fractions[index] = 1
        running.remove(index)
        done += 1
        if terminal {
            draw()
        } else {
            var line = "[\(done)/\(names.count)] \(names[index]) done in \(format(record.summary.seconds, 1))s"
            if let recall = record.summary.recallAccuracy { line += ", recall \(format(recall * 100, 1))%" }
            if let left = secondsLeft() { line += "; about \(RunProgress.duration(left)) left" }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        if let perRun { return perRun.finish() }
        guard !quiet, terminal else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// Elapsed time scaled by the work still to do; nil until some work is done.
    private func secondsLeft() -> Double? {
        let work = fractions.reduce(0, +)
        guard work > 0.01 else { return nil }
        let elapsed = Date().timeIntervalSince(start)
        return elapsed * (Double(names.count) - work) / work
    }

    private func draw() {
        let inFlight = running.sorted().map { "\(names[$0]) \(Int(fractions[$0] * 100))%" }.joined(separator: ", ")
        var line = "runs \(done)/\(names.count) done"
        if !inFlight.isEmpty { line += "; training \(inFlight)" }
        if let left = secondsLeft() { line += "; about \(RunProgress.duration(left)) left" }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    /// 42s, 3m05s, 2h10m.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}

func format(_ value: Double?, _ digits: Int) -> String {
    guard let value else { return "-" }
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    return String(format: "%.\(digits)f", value)
}

/// One line while a large corpus loads: redrawn on a terminal, a line per phase otherwise.
final class CorpusLoadPrinter: @unchecked Sendable {
    private let quiet: Bool
    private let terminal = isatty(STDERR_FILENO) != 0
    private var drawn = false
    private let started = Date()

    init(quiet: Bool) { self.quiet = quiet }

    func update(_ progress: CorpusLoadProgress) {
        guard !quiet else { return }
        let line = "loading \(progress.file) (\(format(Double(progress.bytes) / 1e6, 1)) MB): \(progress.phase) "
            + "(\(format(Date().timeIntervalSince(started), 1)) s)"
        FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + line + (terminal ? "" : "\n")).utf8))
        drawn = true
    }

    func finish() {
        guard !quiet, drawn else { return }
        let line = "loaded in \(format(Date().timeIntervalSince(started), 1)) s"
        FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }
}

/// The table printed at the end of a run.
enum SummaryTable {
    static func render(_ records: [RunRecord]) -> String {
        let header = ["run", "cell", "params", "train ppl", "valid ppl", "recall", "decay/step (init -> end)",
                      "horizon (init -> end)", "clipped", "time"]
        func horizon(_ h: Int?, _ r: RunRecord) -> String { h.map(String.init) ?? "beyond \(r.config.bptt)" }
        let rows = records.map { r -> [String] in
            let s = r.summary
            var time = format(s.seconds, 1) + "s"
            if let step = r.status.divergedAtStep { time += " (diverged at \(step))" }
            if r.status.interrupted { time += " (interrupted)" }
            return [r.name, r.config.cell.rawValue, "\(r.parameterCount)", format(s.finalTrainPerplexity, 2),
                    format(s.finalValidPerplexity, 2), s.recallAccuracy.map { format($0 * 100, 1) + "%" } ?? "-",
                    format(s.decayPerStepFirst, 3) + " -> " + format(s.decayPerStep, 3),
                    horizon(s.horizonFirst, r) + " -> " + horizon(s.horizon, r),
                    s.clippedFraction.map { format($0 * 100, 1) + "%" } ?? "-", time]
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
