// The verdict: a few plain sentences per run, read off the first and the last probe.
//
// The lag profile is g(l) = mean over t >= l of G[t][t - l], the size of the gradient that the
// loss at step t sends back l steps. Its ratio to the local gradient, r(l) = g(l) / g(0), is the
// number a reader needs: r(20) = 1e-6 means a loss cannot teach the model anything about inputs
// 20 steps back. Two probes tell different stories and both matter:
//
// - The first probe (step 0, the initialisation) shows the architecture's own behaviour before
//   training shapes the weights: there the lecture's argument applies directly (a simple RNN's
//   gradient shrinks by a roughly constant factor per step, an LSTM's cell path keeps more).
// - The last probe shows what training did. Training can expand W_h until the gradient no longer
//   vanishes, which does not mean the model learned to carry information: an expanding map cannot
//   hold a symbol stably (Bengio, Simard and Frasconi, 1994). So the verdict states the numbers of
//   both probes, the spectral radius before and after, and, on the synthetic recall corpus, how
//   much gradient the recall answers send to the letter they must repeat and how often the model
//   gets them right. It never states a conclusion the numbers do not carry.

import DiagnoseRecord
import Foundation

/// One probe's lag profile (top layer, forward direction), read as numbers.
struct GradientReading: Equatable {
    enum Kind: Equatable {
        /// r(l) fell below 1e-3 within the window; the first such lag.
        case vanishing(horizon: Int)
        /// Fitted factor per step above 1 and r > 1 at the window's last lag.
        case growing
        /// Still at least 1e-3 of the local gradient at the window's last lag, not growing.
        case holding
        /// The profile holds NaN or infinities, or g(0) is not positive.
        case notFinite
    }

    var step: Int
    var kind: Kind
    /// exp of the least-squares slope of log g(l) against l.
    var decayPerStep: Double?
    /// Lags the profile covers (T): l = 0..<window.
    var window: Int
    /// The lag the ratios below are quoted at.
    var lag: Int
    /// r(lag) = g(lag) / g(0) of the hidden state.
    var ratio: Double?
    /// LSTM: the same along the cell state.
    var cellRatio: Double?
    /// LSTM: the cell state's horizon (nil: above 1e-3 across the window, or no cell state).
    var cellHorizon: Int?
    /// Synthetic corpus: the lag profile restricted to the recall answers, at `lag` (which is then
    /// the recall lag), relative to its own l = 0 value.
    var recallRatio: Double?
    /// r at the last lag of the window.
    var endRatio: Double?

    var horizon: Int? {
        if case .vanishing(let horizon) = kind { return horizon }
        return nil
    }

    /// Reads `probe`'s top forward layer; nil when that layer has fewer than two lags.
    init?(probe: ProbeRecord, lag quoteLag: Int) {
        guard let layer = probe.topForward, layer.lagProfile.count >= 2 else { return nil }
        let profile = layer.lagProfile
        step = probe.step
        window = profile.count
        lag = min(max(quoteLag, 1), profile.count - 1)
        decayPerStep = layer.decayPerStep
        let local = profile[0]
        let usable = local.isFinite && local > 0
        ratio = usable ? profile[lag] / local : nil
        endRatio = usable ? profile[profile.count - 1] / local : nil
        if let cell = layer.cellLagProfile, cell.count > lag, cell[0].isFinite, cell[0] > 0 {
            cellRatio = cell[lag] / cell[0]
            cellHorizon = layer.cellHorizon
        }
        if let recall = layer.recallLagProfile, recall.count > lag, let r0 = recall[0], let rl = recall[lag],
           r0.isFinite, r0 > 0, rl.isFinite {
            recallRatio = rl / r0
        }
        guard usable, profile.allSatisfy({ $0.isFinite }), let end = endRatio else {
            kind = .notFinite
            return
        }
        if let horizon = layer.horizon {
            kind = .vanishing(horizon: horizon)
        } else if let d = decayPerStep, d > 1, end > 1 {
            kind = .growing
        } else {
            kind = .holding
        }
    }

    /// What the gradient does, as the end of a sentence that starts "the gradient ".
    /// `withRatio` adds r(lag) where the kind alone does not say how much arrives.
    func behaviour(withRatio: Bool) -> String {
        let factor = decayPerStep.map(ReportFormat.factor)
        let back = "\(lag) step\(lag == 1 ? "" : "s") back"
        switch kind {
        case .notFinite:
            return "lag profile is not finite (n/a): the gradient overflowed or the run diverged"
        case .vanishing(let horizon):
            let rate = factor.map { "falls \($0) per step and " } ?? ""
            return rate + "is below 1e-3 of the local one after \(horizon) step\(horizon == 1 ? "" : "s")"
        case .growing:
            return "grows \(factor ?? ReportFormat.missing) per step: \(back) it is "
                + GradientReading.share(ratio, of: "the local one")
        case .holding:
            var text: String
            if let d = decayPerStep, d.isFinite, d < 1 {
                text = "falls \(factor!) per step but stays above 1e-3 of the local one across the \(window)-step window"
            } else {
                text = "stays above 1e-3 of the local one across the \(window)-step window"
                if let factor { text += " (\(factor) per step)" }
            }
            if withRatio { text += "; \(back) it is " + GradientReading.share(ratio, of: "the local one") }
            return text
        }
    }

