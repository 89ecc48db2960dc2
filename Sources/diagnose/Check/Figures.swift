// The figures `diagnose check` can read off a run record: the record's summary fields and a few
// derived from its steps, probes and status. Each knows how a baseline comparison treats it.

import DiagnoseRecord
import Foundation

/// One measured value. `value` is nil when the record does not have it (a recall accuracy on a
/// text corpus, a decay with no probe); a horizon beyond the window is +infinity.
struct Measurement: Equatable {
    var value: Double?
    var text: String

    init(_ value: Double?, text: String? = nil) {
        self.value = value
        self.text = text ?? value.map(formatMeasured) ?? "not recorded"
    }
}

/// Measured values as they print: 4 significant digits, exact integers as integers.
func formatMeasured(_ value: Double) -> String {
    if !value.isFinite || (value == value.rounded() && abs(value) < 1e9) { return formatNumber(value) }
    return String(format: "%.4g", value)
}

struct Figure {
    enum ArgumentKind { case none, lag, gate }
    /// How a baseline comparison reads a change.
    enum Scale { case relative, decades, exact }
    /// Which way is worse; `.either` fails a change beyond the tolerance in both directions.
    enum Worse { case higher, lower, either }

    var name: String
    var argument: ArgumentKind
    var meaning: String
    var scale: Scale
    var worse: Worse
    /// Compared against a baseline (deterministic figures that describe gradient health and quality).
    var inBaseline: Bool
    var measure: (RunRecord, FigureArgument?) -> Measurement

    var usage: String {
        switch argument {
        case .none: return name
        case .lag: return "\(name)(L)"
        case .gate: return "\(name)(GATE)"
        }
    }
}

enum Figures {
    static func find(_ name: String) -> Figure? { all.first { $0.name == name } }

