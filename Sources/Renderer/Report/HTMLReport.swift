// The HTML report: one self-contained page that tells the lecture's story with the runs' numbers.
//
// Sections, in order: verdict (a few sentences per run, the headline lag-profile chart, the summary
// table), what to try, sweep (when a flag varies across the runs), gradient flow, spectra, gates,
// training, reproduce. Every chart is an <img> whose source is a base64 `data:` URI, placed by its
// `ChartID` (`ChartPlacement`) under the caption the report writes for it (`ReportCaptions`); the
// stylesheet and the two small scripts (chart zoom, values under the pointer) are inline, so the
// file can be mailed, archived by CI or opened offline and looks the same. The page is a pure
// function of its inputs: no clock, no dictionary order, same bytes for the same runs.

import DiagnoseRecord
import Foundation

/// One run as the report shows it.
public struct ReportRun: Sendable, Equatable {
    public var record: RunRecord
    /// Relative POSIX path from the folder holding `report.html` to the run's folder, for example
    /// `lstm` or `../job-2/output/lstm` (`.` for the same folder). Not percent-encoded: the report
    /// encodes each segment when it writes links to `run.json` and `model.safetensors`.
    public var directoryLink: String
    /// The run's charts (`RunCharts.ids`, and `.depth` for a stack); each appears once, in the
    /// section its id belongs to (`ChartPlacement`).
    public var charts: [ChartImage]
}

public enum HTMLReport {
    /// The ids of the sections every page has, in page order (`ReportSection`, without the sweep).
    public static let sectionIDs = ReportSection.allCases.filter { $0 != .sweep }.map(\.rawValue)

    /// The whole page. `comparison` holds the charts that overlay all runs (`.compareLagProfiles`
    /// becomes the headline under the verdict); `generatedBy` names the tool, e.g. "diagnose 0.3.0".
    /// Every chart in `runs` and `comparison` appears exactly once, with the report's caption
    /// (`ReportCaptions`, computed from the records).
    /// With `runPages`, each run's own charts are left out and its name links to `<run>/report.html`,
    /// a page of its own (ReportWriter writes them when there are many runs).
    public static func build(runs: [ReportRun], comparison: [ChartImage], generatedBy: String,
                             runPages: Bool = false) -> String {
        var page = ReportPage(runs: runs, comparison: comparison, generatedBy: generatedBy, runPages: runPages)
        return page.render()
    }
}

/// The page's sections in page order: the raw value is the HTML id, `title` the heading and the
/// table-of-contents entry.
enum ReportSection: String, CaseIterable {
    case verdict
    case whatToTry = "what-to-try"
    /// Only when a flag varies across the runs.
    case sweep
    case gradientFlow = "gradient-flow"
    case spectra, gates, training, reproduce

    var title: String {
        switch self {
        case .verdict: "Verdict"
        case .whatToTry: "What to try"
        case .sweep: "Sweep"
        case .gradientFlow: "Gradient flow"
        case .spectra: "Spectra"
        case .gates: "Gates"
        case .training: "Training"
        case .reproduce: "Reproduce"
        }
    }

    /// The section's opening tag and heading, then `lede` (HTML), what the section shows, when given.
    func opening(lede: String? = nil) -> String {
        "<section id=\"\(rawValue)\">\n<h2>\(title)</h2>\n" + (lede.map { "<p class=\"lede\">\($0)</p>\n" } ?? "")
    }
}

/// Where each chart goes and in which order.
enum ChartPlacement {
    static let runOrder: [ChartID] = [.gradientFlow, .gradientDecay, .depth, .spectrum, .jacobianProducts, .gates, .training]

    /// The page section that shows chart `id`.
    static func section(of id: ChartID) -> ReportSection {
        switch id {
        case .compareLagProfiles: return .verdict
        case .gradientFlow, .gradientDecay, .depth, .compareDepth: return .gradientFlow
        case .spectrum, .jacobianProducts, .compareSpectra: return .spectra
        case .gates: return .gates
        case .training, .compareTraining: return .training
        case .sweep, .phase: return .sweep
        }
    }

    /// Charts of one section in a fixed order: run charts as listed above, then the rest by id.
    static func ordered(_ charts: [ChartImage]) -> [ChartImage] {
        func rank(_ chart: ChartImage) -> Int { runOrder.firstIndex(of: chart.id) ?? runOrder.count }
        return charts.enumerated().sorted { a, b in
            let ra = rank(a.element), rb = rank(b.element)
            if ra != rb { return ra < rb }
            if a.element.id != b.element.id { return a.element.id.rawValue < b.element.id.rawValue }
            return a.offset < b.offset
        }.map(\.element)
    }
}

