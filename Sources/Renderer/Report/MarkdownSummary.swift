// The Markdown a CI job summary shows (GitHub Actions' $GITHUB_STEP_SUMMARY): the report's
// verdict sentences and a summary table, so a reviewer sees the result without downloading the
// report. Every name and sentence goes through `escape`, so a run called `a|b*` cannot break the table.

import DiagnoseRecord
import Foundation

public enum MarkdownSummary {
    /// A "diagnose" heading, one verdict line per run, and a table with a column per run.
    public static func runs(_ records: [RunRecord], title: String = "diagnose") -> String {
        var text = "### \(escape(title))\n\n"
        guard !records.isEmpty else { return text + "No runs.\n\n" }
        let lag = GradientVerdict.referenceLag(for: records)
        let verdicts = records.map { GradientVerdict(record: $0, referenceLag: lag) }
        for (record, verdict) in zip(records, verdicts) {
            text += "- **\(escape(record.name))**: \(escape(verdict.sentence))\n"
        }
        let span = GradientVerdict.allStartAtInitialisation(verdicts) ? "init → end" : "first → last probe"
        func change(_ verdict: GradientVerdict, _ part: (GradientReading) -> String) -> String {
            guard let first = verdict.first else { return ReportFormat.missing }
            guard let last = verdict.last else { return part(first) }
            return "\(part(first)) → \(part(last))"
        }
        var rows: [(String, [String])] = [
            ("cell", records.map { "\($0.config.cell), H = \($0.config.hidden)" }),
            ("valid perplexity", records.map { ReportFormat.number($0.summary.finalValidPerplexity) }),
        ]
        if records.contains(where: { $0.corpus.synthetic }) {
            rows.append(("recall accuracy", records.map {
                $0.corpus.synthetic ? ReportFormat.percent($0.summary.recallAccuracy) : "not synthetic"
            }))
        }
        rows.append(("gradient factor per step, \(span)", verdicts.map { change($0) { $0.factorText } }))
        rows.append(("horizon, \(span)", verdicts.map { change($0) { $0.horizonText } }))
        rows.append(("spectral radius, \(span)", records.map {
            let first = ReportFormat.number($0.summary.spectralRadiusFirst)
            return GradientVerdict.hasLaterProbe($0) ? first + " → " + ReportFormat.number($0.summary.spectralRadiusLast) : first
        }))
        rows.append(("clipped steps", records.map {
            $0.config.clip == 0 ? "clipping off" : ReportFormat.percent($0.summary.clippedFraction)
        }))
        rows.append(("steps", records.map { record in
            let done = ReportFormat.integer(record.summary.stepsCompleted)
            if let step = record.status.divergedAtStep { return "\(done), diverged at \(ReportFormat.integer(step))" }
            if record.status.interrupted { return "\(done) of \(ReportFormat.integer(record.config.steps)), interrupted" }
            return done
        }))
        text += "\n| |" + records.map { " \(escape($0.name)) |" }.joined() + "\n"
        text += "|---|" + String(repeating: "---|", count: records.count) + "\n"
        for (label, cells) in rows {
            text += "| \(escape(label)) |" + cells.map { " \(escape($0)) |" }.joined() + "\n"
        }
        return text + "\n"
    }

    /// Text that Markdown shows literally: ASCII punctuation that could start emphasis, code, a
    /// link (with "[" and "]" escaped, "(" and "!" are plain), HTML, an entity, a heading, math or a
    /// table cell is backslash-escaped; line breaks become spaces (a table row or list item is one line).
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "~", "#", "&", "$":
                result.append("\\")
                result.unicodeScalars.append(scalar)
            case "\n", "\r", "\t":
                result.append(" ")
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