    /// "7.2e-4 of the local one", "1.9 times the local one", "as much as the local one".
    static func share(_ ratio: Double?, of reference: String) -> String {
        guard let ratio, ratio.isFinite else { return "\(ReportFormat.ratio(ratio)) relative to \(reference)" }
        let text = ReportFormat.ratio(ratio)
        if text == "1" { return "as much as \(reference)" }
        return ratio > 1 ? "\(text) times \(reference)" : "\(text) of \(reference)"
    }

    /// Short text for a badge or a table cell: "×0.41", "n/a".
    var factorText: String {
        kind == .notFinite ? "n/a" : ReportFormat.factor(decayPerStep)
    }

    /// "8 steps", "beyond T = 30", "n/a".
    var horizonText: String {
        switch kind {
        case .vanishing(let horizon): return "\(horizon) step\(horizon == 1 ? "" : "s")"
        case .notFinite: return "n/a"
        case .growing, .holding: return "beyond T = \(window)"
        }
    }
}

/// What the probes of one run say about gradient flow: the first and the last reading, and the
/// sentences that put them in words.
struct GradientVerdict: Equatable {
    /// How the first probe's weights came about, which decides what it may be called.
    enum Start: Equatable {
        /// Step 0 of a training run from random weights.
        case initialisation
        /// Step 0 of a training run that continued from `--weights`.
        case loadedWeights
        /// `diagnose probe` of a model trained elsewhere: one probe, no training here.
        case imported
        /// The first probe was not at step 0.
        case laterProbe
    }

    var start: Start
    var first: GradientReading?
    /// The last probe, when it is a different step from the first.
    var last: GradientReading?
    /// The lag the ratios are quoted at: the recall lag on the synthetic corpus, else the shared reference lag.
    var lag: Int
    /// Synthetic corpus: the recall lag, when the probes cover it.
    var recallLag: Int?
    /// What the sentences quote besides the probes.
    private var facts: RecordFacts


    /// The longest lag every run's profile covers (at least 1): the lag quoted where no recall lag applies.
    static func referenceLag(for records: [RunRecord]) -> Int {
        let longest = records.compactMap { $0.probes.last?.topForward.map { $0.lagProfile.count - 1 } }.filter { $0 >= 1 }
        return longest.min() ?? 1
    }

    /// Whether the last probe is a later step than the first, so that "first → last" says something.
    static func hasLaterProbe(_ record: RunRecord) -> Bool {
        guard let first = record.probes.first, let last = record.probes.last else { return false }
        return last.step != first.step
    }

    static func start(of record: RunRecord) -> Start {
        switch record.origin {
        case .imported: return .imported
        case .continued: return .loadedWeights
        case .trained: break
        }
        if let step = record.probes.first?.step, step != 0 { return .laterProbe }
        return .initialisation
    }

    /// Whether every run's first probe is a fresh initialisation (so "init" is the right word for it).
    static func allStartAtInitialisation(_ verdicts: [GradientVerdict]) -> Bool {
        verdicts.allSatisfy { $0.start == .initialisation || $0.first == nil }
    }

    init(record: RunRecord, referenceLag: Int) {
        facts = RecordFacts(record)
        start = GradientVerdict.start(of: record)
        let window = record.probes.last?.topForward.map { $0.lagProfile.count } ?? record.config.bptt
        if let recall = record.corpus.recall?.lag, recall >= 1, recall < window {
            recallLag = recall
            lag = recall
        } else {
            lag = max(referenceLag, 1)
        }
        let quoteLag = lag
        first = record.probes.first.flatMap { GradientReading(probe: $0, lag: quoteLag) }
        if GradientVerdict.hasLaterProbe(record), let probe = record.probes.last {
            last = GradientReading(probe: probe, lag: quoteLag)
        }
    }

    /// The few record fields the sentences quote besides the probes.
    struct RecordFacts: Equatable {
        var multiLayer: Bool
        var radiusFirst: Double?
        var radiusLast: Double?
        var stepsCompleted: Int
        var steps: Int
        var divergedAtStep: Int?
        var divergenceReason: String?
        var interrupted: Bool
        var recallAccuracy: Double?
        var chance: Double?

        init(_ record: RunRecord) {
            multiLayer = record.config.layers > 1 || record.config.bidirectional
            radiusFirst = record.summary.spectralRadiusFirst
            radiusLast = record.summary.spectralRadiusLast
            stepsCompleted = record.summary.stepsCompleted
            steps = record.config.steps
            divergedAtStep = record.status.divergedAtStep
            divergenceReason = record.status.divergenceReason
            interrupted = record.status.interrupted
            recallAccuracy = record.corpus.synthetic ? record.summary.recallAccuracy : nil
            chance = record.corpus.recall?.chanceAccuracy
        }
    }

    // MARK: Sentences

    /// The sentences after "name: ", plain text (the caller escapes them).
    var sentence: String { parts.joined(separator: " ") }