struct ReportPage {
    let runs: [ReportRun]
    let comparison: [ChartImage]
    let generatedBy: String
    /// Runs' charts live on their own pages; this page links to them.
    let runPages: Bool
    let verdicts: [GradientVerdict]
    /// What to try, per run (`Advice.rules` applied to each record).
    let findings: [[Finding]]
    /// The chart under the verdict: the combined lag profiles, or a lone run's own lag profile.
    let headline: (chart: ChartImage, figureID: String)?
    let headlineRun: Int?
    var html = ""

    init(runs: [ReportRun], comparison: [ChartImage], generatedBy: String, runPages: Bool) {
        self.runs = runs
        self.runPages = runPages
        self.comparison = comparison
        self.generatedBy = generatedBy
        let lag = GradientVerdict.referenceLag(for: runs.map(\.record))
        verdicts = runs.map { GradientVerdict(record: $0.record, referenceLag: lag) }
        findings = zip(runs, verdicts).map { Advice.findings(record: $0.0.record, verdict: $0.1) }
        if let chart = comparison.first(where: { $0.id == .compareLagProfiles }) {
            headline = (chart, ReportPage.figureID(comparison: chart))
            headlineRun = nil
        } else if runs.count == 1, let chart = runs[0].charts.first(where: { $0.id == .gradientDecay }) {
            headline = (chart, ReportPage.figureID(run: 0, chart: chart))
            headlineRun = 0
        } else {
            headline = nil
            headlineRun = nil
        }
    }

    static func figureID(run: Int, chart: ChartImage) -> String {
        "fig-r\(run + 1)-" + HTMLText.identifier(chart.id.rawValue)
    }

    static func figureID(comparison chart: ChartImage) -> String {
        "fig-" + HTMLText.identifier(chart.id.rawValue)
    }

    private func e(_ text: String) -> String { HTMLText.escape(text) }

    mutating func render() -> String {
        html = ""
        let names = runs.map { $0.record.name }
        // Many runs: the cells, not every name (the names are in the tables and the run list).
        let cells = runs.reduce(into: [String]()) { if !$0.contains($1.record.config.cell.rawValue) { $0.append($1.record.config.cell.rawValue) } }
        let title = names.isEmpty ? "No runs"
            : names.count > ReportWriter.inlineRunLimit ? "\(names.count) runs of " + cells.joined(separator: ", ")
            : names.joined(separator: " vs ")
        html += """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <meta name="generator" content="\(e(generatedBy))">
        <title>Gradient flow: \(e(title))</title>
        <style>
        \(ReportStyle.css)
        \(AdviceSection.css)
        \(Hover.css)
        </style>
        </head>
        <body>
        <div class="page">
        <header class="top">
        <h1>Gradient flow: \(e(title))</h1>
        <p>\(e(subtitle()))</p>
        </header>
        <nav class="toc" aria-label="Sections">
        \(ReportSection.allCases.filter { $0 != .sweep || hasSweep }.map { "<a href=\"#\($0.rawValue)\">\($0.title)</a>" }.joined())
        </nav>
        <main>

        """
        verdictSection()
        adviceSection()
        if hasSweep { sweepSection() }
        gradientFlowSection()
        spectraSection()
        gatesSection()
        trainingSection()
        reproduceSection()
        html += """
        </main>
        <script>\(ReportStyle.zoomScript)</script>
        <script>\(Hover.script)</script>
        <footer>
        <p>Generated by \(e(generatedBy)). This file is self-contained: every chart is embedded, nothing is \
        fetched. Links to run files are relative to the folder that holds this report.</p>
        </footer>
        </div>
        </body>
        </html>

        """
        return html
    }

    private var hasSweep: Bool { comparison.contains { ChartPlacement.section(of: $0.id) == .sweep } }

    // MARK: Sweep

    private mutating func sweepSection() {
        let axes = RunGroups.sweptAxes(runs.map(\.record))
        html += ReportSection.sweep.opening(lede: """
            These runs vary \(e(axes.map(\.flag).joined(separator: " and "))). With one swept flag the summary \
            numbers are drawn against its value, one line per cell, each point the median over the seeds with a band for their \
            spread; with two, a heatmap per cell shows where the task was learned.
            """)
        html += comparisonCharts(in: .sweep)
        html += "</section>\n"
    }

