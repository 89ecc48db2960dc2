// The verdict: one plain sentence per run, read off the last probe's lag profile.
//
// The lag profile is g(l) = mean over t >= l of G[t][t - l], the size of the gradient that the
// loss at step t sends back l steps. Its ratio to the local gradient, r(l) = g(l) / g(0), is the
// number a reader needs: r(20) = 1e-6 means a loss cannot teach the model anything about inputs
// 20 steps back. The verdict quotes r at one reference lag shared by all runs (so sentences compare
// like with like), the fitted factor per step, and the horizon, the first lag with r(l) < 1e-3.

import DiagnoseRecord
import Foundation

/// What the last probe of one run says about gradient flow, in numbers.
struct GradientVerdict: Equatable {
    enum Kind: Equatable {
        /// r(l) fell below 1e-3 within the window.
        case vanishing(horizon: Int)
        /// r(L) > 1 and the gradient grows per step.
        case exploding
        /// Still at least 1e-3 of the local gradient at the window's end.
        case holding
        /// The profile holds NaN or infinities, or g(0) = 0.
        case notFinite
        /// No probe was recorded.
        case noProbe
    }

    var kind: Kind
    /// The reference lag L and r(L) = g(L) / g(0).
    var lag: Int
    var ratio: Double?
    var decayPerStep: Double?
    /// Steps per window (T), the longest lag the probe can see plus one.
    var window: Int
    /// LSTM only: r(L) along the cell state.
    var cellRatio: Double?

    /// The top layer's forward direction at the last probe: the layer the summary numbers describe.
    static func probe(of record: RunRecord) -> LayerProbe? {
        guard let probe = record.probes.last else { return nil }
        let forward = probe.layers.filter { $0.direction == "forward" }
        return forward.max { $0.layer < $1.layer } ?? probe.layers.last
    }

    /// The longest lag every run's profile covers (at least 1): the reference lag of the verdicts.
    static func referenceLag(for records: [RunRecord]) -> Int {
        let longest = records.compactMap { probe(of: $0).map { $0.lagProfile.count - 1 } }.filter { $0 >= 1 }
        return longest.min() ?? 1
    }

    init(record: RunRecord, referenceLag: Int) {
        window = record.config.bptt
        guard let probe = GradientVerdict.probe(of: record), probe.lagProfile.count >= 2 else {
            kind = .noProbe
            lag = referenceLag
            return
        }
        window = probe.lagProfile.count
        lag = min(max(referenceLag, 1), probe.lagProfile.count - 1)
        decayPerStep = probe.decayPerStep
        let profile = probe.lagProfile
        let local = profile[0]
        if local.isFinite && local > 0 {
            ratio = profile[lag] / local
        }
        if let cell = probe.cellLagProfile, cell.count > lag, cell[0].isFinite, cell[0] > 0 {
            cellRatio = cell[lag] / cell[0]
        }
        guard let r = ratio, r.isFinite, profile.allSatisfy({ $0.isFinite }) else {
            kind = .notFinite
            return
        }
        if let horizon = probe.horizon {
            kind = .vanishing(horizon: horizon)
        } else if r > 1, (decayPerStep ?? 2) > 1 {
            kind = .exploding
        } else {
            kind = .holding
        }
    }

    /// The sentence after "name: ", plain text (the caller escapes it).
    var sentence: String {
        let steps = "\(lag) step\(lag == 1 ? "" : "s") back"
        let perStep = decayPerStep.map { " (\(ReportFormat.factor($0)) per step)" } ?? ""
        switch kind {
        case .noProbe:
            return "no gradient probe was recorded, so there is no lag profile to judge."
        case .notFinite:
            return "the gradient lag profile is not finite (n/a): the gradient overflowed or the run diverged."
        case .vanishing(let horizon):
            var text = "the gradient from \(steps) is \(ReportFormat.ratio(ratio)) of the local one\(perStep); "
                + "vanishing: below 1e-3 after \(horizon) step\(horizon == 1 ? "" : "s")."
            if let cellRatio { text += " Along the cell state it keeps \(ReportFormat.ratio(cellRatio))." }
            return text
        case .exploding:
            return "the gradient from \(steps) is \(ReportFormat.ratio(ratio)) times the local one\(perStep); "
                + "exploding: it grows with distance, so clipping carries the training."
        case .holding:
            let verb = (ratio ?? 0) >= 0.01 ? "still holds" : "is"
            var text = "the gradient from \(steps) \(verb) \(ReportFormat.ratio(ratio)) of the local one\(perStep); "
                + "no vanishing within the \(window)-step window."
            if let cellRatio { text += " Along the cell state it keeps \(ReportFormat.ratio(cellRatio))." }
            return text
        }
    }

    /// Short label for the summary table and badges.
    var label: String {
        switch kind {
        case .vanishing: return "vanishing"
        case .exploding: return "exploding"
        case .holding: return "holds"
        case .notFinite: return "n/a"
        case .noProbe: return "no probe"
        }
    }
}

/// Sentences about how the run ended and what it learned, appended to the verdict.
enum RunOutcome {
    static func sentences(for record: RunRecord) -> String {
        var parts: [String] = []
        if let step = record.status.divergedAtStep {
            let reason = record.status.divergenceReason.map { " (\($0))" } ?? ""
            parts.append("Training diverged at step \(ReportFormat.integer(step))\(reason).")
        } else if record.status.interrupted {
            parts.append("Interrupted after \(ReportFormat.integer(record.summary.stepsCompleted)) of "
                + "\(ReportFormat.integer(record.config.steps)) steps.")
        }
        if record.corpus.synthetic, let accuracy = record.summary.recallAccuracy, accuracy.isFinite {
            let lag = record.config.lag.map { " from \($0) steps back" } ?? ""
            parts.append("It recalls \(ReportFormat.percent(accuracy)) of the symbols\(lag).")
        }
        return parts.joined(separator: " ")
    }
}