    /// The figure whose name is nearest to a misspelt one (at most 2 edits, ignoring case).
    static func closest(to name: String) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var current = [i + 1]
                for (j, y) in b.enumerated() {
                    current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
                }
                previous = current
            }
            return previous[b.count]
        }
        let target = Array(name.lowercased())
        let scored = all.map { ($0.name, distance(Array($0.name.lowercased()), target)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    static let all: [Figure] = [
        summary("finalTrainLoss", "mean training loss at the last evaluation", .relative, .higher) { $0.finalTrainLoss },
        summary("finalTrainPerplexity", "exp(finalTrainLoss)", .relative, .higher) { $0.finalTrainPerplexity },
        summary("finalValidLoss", "validation loss at the last evaluation", .relative, .higher) { $0.finalValidLoss },
        summary("finalValidPerplexity", "exp(finalValidLoss)", .relative, .higher) { $0.finalValidPerplexity },
        summary("recallAccuracy", "share of recall answers right (synthetic corpus)", .relative, .lower) {
            $0.recallAccuracy
        },
        summary("decayPerStep", "gradient factor per step back, last probe", .relative, .either) {
            $0.decayPerStep
        },
        summary("decayPerStepFirst", "the same at the first probe (initialisation)", .relative, .either) {
            $0.decayPerStepFirst
        },
        Figure(name: "horizon", argument: .none, meaning: "first lag with g(l)/g(0) < 1e-3 (inf: none), last probe",
               scale: .relative, worse: .either, inBaseline: true) { record, _ in
            horizon(record.summary.horizon, record: record, probe: record.probes.last)
        },
        Figure(name: "horizonFirst", argument: .none, meaning: "the same at the first probe",
               scale: .relative, worse: .either, inBaseline: true) { record, _ in
            horizon(record.summary.horizonFirst, record: record, probe: record.probes.first)
        },
        summary("spectralRadiusFirst", "spectral radius of W_h at the first probe", .relative, .either) {
            $0.spectralRadiusFirst
        },
        summary("spectralRadiusLast", "spectral radius of W_h at the last probe", .relative, .either) {
            $0.spectralRadiusLast
        },
        Figure(name: "gradientAtLag", argument: .lag,
               meaning: "g(L)/g(0), the gradient L steps back, last probe",
               scale: .decades, worse: .either, inBaseline: true) { record, argument in
            gradientAtLag(record.probes.last, argument)
        },
        Figure(name: "gradientAtLagFirst", argument: .lag, meaning: "the same at the first probe",
               scale: .decades, worse: .either, inBaseline: true) { record, argument in
            gradientAtLag(record.probes.first, argument)
        },
        Figure(name: "clippedFraction", argument: .none, meaning: "share of steps whose gradient was clipped",
               scale: .relative, worse: .higher, inBaseline: false) { record, _ in
            Measurement(record.summary.clippedFraction)
        },
        Figure(name: "gateSaturation", argument: .gate,
               meaning: "saturated share of gate GATE (forget, ...), last probe",
               scale: .relative, worse: .higher, inBaseline: false) { record, argument in
            guard case .name(let gate)? = argument else { return Measurement(nil) }
            return Measurement(record.summary.gateSaturation?[gate])
        },
        Figure(name: "diverged", argument: .none, meaning: "1 if a loss or gradient turned NaN or inf, else 0",
               scale: .exact, worse: .higher, inBaseline: true) { record, _ in
            Measurement(record.status.divergedAtStep == nil ? 0 : 1)
        },
        Figure(name: "nonFiniteGradients", argument: .none,
               meaning: "steps whose gradient norm was NaN or infinite",
               scale: .exact, worse: .higher, inBaseline: false) { record, _ in
            Measurement(Double(record.steps.filter { !$0.gradientNorm.isFinite }.count))
        },
        Figure(name: "maxGradientNorm", argument: .none, meaning: "largest gradient norm (before clipping)",
               scale: .relative, worse: .higher, inBaseline: false) { record, _ in
            Measurement(record.steps.map(\.gradientNorm).max { a, b in a < b || a.isNaN })
        },
        Figure(name: "stepsCompleted", argument: .none, meaning: "optimiser steps taken",
               scale: .exact, worse: .lower, inBaseline: false) { record, _ in
            Measurement(Double(record.summary.stepsCompleted))
        },
        Figure(name: "interrupted", argument: .none, meaning: "1 if Ctrl-C stopped the run, else 0",
               scale: .exact, worse: .higher, inBaseline: false) { record, _ in
            Measurement(record.status.interrupted ? 1 : 0)
        },
        Figure(name: "seconds", argument: .none, meaning: "training time (varies between machines)",
               scale: .relative, worse: .higher, inBaseline: false) { record, _ in
            Measurement(record.summary.seconds)
        },
        Figure(name: "tokensPerSecond", argument: .none, meaning: "training speed (varies between machines)",
               scale: .relative, worse: .lower, inBaseline: false) { record, _ in
            Measurement(record.summary.tokensPerSecond)
        },
    ]

    private static func summary(_ name: String, _ meaning: String, _ scale: Figure.Scale, _ worse: Figure.Worse,
                                _ read: @escaping (RunSummary) -> Double?) -> Figure {
        Figure(name: name, argument: .none, meaning: meaning, scale: scale, worse: worse, inBaseline: true) { record, _ in
            Measurement(read(record.summary))
        }
    }

    private static func horizon(_ horizon: Int?, record: RunRecord, probe: ProbeRecord?) -> Measurement {
        if let horizon { return Measurement(Double(horizon)) }
        guard let layer = probe?.topForward, !layer.lagProfile.isEmpty else { return Measurement(nil) }
        return Measurement(.infinity, text: "beyond \(layer.lagProfile.count)")
    }

    private static func gradientAtLag(_ probe: ProbeRecord?, _ argument: FigureArgument?) -> Measurement {
        guard case .number(let lag)? = argument, let layer = probe?.topForward else { return Measurement(nil) }
        let profile = layer.lagProfile
        guard lag >= 0, lag < Double(profile.count), profile[0] > 0 else { return Measurement(nil) }
        return Measurement(profile[Int(lag)] / profile[0])
    }

    /// `check --help` and README list these lines.
    static var helpText: String {
        let width = all.map(\.usage.count).max()!
        return all.map { "  " + $0.usage.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.meaning }
            .joined(separator: "\n")
    }
}