    private func subtitle() -> String {
        var parts = ["\(runs.count) run\(runs.count == 1 ? "" : "s")"]
        let corpora = Set(runs.map { $0.record.corpus.name + "\u{0}" + $0.record.corpus.sha256 })
        if corpora.count == 1, let corpus = runs.first?.record.corpus {
            var splits = [corpus.validFile, corpus.testFile].compactMap { $0 }
            splits = splits.isEmpty ? [] : [corpus.name] + splits
            parts.append(splits.isEmpty ? "corpus \(corpus.name) (\(ReportFormat.integer(corpus.tokens)) tokens)"
                : "corpus \(splits.joined(separator: " / ")) (\(ReportFormat.integer(corpus.trainTokens)) training tokens)")
        } else if corpora.count > 1 {
            parts.append("\(corpora.count) different corpora")
        }
        if let config = runs.first?.record.config, runs.allSatisfy({ $0.record.config.bptt == config.bptt }) {
            parts.append("windows of \(config.bptt) steps")
        }
        return parts.joined(separator: " · ")
    }

    // MARK: Pieces

    /// A chart as a figure. The chart draws its own title; `caption` says how to read it and what to compare.
    private func figure(_ chart: ChartImage, id: String, caption: String, headline: Bool = false) -> String {
        let scale = chart.scale.isFinite && chart.scale > 0 ? chart.scale : 1
        let width = max(1, Int((Double(chart.width) / scale).rounded()))
        let height = max(1, Int((Double(chart.height) / scale).rounded()))
        return """
        <figure id="\(id)"\(headline ? " class=\"headline\"" : "")>\
        <img src="data:image/png;base64,\(chart.png.base64EncodedString())" width="\(width)" height="\(height)" \
        alt="\(e(chart.title))">\(Hover.dataElement(chart))\
        <figcaption>\(e(caption))</figcaption></figure>

        """
    }

    private func cellDescription(_ config: RunConfig) -> String {
        var text: String
        switch config.cell {
        case .rnn: text = "simple RNN (\(config.activation.rawValue))"
        case .lstm: text = "LSTM"
        case .gru: text = "GRU"
        }
        if config.layers > 1 { text += ", \(config.layers) layers" }
        if config.bidirectional { text += ", bidirectional" }
        return text
    }

    /// ` class="..."` for an element that flags what needs attention, or nothing.
    private func attentionClass(_ verdict: GradientVerdict, base: String? = nil) -> String {
        let classes = [base, verdict.cssClass].compactMap { $0 }
        return classes.isEmpty ? "" : " class=\"\(classes.joined(separator: " "))\""
    }

    /// The card heading for run `index`: its name, cell and the fitted gradient factor per step
    /// at the first and the last probe.
    private func runHeading(_ index: Int) -> String {
        let record = runs[index].record
        var badges = "<span class=\"badge\">\(e(cellDescription(record.config)))</span>"
        badges += " <span\(attentionClass(verdicts[index], base: "badge"))>\(e(verdicts[index].label))</span>"
        if record.status.divergedAtStep != nil {
            badges += " <span class=\"badge diverged\">diverged</span>"
        } else if record.status.interrupted {
            badges += " <span class=\"badge interrupted\">interrupted</span>"
        }
        return "<h3>\(runName(index)) \(badges)</h3>\n"
    }

    private func charts(ofRun index: Int, in section: ReportSection) -> String {
        let selected = runs[index].charts.filter {
            ChartPlacement.section(of: $0.id) == section && !(headlineRun == index && $0 == headline?.chart)
        }
        return ChartPlacement.ordered(selected).map {
            figure($0, id: ReportPage.figureID(run: index, chart: $0), caption: caption(ofRun: index, chart: $0))
        }.joined()
    }

    private func comparisonCharts(in section: ReportSection) -> String {
        comparison.filter {
            ChartPlacement.section(of: $0.id) == section && !(headlineRun == nil && $0 == headline?.chart)
        }.map { figure($0, id: ReportPage.figureID(comparison: $0), caption: caption(ofComparison: $0)) }.joined()
    }

    private func caption(ofRun index: Int, chart: ChartImage) -> String {
        ReportCaptions.run(chart.id, record: runs[index].record, verdict: verdicts[index])
    }

