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
            return [r.name, r.config.cell, "\(r.parameterCount)", format(s.finalTrainPerplexity, 2),
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
