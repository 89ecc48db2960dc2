// The report's view of seed groups: a table with one column per setting, each number its median
// over the seeds with [min, max], and sentences that say whether the difference between two
// settings is larger than the spread between seeds of one setting.

import DiagnoseRecord
import Foundation

/// A number of a run that the seed table and sentences compare.
struct GroupMetric {
    var label: String
    var value: (RunRecord) -> Double?
    var format: (Double?) -> String
    /// Higher is better (for the sentences); nil when neither is.
    var higherIsBetter: Bool?

    static func all(_ records: [RunRecord]) -> [GroupMetric] {
        var metrics: [GroupMetric] = []
        if records.contains(where: { $0.summary.recallAccuracy != nil }) {
            metrics.append(GroupMetric(label: "Recall accuracy", value: { $0.summary.recallAccuracy }, format: ReportFormat.percent,
                                       higherIsBetter: true))
        }
        metrics += [
            GroupMetric(label: "Final valid perplexity", value: { $0.summary.finalValidPerplexity },
                        format: { ReportFormat.number($0) }, higherIsBetter: false),
            GroupMetric(label: "Gradient factor per step at initialisation", value: { $0.summary.decayPerStepFirst },
                        format: { ReportFormat.number($0) }, higherIsBetter: nil),
            GroupMetric(label: "Gradient factor per step at the end", value: { $0.summary.decayPerStep },
                        format: { ReportFormat.number($0) }, higherIsBetter: nil),
            GroupMetric(label: "Horizon at initialisation (steps; absent = beyond the window)",
                        value: { $0.summary.horizonFirst.map(Double.init) ?? Double($0.config.bptt) },
                        format: { ReportFormat.number($0) }, higherIsBetter: nil),
            GroupMetric(label: "Spectral radius at the end", value: { $0.summary.spectralRadiusLast },
                        format: { ReportFormat.number($0) }, higherIsBetter: nil),
            GroupMetric(label: "Clipped steps", value: { $0.summary.clippedFraction }, format: ReportFormat.percent,
                        higherIsBetter: nil),
        ]
        return metrics
    }
}

enum SeedSummary {
    /// "median [min, max]" (or [q1, q3] from five seeds); one value for a single seed.
    static func text(_ spread: SeedSpread?, _ format: (Double?) -> String) -> String {
        guard let spread else { return ReportFormat.missing }
        if spread.count == 1 { return format(spread.median) }
        return "\(format(spread.median)) [\(format(spread.lower)), \(format(spread.upper))]"
    }

    /// The table: one column per setting, each cell median [min, max] over its seeds.
    static func table(_ groups: [SeedGroup], escape e: (String) -> String) -> String {
        let records = groups.flatMap(\.records)
        var html = "<div class=\"table-wrap\"><table class=\"summary\" id=\"seed-table\">\n<caption>Each setting over its seeds: "
            + "median [min, max] (from five seeds [lower quartile, upper quartile])</caption>\n<thead><tr><th scope=\"col\"></th>"
            + groups.map { "<th scope=\"col\">\(e($0.name))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        html += "<tr><th scope=\"row\">Seeds</th>" + groups.map { "<td>\(e($0.seeds.map(String.init).joined(separator: ", ")))</td>" }.joined() + "</tr>\n"
        for metric in GroupMetric.all(records) {
            html += "<tr><th scope=\"row\">\(e(metric.label))</th>"
                + groups.map { "<td>\(e(text(SeedSpread($0.records.map(metric.value)), metric.format)))</td>" }.joined() + "</tr>\n"
        }
        return html + "</tbody></table></div>\n"
    }

    /// Sentences comparing settings against their seed spread: every pair that differs only in the
    /// cell, else neighbours along the sweep; at most `limit`.
    static func sentences(_ groups: [SeedGroup], limit: Int = 8) -> [String] {
        let records = groups.flatMap(\.records)
        guard let metric = GroupMetric.all(records).first else { return [] }
        var pairs: [(Int, Int)] = []
        for i in groups.indices {
            for j in groups.indices where j > i {
                var a = RunGroups.groupKey(groups[i].config), b = RunGroups.groupKey(groups[j].config)
                guard a.cell != b.cell else { continue }
                // The forget bias means nothing to a simple RNN or a GRU, nor the activation to gated cells.
                a.cell = .rnn; b.cell = .rnn; a.activation = .tanh; b.activation = .tanh; a.forgetBias = 0; b.forgetBias = 0
                if a == b { pairs.append((i, j)) }
            }
        }
        if pairs.isEmpty { pairs = groups.indices.dropFirst().map { ($0 - 1, $0) } }
        return pairs.prefix(limit).compactMap { i, j in
            let a = groups[i], b = groups[j]
            guard let sa = SeedSpread(a.records.map(metric.value)), let sb = SeedSpread(b.records.map(metric.value)),
                  a.records.count > 1 || b.records.count > 1 else { return nil }
            let name = metric.label.prefix(1).lowercased() + metric.label.dropFirst()
            var sentence = "\(a.name) against \(b.name): \(name) \(text(sa, metric.format)) against \(text(sb, metric.format)); "
            if sa.overlaps(sb) {
                sentence += "the difference is within the seed spread, so these seeds do not tell the two settings apart."
            } else {
                sentence += "the difference is larger than the spread between seeds."
            }
            return sentence
        }
    }
}