    private func caption(ofComparison chart: ChartImage) -> String {
        ReportCaptions.comparison(chart.id, records: runs.map(\.record), verdicts: verdicts)
    }

    private func facts(_ rows: [(String, String)]) -> String {
        guard !rows.isEmpty else { return "" }
        return "<dl class=\"facts\">" + rows.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined() + "</dl>\n"
    }

    /// The run's name, linked to its own page when it has one.
    private func runName(_ index: Int) -> String {
        let name = "<span class=\"name\">\(e(runs[index].record.name))</span>"
        guard runPages else { return name }
        return "<a href=\"\(HTMLText.href(directory: runs[index].directoryLink, file: ReportWriter.reportFileName))\">\(name)</a>"
    }

    /// With run pages, the place of a section's run charts: one sentence pointing to the pages.
    private var runPagesNote: String {
        "<p class=\"notice\">Each run's own charts are on its page: follow a run's name in the verdict or in Reproduce.</p>\n"
    }

    /// A grid with one card per run; `body` returns the card's HTML after the heading.
    private func runGrid(_ body: (Int) -> String) -> String {
        if runPages { return runPagesNote }
        var out = "<div class=\"runs\">\n"
        for index in runs.indices {
            out += "<article class=\"run\">\n" + runHeading(index) + body(index) + "</article>\n"
        }
        return out + "</div>\n"
    }

    // MARK: 1. Verdict

    private mutating func verdictSection() {
        html += ReportSection.verdict.opening()
        html += AdviceSection.headline(Headline.sentences(records: runs.map(\.record), verdicts: verdicts),
                                       findings: findings.joined().count)
        let differing = SettingsComparison.differing(runs.map(\.record))
        if !differing.isEmpty {
            html += "<div class=\"notice\" id=\"differing-settings\">\n<p>These runs differ in more than the cell, "
                + "so part of any difference below may come from these settings:</p>\n"
                + "<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">Setting</th>"
                + runs.map { "<th scope=\"col\">\(e($0.record.name))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            for row in differing {
                html += "<tr><th scope=\"row\">\(e(row.label))</th>"
                    + row.values.map { "<td class=\"mono\">\(e($0))</td>" }.joined() + "</tr>\n"
            }
            html += "</tbody></table></div>\n</div>\n"
        }
        // The verdicts and the headline chart side by side on wide screens: the first screen shows the difference.
        if headline != nil { html += "<div class=\"glance\">\n" }
        if runs.isEmpty {
            html += "<p>No runs were given.</p>\n"
        } else {
            html += "<ul class=\"verdicts\">\n"
            for index in runs.indices {
                let verdict = verdicts[index]
                // The first probe right after the name; what training did, and the outcome, each on a line of its own.
                let parts = verdict.parts
                html += "<li\(attentionClass(verdict))>\(runName(index)): "
                    + e(parts.first ?? "")
                    + parts.dropFirst().map { " <span class=\"then\">\(e($0))</span>" }.joined() + "</li>\n"
            }
            html += "</ul>\n"
        }
        if let headline {
            let text = headlineRun.map { caption(ofRun: $0, chart: headline.chart) } ?? caption(ofComparison: headline.chart)
            html += figure(headline.chart, id: headline.figureID, caption: text, headline: true)
            html += "</div>\n"
        }
        html += comparisonCharts(in: .verdict)
        let groups = RunGroups.seedGroups(runs.map(\.record))
        if groups.contains(where: { $0.records.count > 1 }) {
            html += "<h3 id=\"seeds\">Settings over seeds</h3>\n"
            let sentences = SeedSummary.sentences(groups)
            if !sentences.isEmpty {
                html += "<ul class=\"verdicts\" id=\"seed-verdicts\">\n" + sentences.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n"
            }
            html += SeedSummary.table(groups, escape: e)
            html += "<h3>Every run</h3>\n"
        }
        if !runs.isEmpty { summaryTable() }
        html += "</section>\n"
    }

    // MARK: What to try

    private mutating func adviceSection() {
        html += AdviceSection.section(runs.indices.map { index in
            let charts = runs[index].charts
            return AdviceSection.RunAdvice(
                name: runs[index].record.name, findings: findings[index],
                figureID: { id in
                    if let chart = charts.first(where: { $0.id == id }) { return ReportPage.figureID(run: index, chart: chart) }
                    return nil
                },
                chartTitle: { id in charts.first { $0.id == id }?.title },
                program: runs[index].record.tool.name)
        })
    }