    /// The same in up to three parts: the first probe; what training did and the last probe; the
    /// recall accuracy.
    var parts: [String] {
        var parts: [String] = []
        if let first {
            parts.append(firstSentence(first))
        } else {
            parts.append("No gradient probe was recorded, so there is no lag profile to read.")
        }
        if let training = trainingSentence() { parts.append(training) }
        if let accuracy = facts.recallAccuracy, accuracy.isFinite {
            let chance = facts.chance.map { " (chance \(ReportFormat.percent($0)))" } ?? ""
            parts.append("Recall: \(ReportFormat.percent(accuracy)) right\(chance).")
        }
        return parts
    }

    private var whereText: String {
        facts.multiLayer ? ", in the top layer's forward direction," : ""
    }

    private func firstSentence(_ reading: GradientReading) -> String {
        let opening: String
        switch start {
        case .initialisation: opening = "At initialisation"
        case .loadedWeights: opening = "At the start (step \(ReportFormat.integer(reading.step)), weights loaded with --weights)"
        case .imported:
            opening = last == nil ? "For the imported weights" : "At the first checkpoint (step \(ReportFormat.integer(reading.step)))"
        case .laterProbe: opening = "At the first probe (step \(ReportFormat.integer(reading.step)))"
        }
        return opening + whereText + " the gradient " + details(reading) + "."
    }

    /// The reading's behaviour, the LSTM's cell state and the recall answers' gradient.
    private func details(_ reading: GradientReading) -> String {
        var text = reading.behaviour(withRatio: reading.recallRatio == nil)
        if reading.kind == .notFinite { return text }
        if let cell = reading.cellRatio, cell.isFinite {
            if case .vanishing = reading.kind, recallLag == nil {
                // Compare like with like: the hidden state's sentence gave a horizon, not a ratio.
                let horizon = reading.cellHorizon.map { "below 1e-3 after \($0) step\($0 == 1 ? "" : "s")" }
                    ?? "above 1e-3 across the window"
                text += " (cell state: \(horizon))"
            } else {
                text += " (cell state: \(GradientReading.share(cell, of: "the local gradient")) at lag \(reading.lag))"
            }
        }
        if let recall = reading.recallRatio, let recallLag {
            text += "; the recall answers send \(GradientReading.share(recall, of: "their gradient")) "
                + "to the letter \(recallLag) step\(recallLag == 1 ? "" : "s") back"
        }
        return text
    }

    /// How the spectral radius moved over training, as a clause after "training ", or nil.
    private func radiusChange() -> String? {
        guard let a = facts.radiusFirst, let b = facts.radiusLast else { return nil }
        let subject = "the spectral radius"
        guard a.isFinite else { return nil }
        guard b.isFinite else { return "took \(subject) from \(ReportFormat.number(a)) to a value that is not finite" }
        if abs(b - a) <= 0.05 * max(abs(a), 1e-12) {
            return "left \(subject) near \(ReportFormat.number(b))"
        }
        return "\(b > a ? "grew" : "shrank") \(subject) from \(ReportFormat.number(a)) to \(ReportFormat.number(b))"
    }

    private func trainingSentence() -> String? {
        var text = ""
        if let step = facts.divergedAtStep {
            let reason = facts.divergenceReason.map { " (\($0))" } ?? ""
            text = "Training diverged at step \(ReportFormat.integer(step))\(reason)."
            guard first != nil else { return text }
            if let radius = radiusChange() { text += " Until then it \(radius)." }
        } else if facts.interrupted {
            text = "Training was interrupted after \(ReportFormat.integer(facts.stepsCompleted)) of "
                + "\(ReportFormat.integer(facts.steps)) steps."
            guard first != nil else { return text }
            if let radius = radiusChange() { text += " Until then it \(radius)." }
        } else if first != nil, last != nil, let radius = radiusChange() {
            text = "Training \(radius)."
        }
        if let last {
            let ended = facts.divergedAtStep == nil && !facts.interrupted
            let phase = "\(ended ? "At the end" : "At the last probe") (step \(ReportFormat.integer(last.step)))"
            let sentence: String
            if let first, details(last) == details(first) {
                sentence = "\(phase) the lag profile reads the same."
            } else {
                sentence = phase + whereText + " the gradient " + details(last) + "."
            }
            text += text.isEmpty ? sentence : " " + sentence
        }
        return text.isEmpty ? nil : text
    }

    // MARK: Short forms

    /// Badge text: the fitted factor per step at the first probe, and at the last when there is one.
    var label: String {
        guard let first else { return "no probe" }
        guard let last else { return first.factorText + " per step" }
        if first.kind == .notFinite && last.kind == .notFinite { return "n/a" }
        return "\(first.factorText) → \(last.factorText) per step"
    }

    /// A CSS class that flags what needs attention: a gradient that grows or is not finite.
    var cssClass: String? {
        let kinds = [first?.kind, last?.kind].compactMap { $0 }
        if kinds.contains(.notFinite) { return "not-finite" }
        if kinds.contains(.growing) { return "exploding" }
        return nil
    }
}
