// The report's "What to try" section and its headline, as HTML.

import DiagnoseRecord
import Foundation

enum AdviceSection {
    static let css = """
    p.headline { font-size: 1.2rem; line-height: 1.5; font-weight: 500; max-width: 80ch; margin: 4px 0 16px;
      padding: 10px 14px; border-left: 4px solid var(--accent); background: var(--accent-bg); border-radius: 6px; }
    p.headline a { font-weight: 500; font-size: 0.95rem; white-space: nowrap; }
    ol.findings { margin: 0 0 12px; padding-left: 1.3em; }
    ol.findings li { margin-bottom: 14px; }
    ol.findings li p { margin: 0 0 6px; }
    .source { color: var(--muted); font-size: 0.9rem; }
    p.healthy { color: var(--good); font-weight: 600; }
    """

    /// One run as the section lists it.
    struct RunAdvice {
        var name: String
        var findings: [Finding]
        /// The page's figure id for a chart id of this run, or nil when the page does not show that chart.
        var figureID: (ChartID) -> String?
        /// A chart's title for the link text.
        var chartTitle: (ChartID) -> String?
        var program: String
    }

    /// The headline paragraph (empty when there is nothing to say).
    static func headline(_ sentences: [String], findings: Int) -> String {
        guard !sentences.isEmpty else { return "" }
        var html = "<p class=\"headline\" id=\"headline\">" + HTMLText.escape(sentences.joined(separator: " "))
        if findings > 0 {
            html += " <a href=\"#what-to-try\">What to try (\(findings))</a>"
        }
        return html + "</p>\n"
    }

    static func section(_ runs: [RunAdvice]) -> String {
        var html = ReportSection.whatToTry.opening(lede: "Each finding below is a rule applied to the run's record: what "
            + "it shows, the chart that shows it, a remedy from the literature and the command that tests the remedy. The "
            + "commands sweep the changed setting over three seeds, so that a difference can be told from seed-to-seed "
            + "noise, and write to a folder of their own.")
        html += "<div class=\"runs\">\n"
        for (index, run) in runs.enumerated() {
            html += "<article class=\"run advice\">\n<h3><span class=\"name\">\(HTMLText.escape(run.name))</span></h3>\n"
            if run.findings.isEmpty {
                html += "<p class=\"healthy\">Nothing to change: no rule found a problem in this run.</p>\n"
            } else {
                html += "<ol class=\"findings\">\n"
                for finding in run.findings {
                    html += item(finding, run: run, index: index)
                }
                html += "</ol>\n"
            }
            html += "</article>\n"
        }
        return html + "</div>\n</section>\n"
    }

    private static func item(_ finding: Finding, run: RunAdvice, index: Int) -> String {
        let e = HTMLText.escape
        var html = "<li id=\"try-r\(index + 1)-\(HTMLText.identifier(finding.rule))\" data-rule=\"\(e(finding.rule))\">"
        html += "<p><strong>\(e(finding.text.title))</strong> \(e(finding.evidence))"
        let label = run.chartTitle(finding.text.chart) ?? finding.text.chart.rawValue
        if let target = run.figureID(finding.text.chart) {
            html += " <a class=\"evidence\" href=\"#\(target)\">Chart: \(e(label))</a>"
        }
        html += "</p>\n<p>Try: \(e(finding.text.remedy)) <span class=\"source\">Source: \(e(finding.text.source)).</span></p>\n"
        for command in finding.commands {
            html += "<pre><code>\(e(HTMLText.commandLine(program: run.program, arguments: command)))</code></pre>\n"
        }
        return html + "</li>\n"
    }
}