    private mutating func summaryTable() {
        typealias Cell = (text: String, bad: Bool)
        func cell(_ text: String) -> Cell {
            (text, text == "diverged" || text == "n/a")
        }
        let records = runs.map(\.record)
        var rows: [(String, [Cell])] = []
        rows.append(("Cell", records.map { (cellDescription($0.config) + ", H = \($0.config.hidden)", false) }))
        rows.append(("Parameters", records.map { (ReportFormat.integer($0.parameterCount), false) }))
        // The train figure is a mean over the steps since the previous evaluation, early ones included: say
        // which, or a reader sees train above valid and suspects a bug.
        rows.append(("Final train perplexity", records.map { record in
            var result = cell(ReportFormat.number(record.summary.finalTrainPerplexity))
            let evaluations = record.evaluations.map(\.step)
            if let last = evaluations.last, record.summary.finalTrainPerplexity?.isFinite == true {
                let first = (evaluations.dropLast().last ?? 0) + 1
                if last > first { result.text += " (mean of steps \(ReportFormat.integer(first))–\(ReportFormat.integer(last)))" }
            }
            return result
        }))
        // Perplexity on a split with <unk> tokens is not comparable with one without: say how many there were.
        rows.append(("Final valid perplexity", records.map { record in
            var result = cell(ReportFormat.number(record.summary.finalValidPerplexity))
            if let note = Self.unknownShare(record.corpus.unknownValidTokens, of: record.corpus.validTokens) { result.text += " (\(note))" }
            return result
        }))
        if records.contains(where: { $0.summary.finalTestPerplexity != nil }) {
            rows.append(("Test perplexity (final weights)", records.map { record in
                guard record.corpus.testTokens != nil else { return ("no test split", false) }
                var result = cell(ReportFormat.number(record.summary.finalTestPerplexity))
                if let note = Self.unknownShare(record.corpus.unknownTestTokens, of: record.corpus.testTokens ?? 0) {
                    result.text += " (\(note))"
                }
                return result
            }))
        }
        if records.contains(where: { $0.corpus.synthetic }) {
            rows.append(("Recall accuracy (synthetic corpus)", records.map { record in
                guard record.corpus.synthetic else { return ("not synthetic", false) }
                var result = cell(ReportFormat.percent(record.summary.recallAccuracy))
                if record.summary.recallAccuracy != nil, let chance = record.corpus.recall?.chanceAccuracy {
                    result.text += " (chance \(ReportFormat.percent(chance)))"
                }
                return result
            }))
        }
        // First probe → last probe: "init → end" when every run's first probe is a fresh initialisation.
        let span = !verdicts.contains(where: { $0.last != nil }) ? "at the probe"
            : GradientVerdict.allStartAtInitialisation(verdicts) ? "init → end" : "first → last probe"
        /// "a → b" from the first and last reading; one value when there is one probe.
        func change(_ verdict: GradientVerdict, _ text: (GradientReading) -> String) -> Cell {
            guard let first = verdict.first else { return (ReportFormat.missing, false) }
            let a = text(first)
            guard let last = verdict.last else { return (a, a == "n/a" || a == "diverged") }
            let b = text(last)
            return ("\(a) → \(b)", [a, b].contains { $0 == "n/a" || $0 == "diverged" })
        }
        rows.append(("Gradient factor per step, \(span)", verdicts.map { change($0) { $0.factorText } }))
        rows.append(("Horizon (below 1e-3 of local), \(span)", verdicts.map { change($0) { $0.horizonText } }))
        if verdicts.contains(where: { $0.first?.recallRatio != nil }) {
            // recallLagProfile[L] / recallLagProfile[0]: how much of the recall answers' gradient reaches the letter they repeat.
            let lags = Set(verdicts.compactMap(\.recallLag))
            let sharedLag = lags.count == 1 ? lags.first : nil
            let label = "Gradient reaching the recalled letter" + (sharedLag.map { " (lag \($0))" } ?? "") + ", \(span)"
            rows.append((label, verdicts.map { verdict in
                guard let lag = verdict.recallLag, verdict.first?.recallRatio != nil else { return ("no recall data", false) }
                var cell = change(verdict) { ReportFormat.ratio($0.recallRatio) }
                if sharedLag == nil { cell.text = "lag \(lag): " + cell.text }
                return cell
            }))
        }
        rows.append(("Spectral radius, \(span)", records.map {
            let first = ReportFormat.number($0.summary.spectralRadiusFirst)
            let last = ReportFormat.number($0.summary.spectralRadiusLast)
            let text = GradientVerdict.hasLaterProbe($0) ? first + " → " + last : first
            return (text, first == "diverged" || last == "diverged")
        }))
        rows.append(("Clipped steps", records.map {
            $0.clippingNotRecorded ? ("not logged", false) : $0.config.clip == 0 ? ("clipping off", false)
                : cell(ReportFormat.percent($0.summary.clippedFraction))
        }))
        rows.append(("Gate saturation", records.map { (saturationText($0.summary.gateSaturation), false) }))
        rows.append(("Tokens/s", records.map { cell(ReportFormat.rate($0.summary.tokensPerSecond)) }))
        rows.append(("Time", records.map { cell(ReportFormat.duration($0.summary.seconds)) }))
        rows.append(("Steps", records.map { record in
            let done = ReportFormat.integer(record.summary.stepsCompleted)
            if let step = record.status.divergedAtStep { return ("\(done), diverged at \(ReportFormat.integer(step))", true) }
            if record.status.interrupted { return ("\(done) of \(ReportFormat.integer(record.config.steps)), interrupted", true) }
            return (done, false)
        }))

        html += "<div class=\"table-wrap\"><table class=\"summary\">\n<thead><tr><th scope=\"col\"></th>"
            + runs.map { "<th scope=\"col\">\(e($0.record.name))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for (label, cells) in rows {
            html += "<tr><th scope=\"row\">\(e(label))</th>"
                + cells.map { "<td\($0.bad ? " class=\"bad\"" : "")>\(e($0.text))</td>" }.joined() + "</tr>\n"
        }
        html += "</tbody></table></div>\n"
    }

