// The headline: one or two plain sentences at the top of the report that compare the runs on what
// matters most for the record at hand.
//
// First, the gradient that reaches back at the first probe (for the recall task: the share of the
// recall answers' gradient that reaches the letter they must repeat), because that is what the
// architecture decides before training. Then the outcome of training: recall accuracy against chance
// on the recall task, validation perplexity elsewhere, with the one fact that explains a simple
// RNN's failure when the record shows it (its gradient stopped vanishing because its recurrent map
// expanded). Every figure is read from the records; nothing is said that the numbers do not carry.

import DiagnoseRecord
import Foundation

enum Headline {
    /// Below this ratio between the most and the least gradient delivered, runs count as alike.
    static let alikeFactor = 3.0

    /// The sentences, plain text (the caller escapes them); empty when there is nothing to say.
    static func sentences(records: [RunRecord], verdicts: [GradientVerdict]) -> [String] {
        guard !records.isEmpty, records.count == verdicts.count else { return [] }
        var out: [String] = []
        if let gradient = gradientSentence(records: records, verdicts: verdicts) { out.append(gradient) }
        if let outcome = outcomeSentence(records: records, verdicts: verdicts) { out.append(outcome) }
        return out
    }

    /// The share of the gradient a reading delivers at its quoted lag, and what that share is of.
    private struct Delivery {
        var share: Double
        var recall: Bool
        var lag: Int
    }

    private static func delivery(_ verdict: GradientVerdict) -> Delivery? {
        guard let first = verdict.first, first.kind != .notFinite else { return nil }
        if let recall = first.recallRatio, recall.isFinite, recall > 0, verdict.recallLag != nil {
            return Delivery(share: recall, recall: true, lag: first.lag)
        }
        guard let ratio = first.ratio, ratio.isFinite, ratio > 0 else { return nil }
        return Delivery(share: ratio, recall: false, lag: first.lag)
    }

    private static func what(_ d: Delivery) -> String {
        let steps = "\(d.lag) step\(d.lag == 1 ? "" : "s") back"
        return d.recall ? "the recall answers' gradient to the letter \(steps)" : "the gradient to the state \(steps)"
    }

    private static func moment(_ verdicts: [GradientVerdict]) -> String {
        GradientVerdict.allStartAtInitialisation(verdicts) ? "At initialisation" : "At the first probe"
    }

    static func gradientSentence(records: [RunRecord], verdicts: [GradientVerdict]) -> String? {
        let measured = zip(records, verdicts).compactMap { record, verdict in delivery(verdict).map { (record.name, $0) } }
        guard let sample = measured.first else { return nil }
        let when = moment(verdicts)
        if measured.count == 1 {
            let (name, d) = sample
            let steps = "\(d.lag) step\(d.lag == 1 ? "" : "s") back"
            return d.recall
                ? "\(when) \(name)'s recall answers send \(GradientReading.share(d.share, of: "their local gradient")) to the letter \(steps)."
                : "\(when) \(name) sends \(GradientReading.share(d.share, of: "the local gradient")) to the state \(steps)."
        }
        // Compare like with like: the same kind of share at the same lag.
        guard measured.allSatisfy({ $0.1.recall == sample.1.recall && $0.1.lag == sample.1.lag }) else { return nil }
        let best = measured.max { $0.1.share < $1.1.share }!
        let worst = measured.min { $0.1.share < $1.1.share }!
        let factor = best.1.share / worst.1.share
        if factor < alikeFactor {
            return "\(when) the runs deliver about the same share of \(what(sample.1)): "
                + "\(ReportFormat.ratio(worst.1.share)) to \(ReportFormat.ratio(best.1.share)) of the local gradient."
        }
        let times = factor < 100 ? String(format: "%.2g", factor) : ReportFormat.scientific(factor, digits: 2)
        return "\(when) \(best.0) delivers about \(times) times as much of \(what(sample.1)) as \(worst.0) "
            + "(\(ReportFormat.ratio(best.1.share)) against \(ReportFormat.ratio(worst.1.share)) of the local gradient)."
    }

    static func outcomeSentence(records: [RunRecord], verdicts: [GradientVerdict]) -> String? {
        let clauses = zip(records, verdicts).compactMap { outcome($0.0, $0.1) }
        guard !clauses.isEmpty else { return nil }
        let trained = records.contains { $0.summary.stepsCompleted > 0 }
        let opening = trained ? "After training, " : "At the end, "
        return opening + clauses.joined(separator: "; ") + "."
    }

    /// One run's result, as a clause that starts with its name; nil for a run that did not train.
    static func outcome(_ record: RunRecord, _ verdict: GradientVerdict) -> String? {
        let name = record.name
        if let step = record.status.divergedAtStep {
            return "\(name) diverged at step \(ReportFormat.integer(step))"
        }
        guard record.summary.stepsCompleted > 0 else { return nil }
        var clause = name
        // The simple RNN's way out of vanishing: an expanding map, which cannot hold a symbol (Bengio et al.
        // 1994). "Vanishes" is read at the quoted lag (the recall lag on the recall task).
        let share = { (reading: GradientReading?) in reading.flatMap { $0.recallRatio ?? $0.ratio } }
        if record.config.cell == .rnn, let before = share(verdict.first), let after = share(verdict.last),
           before < Advice.Threshold.vanishingShare, after >= Advice.Threshold.vanishingShare,
           let radius = record.summary.spectralRadiusLast, radius.isFinite, radius > 1 {
            clause += "'s gradient no longer vanishes but its recurrent map expands (spectral radius "
                + "\(ReportFormat.number(radius, digits: 2))), and it"
        }
        if record.corpus.synthetic, let accuracy = record.summary.recallAccuracy, accuracy.isFinite,
           let chance = record.corpus.recall?.chanceAccuracy {
            clause += Advice.nearChance(record)
                ? (clause == name ? " recalls" : " still recalls") + " near chance (\(ReportFormat.percent(accuracy)), chance \(ReportFormat.percent(chance)))"
                : " recalls \(ReportFormat.percent(accuracy)) of the answers"
        } else if let perplexity = record.summary.finalValidPerplexity, perplexity.isFinite {
            clause += " reaches validation perplexity \(ReportFormat.number(perplexity))"
        } else {
            return nil
        }
        return clause
    }
}