    /// Gate saturation in the cells' own gate order: "input 3.1%, forget 12%, ...".
    /// "3.2% <unk>" when a split has unknown tokens; nil when it has none (or the record predates the count).
    static func unknownShare(_ unknown: Int?, of total: Int) -> String? {
        guard let unknown, unknown > 0, total > 0 else { return nil }
        return "\(ReportFormat.percent(Double(unknown) / Double(total))) <unk>"
    }

    private func saturationText(_ saturation: [String: Double]?) -> String {
        guard let saturation, !saturation.isEmpty else { return ReportFormat.missing }
        return ReportFormat.gateOrder(Array(saturation.keys)).map {
            "\($0) \(ReportFormat.percent(saturation[$0]))"
        }.joined(separator: ", ")
    }

    // MARK: 2. Gradient flow

    private mutating func gradientFlowSection() {
        html += ReportSection.gradientFlow.opening(lede: """
            Backpropagation through time carries the gradient of the loss at step t back to the state \
            l = t − j steps earlier through a product of l step Jacobians, for a simple RNN each diag(σ′)·W<sub>h</sub>. \
            While every factor shrinks vectors (γ·σ<sub>max</sub>(W<sub>h</sub>) &lt; 1, γ the largest slope of σ) the \
            gradient vanishes geometrically; with larger factors it can survive or explode. The LSTM adds a second path: \
            its cell state is updated additively, c(t) = f ⊙ c(t−1) + i ⊙ g, so along it each step multiplies the \
            gradient by the forget gate alone. Bengio, Simard and Frasconi (1994) showed the simple RNN's dilemma: to \
            hold a symbol robustly its map must contract around the stored state, and a contracting map makes the \
            gradient from far back vanish, so the dependency is hard to discover; a map that expands enough to keep the \
            gradient cannot hold the symbol stably. So compare each run's first probe (before training) with its last, \
            and on the recall corpus read the gradient that reaches the recall lag together with the recall accuracy.
            """)
        if let headline {
            html += "<p>The lag profiles of all runs, g(l)/g(0) against the lag l, are overlaid in the "
                + "<a href=\"#\(headline.figureID)\">headline chart</a> under the verdict.</p>\n"
        }
        html += runGrid { index in charts(ofRun: index, in: .gradientFlow) }
        html += comparisonCharts(in: .gradientFlow)
        html += "</section>\n"
    }

    // MARK: 3. Spectra

    private mutating func spectraSection() {
        html += ReportSection.spectra.opening(lede: """
            The eigenvalues of the recurrent weights against the unit circle, their singular values, and \
            the singular values of products of step Jacobians along the probe sequence. For a simple RNN, \
            γ·σ<sub>max</sub>(W<sub>h</sub>) &lt; 1 (γ the largest slope of the activation) forces the gradient to \
            vanish; above 1 the weights alone decide nothing. The Jacobian products show the rate the network has on \
            its inputs, with the activation's slopes and, for gated cells, the gates included.
            """)
        html += comparisonCharts(in: .spectra)
        html += runGrid { index in
            let record = runs[index].record
            let numbers = RunNumbers(record: record, verdict: verdicts[index])
            var rows: [(String, String)] = []
            if let radius = numbers.change({ $0.spectrum.whole.spectralRadius }) {
                rows.append(("Spectral radius ρ", e(radius)))
            }
            if let bound = numbers.boundText {
                rows.append(("γ·σ<sub>max</sub>(W<sub>h</sub>) (below 1 forces vanishing)", e(bound)))
            }
            return facts(rows) + charts(ofRun: index, in: .spectra)
        }
        html += "</section>\n"
    }

    // MARK: 4. Gates

    private mutating func gatesSection() {
        html += ReportSection.gates.opening(lede: """
            Gate activations over the probe text and the share of saturated units at each probe. A \
            sigmoid gate near 0 or 1 passes almost no gradient to its own inputs. The LSTM's forget gate is also the \
            factor by which the cell state, and its gradient, is kept at each step, so forget gates near 1 keep that \
            path open and gates near 0 close it.
            """)
        html += runGrid { index in
            let record = runs[index].record
            var out = ""
            let gateNames = record.probes.last?.topForward?.gates.map(\.name) ?? []
            if record.config.cell == .rnn || (gateNames == ["activation"]) {
                out += "<p>A simple RNN has no gates: the chart shows its \(e(record.config.activation.rawValue)) activation "
                    + "h(t) instead.</p>\n"
            }
            let numbers = RunNumbers(record: record, verdict: verdicts[index])
            if let saturation = numbers.saturationChange() {
                let label = GradientVerdict.hasLaterProbe(record) ? "Saturated, first → last probe" : "Saturated"
                out += facts([(label, e(saturation))])
            } else if let saturation = record.summary.gateSaturation, !saturation.isEmpty {
                out += facts([("Saturated at the last probe", e(saturationText(saturation)))])
            }
            out += charts(ofRun: index, in: .gates)
            out += probeText(record.probeTokens, words: record.config.tokenize == .word)
            return out
        }
        html += comparisonCharts(in: .gates)
        html += "</section>\n"
    }

    /// The probe sequence as text, one token per box (whitespace made visible); word tokens are
    /// separated by spaces, characters are not.
    private func probeText(_ tokens: [String], words: Bool) -> String {
        guard !tokens.isEmpty else { return "" }
        let limit = 400
        let shown = tokens.prefix(limit).map { token -> String in
            var visible = token
            visible = visible.replacingOccurrences(of: "\n", with: "⏎")
            visible = visible.replacingOccurrences(of: "\t", with: "⇥")
            if visible.isEmpty || visible.allSatisfy({ $0 == " " }) {
                visible = String(repeating: "␣", count: max(visible.count, 1))
            }
            return "<span>\(e(visible))</span>"
        }.joined(separator: words ? " " : "")
        let more = tokens.count > limit ? " …" : ""
        return "<p class=\"tokens\">Probe text (\(ReportFormat.integer(tokens.count)) tokens, the sequence under "
            + "the heatmaps):<br>\(shown)\(more)</p>\n"
    }

    // MARK: 5. Training

    private mutating func trainingSection() {
        html += ReportSection.training.opening(lede: """
            Loss and perplexity (the exponential of the mean cross-entropy) on the training windows \
            and at each evaluation, and the global gradient norm before clipping against the clipping threshold.
            """)
        html += comparisonCharts(in: .training)
        html += runGrid { index in
            let record = runs[index].record
            var rows: [(String, String)] = []
            if let optimizer = record.config.optimizer, !record.origin.isImported {
                rows.append(("Optimizer", e("\(optimizer.rawValue), learning rate \(RunSetting.exact(record.config.learningRate))")))
            } else {
                let rate = record.config.learningRate > 0 ? "; learning rate \(RunSetting.exact(record.config.learningRate)) at the first logged step" : ""
                rows.append(("Trained", e("elsewhere (imported checkpoints)" + rate)))
            }
            if record.clippingNotRecorded {
                rows.append(("Clipping", "not logged"))
            } else if record.config.clip == 0 {
                rows.append(("Clipping", "off"))
            } else {
                rows.append(("Clipping", e("global norm \(RunSetting.exact(record.config.clip)); "
                    + "\(ReportFormat.percent(record.summary.clippedFraction)) of steps clipped")))
            }
            if let epochs = record.config.epochs {
                rows.append(("Length", e("\(epochs) epoch\(epochs == 1 ? "" : "s") (\(ReportFormat.integer(record.config.steps)) steps)")))
            }
            if let decay = record.config.learningRateDecay {
                let rates = record.steps.map(\.learningRate)
                let decays = zip(rates.dropFirst(), rates).filter { $0.0 < $0.1 }.count
                rows.append(("Learning-rate schedule", e("× \(RunSetting.exact(decay)) after an evaluation that did not improve "
                    + "the best validation loss: lowered \(decays) time\(decays == 1 ? "" : "s")"
                    + (rates.last.map { ", final rate \(ReportFormat.number($0))" } ?? ""))))
            }
            if let dropout = record.config.dropout, dropout > 0 {
                rows.append(("Dropout", e("\(RunSetting.exact(dropout)) on the embedding output, between layers and before "
                    + "the decoder, in training steps only: evaluation and every probe see the deterministic network")))
            }
            var final = "train \(ReportFormat.number(record.summary.finalTrainPerplexity)), "
                + "valid \(ReportFormat.number(record.summary.finalValidPerplexity))"
            if let test = record.summary.finalTestPerplexity { final += ", test \(ReportFormat.number(test))" }
            rows.append(("Final perplexity", e(final)))
            return facts(rows) + charts(ofRun: index, in: .training)
        }
        html += "</section>\n"
    }

    // MARK: 6. Reproduce

    private mutating func reproduceSection() {
        html += ReportSection.reproduce.opening(lede: """
            The exact command of each run. The same command, seed and corpus give the same numbers, bit for \
            bit, at any thread count; a different corpus checksum means different data.
            """)
        html += "<div class=\"runs\">\n"
        for index in runs.indices {
            let run = runs[index]
            let record = run.record
            let command = HTMLText.commandLine(program: record.tool.name, arguments: record.command)
            let info = record.corpus
            var splits = "\(ReportFormat.integer(info.trainTokens)) train, \(ReportFormat.integer(info.validTokens)) valid"
            if let unknown = Self.unknownShare(info.unknownValidTokens, of: info.validTokens) { splits += " (\(unknown))" }
            if let test = info.testTokens {
                splits += ", \(ReportFormat.integer(test)) test"
                if let unknown = Self.unknownShare(info.unknownTestTokens, of: test) { splits += " (\(unknown))" }
            }
            var corpus = e("\(info.name) · \(record.config.tokenize?.rawValue ?? "id") tokens: \(splits) · vocabulary "
                + "\(ReportFormat.integer(info.vocabularySize)) (from the training split)")
            if info.synthetic { corpus += " · synthetic" }
            let files = ["run.json", "model.safetensors"].map { file in
                "<a href=\"\(HTMLText.href(directory: run.directoryLink, file: file))\">\(e(file))</a>"
            }.joined(separator: " · ")
            let rows: [(String, String)] = [
                ("Seed", e(String(record.config.seed))),
                ("Corpus", corpus),
                ("SHA-256", "<code>\(e(record.corpus.sha256))</code>"),
            ] + [("Validation file", info.validFile, info.validSha256), ("Test file", info.testFile, info.testSha256)].compactMap { label, file, sha in
                file.map { (label, "\(e($0)) · SHA-256 <code>\(e(sha ?? ""))</code>") }
            } + [
                ("Tool", e("\(record.tool.name) \(record.tool.version)")),
                ("Record schema", e(String(record.schemaVersion))),
                ("Folder", "<a href=\"\(HTMLText.href(directory: run.directoryLink))\">\(e(run.directoryLink))</a>"),
                ("Files", files),
            ]
            var pages = rows
            if runPages {
                pages.append(("Page", "<a href=\"\(HTMLText.href(directory: run.directoryLink, file: ReportWriter.reportFileName))\">"
                    + "report.html</a> (this run's charts)"))
            }
            html += "<article class=\"run\">\n" + runHeading(index) + "<pre><code>\(e(command))</code></pre>\n" + facts(pages)
                + "</article>\n"
        }
        html += "</div>\n</section>\n"
    }
}
