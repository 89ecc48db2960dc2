import DiagnoseRecord
import Foundation
import Testing
@testable import Renderer

/// The `<img>` tags of a page: decoded PNG bytes and the width/height attributes.
private struct PageImage {
    var base64: String
    var bytes: Data?
    var width: Int
    var height: Int
    var alt: String
}

private func images(in html: String) throws -> [PageImage] {
    let regex = try Regex(#"<img src="([^"]*)" width="(\d+)" height="(\d+)" alt="([^"]*)">"#)
    return html.matches(of: regex).map { match in
        let source = String(match.output[1].substring ?? "")
        let prefix = "data:image/png;base64,"
        let base64 = source.hasPrefix(prefix) ? String(source.dropFirst(prefix.count)) : ""
        return PageImage(base64: base64, bytes: source.hasPrefix(prefix) ? Data(base64Encoded: base64) : nil,
                         width: Int(match.output[2].substring ?? "") ?? -1,
                         height: Int(match.output[3].substring ?? "") ?? -1,
                         alt: String(match.output[4].substring ?? ""))
    }
}

private func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

private func offset(of needle: String, in text: String) -> Int? {
    text.range(of: needle).map { text.distance(from: text.startIndex, to: $0.lowerBound) }
}

private func standardReport() -> String {
    HTMLReport.build(runs: [ReportFixtures.reportRun(ReportFixtures.rnn), ReportFixtures.reportRun(ReportFixtures.lstm)],
                     comparison: ReportFixtures.comparisonCharts, generatedBy: "diagnose 0.1.0")
}

@Suite struct HTMLReportTests {
    @Test func sectionsAppearOnceEachInPageOrder() throws {
        let html = standardReport()
        var previous = -1
        for id in HTMLReport.sectionIDs {
            let tag = "<section id=\"\(id)\">"
            #expect(occurrences(of: tag, in: html) == 1, "section \(id)")
            let position = try #require(offset(of: tag, in: html))
            #expect(position > previous, "section \(id) out of order")
            previous = position
        }
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.hasSuffix("</html>\n"))
    }

    @Test func everyChartIsOneImageWithAValidPNGDataURI() throws {
        let html = standardReport()
        let found = try images(in: html)
        // 6 charts per run, 2 runs, 3 comparison charts: each exactly once.
        #expect(found.count == 2 * ReportFixtures.runChartIDs.count + ReportFixtures.comparisonChartIDs.count)
        #expect(occurrences(of: "<img ", in: html) == found.count)
        for image in found {
            let bytes = try #require(image.bytes, "image \(image.alt) is not a base64 PNG data URI")
            #expect(Array(bytes.prefix(8)) == FixturePNG.signature)
            #expect(bytes == FixturePNG.encode(width: 3, height: 2))
        }
        // CSS size = pixel size / scale: run charts are 1200 x 800 at scale 2, comparisons 1800 x 840.
        #expect(found.filter { $0.width == 600 && $0.height == 400 }.count == 12)
        #expect(found.filter { $0.width == 900 && $0.height == 420 }.count == 3)
        for id in ReportFixtures.runChartIDs {
            #expect(occurrences(of: "alt=\"\(id.rawValue) of rnn\"", in: html) == 1)
            #expect(occurrences(of: "alt=\"\(id.rawValue) of lstm\"", in: html) == 1)
        }
    }

    @Test func pageNeedsNoNetworkAndOnlyItsOwnOptionalScript() {
        let html = standardReport()
        // The zoom and the pointer readout; the fixture charts carry no readout data.
        #expect(occurrences(of: "<script", in: html) == 2)
        #expect(html.contains("<script>\(ReportStyle.zoomScript)</script>"))
        #expect(html.contains("<script>\(Hover.script)</script>"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("<link"))
        #expect(html.contains("@media (prefers-color-scheme: dark)"))
        #expect(html.contains("@media print"))
        #expect(html.contains("name=\"viewport\""))
    }

    @Test func headlineComparisonSitsUnderTheVerdict() throws {
        let html = standardReport()
        let verdicts = try #require(offset(of: "<ul class=\"verdicts\">", in: html))
        let headline = try #require(offset(of: "<figure id=\"fig-compare-lag-profiles\" class=\"headline\">", in: html))
        let table = try #require(offset(of: "<table class=\"summary\">", in: html))
        let firstImage = try #require(offset(of: "<img ", in: html))
        #expect(verdicts < headline && headline < firstImage && firstImage < table)
    }

    @Test func summaryTableShowsInitialisationAndEnd() {
        let html = standardReport()
        #expect(html.contains("<td>12,345</td>"))        // parameters
        #expect(html.contains("<td>131,072</td>"))       // tokens/s
        #expect(html.contains("<td>11.6 s</td>"))
        #expect(html.contains("<td>input 15%, forget 40%, candidate 15%, output 15%</td>"))
        // Fitted factor per step and horizon, first probe (initialisation) → last probe.
        #expect(html.contains("<tr><th scope=\"row\">Gradient factor per step, init → end</th>"
            + "<td>×0.4 → ×0.46</td><td>×0.96 → ×0.98</td></tr>"))
        #expect(html.contains("<tr><th scope=\"row\">Horizon (below 1e-3 of local), init → end</th>"
            + "<td>8 steps → 9 steps</td><td>beyond T = 30 → beyond T = 30</td></tr>"))
        // recallLagProfile[10] / recallLagProfile[0] at the first and the last probe.
        let rnn = ReportFixtures.rnn, lstm = ReportFixtures.lstm
        func recall(_ record: RunRecord, _ probe: Int) -> String {
            let profile = record.probes[probe].layers[0].recallLagProfile!
            return ReportFormat.ratio(profile[ReportFixtures.recallLag]! / profile[0]!)
        }
        #expect(recall(rnn, 0) == "1e-4" && recall(lstm, 2) == "1.9")
        #expect(html.contains("<tr><th scope=\"row\">Gradient reaching the recalled letter (lag 10), init → end</th>"
            + "<td>\(recall(rnn, 0)) → \(recall(rnn, 2))</td><td>\(recall(lstm, 0)) → \(recall(lstm, 2))</td></tr>"))
        #expect(html.contains("<td>16% (chance 6.2%)</td>"))
        #expect(html.contains("<tr><th scope=\"row\">Spectral radius, init → end</th><td>0.85 → 1</td><td>0.9 → 1.1</td></tr>"))
    }

    @Test func nonFiniteNumbersShowAsTextInsteadOfCrashing() {
        var record = ReportFixtures.rnn
        record.summary.finalValidPerplexity = .infinity
        record.summary.finalTrainPerplexity = .nan
        record.summary.decayPerStep = .nan
        record.summary.spectralRadiusLast = .infinity
        record.status = RunStatus(divergedAtStep: 120, divergenceReason: "loss became NaN")
        record.probes[record.probes.count - 1].layers[0].lagProfile[5] = .nan
        let html = HTMLReport.build(runs: [ReportFixtures.reportRun(record)], comparison: [], generatedBy: "test")
        #expect(html.contains("<td class=\"bad\">diverged</td>"))
        #expect(html.contains("<td class=\"bad\">n/a</td>"))
        #expect(html.contains("Training diverged at step 120 (loss became NaN)."))
        #expect(html.contains("At the last probe (step 200) the gradient lag profile is not finite (n/a)"))
        #expect(html.contains("<li class=\"not-finite\">"))
        #expect(!html.lowercased().contains(">nan") && !html.contains(">inf"))
    }

    @Test func hostileNamesTokensAndCorpusRenderAsText() throws {
        let attack = "<script>alert(1)</script>\"'&"
        var hostile = ReportFixtures.record(
            name: attack, cell: "rnn", corpusName: "<img src=x onerror=alert(2)>&\"'.txt",
            probeTokens: ["<", "script", ">", "&", "\"", "'", "<script>alert(3)</script>", "&amp;"])
        hostile.command = ["--corpus", attack, "it's"]
        hostile.summary.gateSaturation = ["<b>gate</b>": 0.5]
        let run = ReportRun(record: hostile, directoryLink: "../we<ird> & \"dir\"",
                            charts: ReportFixtures.runChartIDs.map { ReportFixtures.chart($0, title: "\($0.rawValue) of \(attack)") })
        let html = HTMLReport.build(runs: [run, ReportFixtures.reportRun(ReportFixtures.lstm)],
                                    comparison: [ReportFixtures.chart(.compareLagProfiles, title: attack)],
                                    generatedBy: "diagnose <b>0.1</b>")
        #expect(occurrences(of: "<script", in: html) == 2, "only the report's own zoom and readout scripts")
        #expect(!html.contains("alert(1)</script>"))
        #expect(!html.contains("<img src=x"))
        #expect(!html.contains("<b>"))
        let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"
        #expect(html.contains("<span class=\"name\">\(escaped)</span>"))
        #expect(html.contains("&lt;img src=x onerror=alert(2)&gt;&amp;&quot;&#39;.txt"))
        #expect(html.contains("<span>&lt;script&gt;alert(3)&lt;/script&gt;</span>"))
        #expect(html.contains("<span>&amp;amp;</span>"))
        // The command line is shell-quoted, then HTML-escaped.
        #expect(html.contains("<pre><code>diagnose --corpus "
            + "&#39;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;\\&#39;&#39;&amp;&#39; &#39;it&#39;\\&#39;&#39;s&#39;</code></pre>"))
        // Links are percent-encoded per segment, so the folder name cannot end the attribute.
        #expect(html.contains("href=\"../we%3Cird%3E%20%26%20%22dir%22/run.json\""))
        // Still exactly one image per chart: nothing was injected.
        #expect(try images(in: html).count == ReportFixtures.runChartIDs.count * 2 + 1)
        #expect(occurrences(of: "<img ", in: html) == ReportFixtures.runChartIDs.count * 2 + 1)
    }

    @Test func differingSettingsTableOnlyWhenSettingsDiffer() throws {
        let same = HTMLReport.build(runs: [ReportFixtures.reportRun(ReportFixtures.rnn), ReportFixtures.reportRun(ReportFixtures.lstm)],
                                    comparison: [], generatedBy: "test")
        #expect(!same.contains("id=\"differing-settings\""), "only the cell differs, which is the comparison itself")

        let other = ReportFixtures.record(name: "lstm", cell: "lstm", seed: 9, learningRate: 0.003)
        let html = HTMLReport.build(runs: [ReportFixtures.reportRun(ReportFixtures.rnn), ReportFixtures.reportRun(other)],
                                    comparison: [], generatedBy: "test")
        let notice = try #require(offset(of: "id=\"differing-settings\"", in: html))
        let verdicts = try #require(offset(of: "<ul class=\"verdicts\">", in: html))
        #expect(notice < verdicts, "the differences come before the verdict")
        #expect(html.contains("<tr><th scope=\"row\">learning rate</th><td class=\"mono\">0.01</td><td class=\"mono\">0.003</td></tr>"))
        #expect(html.contains("<tr><th scope=\"row\">seed</th><td class=\"mono\">7</td><td class=\"mono\">9</td></tr>"))
        let rows = SettingsComparison.differing([ReportFixtures.rnn, other]).map(\.label)
        #expect(rows == ["learning rate", "seed"])
    }

    @Test func settingsThatDoNotApplyToACellAreNotDifferences() {
        var rnn = ReportFixtures.rnn
        rnn.config.forgetBias = 0  // meaningless for a simple RNN
        #expect(SettingsComparison.differing([rnn, ReportFixtures.lstm]).isEmpty)
        var corpus = ReportFixtures.lstm
        corpus.corpus.sha256 = String(repeating: "0", count: 64)
        #expect(SettingsComparison.differing([ReportFixtures.rnn, corpus]).map(\.label) == ["corpus SHA-256"])
    }

    @Test func settingsListCoversEveryRunConfigField() {
        let fields = Set(RunSetting.all.map(\.field))
        let properties = Mirror(reflecting: ReportFixtures.rnn.config).children.compactMap(\.label)
        #expect(properties.count == 28)
        for property in properties {
            #expect(fields.contains(property), "RunConfig.\(property) is not compared across runs")
        }
    }

    @Test func sameInputsGiveTheSameBytes() throws {
        // Decode the records twice so their dictionaries are separate instances.
        let data = try RecordCoding.encode(ReportFixtures.lstm)
        let first = try RecordCoding.decoder().decode(RunRecord.self, from: data)
        let second = try RecordCoding.decoder().decode(RunRecord.self, from: data)
        let a = HTMLReport.build(runs: [ReportFixtures.reportRun(ReportFixtures.rnn), ReportFixtures.reportRun(first)],
                                 comparison: ReportFixtures.comparisonCharts, generatedBy: "x")
        let b = HTMLReport.build(runs: [ReportFixtures.reportRun(ReportFixtures.rnn), ReportFixtures.reportRun(second)],
                                 comparison: ReportFixtures.comparisonCharts, generatedBy: "x")
        #expect(a == b)
    }

    @Test func singleRunPromotesItsLagProfileToTheHeadline() throws {
        let html = HTMLReport.build(runs: [ReportFixtures.reportRun(ReportFixtures.lstm)], comparison: [], generatedBy: "x")
        #expect(html.contains("<figure id=\"fig-r1-gradient-decay\" class=\"headline\">"))
        #expect(try images(in: html).count == ReportFixtures.runChartIDs.count)
    }
}

/// Variants of the fixture records for the verdict and caption tests.
private enum Variants {
    /// `record` with the top layer of probe `index` replaced by the profile r(l) = factor^l
    /// (hidden state and recall answers alike), its fitted factor and horizon.
    static func profile(_ record: RunRecord, probe index: Int, factor: Double) -> RunRecord {
        var record = record
        var layer = record.probes[index].layers[0]
        let local = layer.lagProfile[0]
        layer.lagProfile = (0..<layer.lagProfile.count).map { local * pow(factor, Double($0)) }
        layer.recallLagProfile = layer.recallLagProfile.map { profile in
            profile.indices.map { l in profile[l] == nil ? nil : 0.2 * local * pow(factor, Double(l)) }
        }
        layer.decayPerStep = factor
        layer.horizon = layer.lagProfile.firstIndex { $0 / local < 1e-3 }
        record.probes[index].layers[0] = layer
        return record
    }

    /// A simple RNN that vanishes at initialisation (×0.4 per step) but not at the end (×0.9),
    /// after training grew its spectral radius from 0.85 to 2.5.
    static var stopsVanishing: RunRecord {
        var record = profile(ReportFixtures.rnn, probe: 2, factor: 0.9)
        record.summary.spectralRadiusLast = 2.5
        return record
    }

    /// A simple RNN whose gradient grows ×1.5 per step from the start and that diverged at step 1.
    static var explodes: RunRecord {
        var record = profile(ReportFixtures.rnn, probe: 0, factor: 1.5)
        var again = record.probes[0]
        again.step = 1
        record.probes = [record.probes[0], again]
        record.status = RunStatus(divergedAtStep: 1, divergenceReason: "the loss became inf")
        record.summary.spectralRadiusFirst = 1.5
        record.summary.spectralRadiusLast = 1.5
        record.summary.recallAccuracy = nil
        record.summary.stepsCompleted = 0
        return record
    }

    /// No probes at all.
    static var noProbes: RunRecord {
        var record = ReportFixtures.rnn
        record.probes = []
        record.summary.spectralRadiusFirst = nil
        record.summary.spectralRadiusLast = nil
        return record
    }

    /// `record` trained on a real text: no recall lag, no recall answers, no recall accuracy.
    static func realCorpus(_ record: RunRecord) -> RunRecord {
        var record = record
        record.corpus = CorpusInfo(name: "tinyshakespeare.txt", synthetic: false, sha256: String(repeating: "a", count: 64),
                                   tokens: 1_115_394, trainTokens: 1_003_854, validTokens: 111_540, vocabularySize: 65)
        record.config.lag = nil
        record.corpus.recall = nil
        record.summary.recallAccuracy = nil
        for p in record.probes.indices { record.probes[p].layers[0].recallLagProfile = nil }
        for e in record.evaluations.indices { record.evaluations[e].recallAccuracy = nil }
        return record
    }

    static func page(_ records: [RunRecord]) -> String {
        HTMLReport.build(runs: records.map { ReportFixtures.reportRun($0) }, comparison: [], generatedBy: "test")
    }

    /// The text of run `name`'s verdict item, tags removed.
    static func verdict(_ name: String, in html: String) -> String? {
        guard let start = html.range(of: "<span class=\"name\">\(name)</span>: "),
              let end = html.range(of: "</li>", range: start.upperBound..<html.endIndex) else { return nil }
        return String(html[start.upperBound..<end.lowerBound])
            .replacingOccurrences(of: " <span class=\"then\">", with: " ").replacingOccurrences(of: "</span>", with: "")
            .replacingOccurrences(of: "&#39;", with: "'")
    }
}

@Suite struct VerdictTests {
    @Test func leadsWithTheInitialisationThenSaysWhatTrainingDid() throws {
        let html = standardReport()
        let rnn = try #require(Variants.verdict("rnn", in: html))
        #expect(rnn == "At initialisation the gradient falls ×0.4 per step and is below 1e-3 of "
            + "the local one after 8 steps; the recall answers send 1e-4 of their gradient to the letter 10 steps back. "
            + "Training grew the spectral radius from 0.85 to 1. "
            + "At the end (step 200) the gradient falls ×0.46 per step and is below 1e-3 of the local one after "
            + "9 steps; the recall answers send 4.2e-4 of their gradient to the letter 10 steps back. "
            + "Recall: 16% right (chance 6.2%).")
        let lstm = try #require(Variants.verdict("lstm", in: html))
        #expect(lstm.hasPrefix("At initialisation the gradient falls ×0.96 per step but stays above "
            + "1e-3 of the local one across the 30-step window (cell state: 0.15 of the local gradient at lag 10); "
            + "the recall answers send 0.15 of their gradient to the letter 10 steps back."))
        #expect(lstm.contains("the recall answers send 1.9 times their gradient to the letter 10 steps back."))
        #expect(lstm.hasSuffix("Recall: 99% right (chance 6.2%)."))
        // The parts sit on lines of their own; the badge gives the fitted factor at both probes.
        #expect(html.contains("<span class=\"then\">Training grew the spectral radius"))
        #expect(html.contains("<span class=\"badge\">×0.4 → ×0.46 per step</span>"))
    }

    @Test func aGradientThatStopsVanishingGetsBothHalvesSaid() throws {
        let html = Variants.page([Variants.stopsVanishing])
        let text = try #require(Variants.verdict("rnn", in: html))
        #expect(text.contains("At initialisation the gradient falls ×0.4 per step and is below "
            + "1e-3 of the local one after 8 steps"))
        #expect(text.contains("Training grew the spectral radius from 0.85 to 2.5. "
            + "At the end (step 200) the gradient falls ×0.9 per step but stays above 1e-3 of the local one "
            + "across the 30-step window; the recall answers send 0.35 of their gradient to the letter 10 steps back."))
        #expect(!text.contains("vanishing"), "the numbers speak; no verdict word that one probe would contradict")
        #expect(html.contains("<td>8 steps → beyond T = 30</td>"))
        #expect(html.contains("<td>×0.4 → ×0.9</td>"))
    }

    @Test func aGrowingGradientAndADivergedRunAreSaidAsSuch() throws {
        let html = Variants.page([Variants.explodes])
        let text = try #require(Variants.verdict("rnn", in: html))
        #expect(text == "At initialisation the gradient grows ×1.5 per step: 10 steps back it is 58 "
            + "times the local one; the recall answers send 58 times their gradient to the letter 10 steps back. "
            + "Training diverged at step 1 (the loss became inf). Until then it left the spectral radius "
            + "near 1.5. At the last probe (step 1) the lag profile reads the same.")
        #expect(html.contains("<li class=\"exploding\">"))
        #expect(html.contains("<span class=\"badge exploding\">×1.5 → ×1.5 per step</span>"))
        #expect(html.contains("<td>beyond T = 30 → beyond T = 30</td>"))
    }

    @Test func aRunWithoutProbesSaysSoAndShowsNoGradientNumbers() throws {
        let html = Variants.page([Variants.noProbes])
        let text = try #require(Variants.verdict("rnn", in: html))
        #expect(text == "No gradient probe was recorded, so there is no lag profile to read. "
            + "Recall: 16% right (chance 6.2%).")
        #expect(html.contains("<tr><th scope=\"row\">Gradient factor per step, at the probe</th><td>—</td></tr>"))
        #expect(!html.contains("Gradient reaching the recalled letter"))
        #expect(html.contains("<span class=\"badge\">no probe</span>"))
    }

    @Test func aRealCorpusHasNoRecallSentencesOrRows() throws {
        let html = Variants.page([Variants.realCorpus(ReportFixtures.rnn), Variants.realCorpus(ReportFixtures.lstm)])
        let rnn = try #require(Variants.verdict("rnn", in: html))
        let lstm = try #require(Variants.verdict("lstm", in: html))
        #expect(!rnn.contains("recall") && !lstm.contains("recall"))
        #expect(!html.contains("Recall accuracy") && !html.contains("Gradient reaching the recalled letter"))
        // Without a recall lag, the cell state is compared by its horizon, like the hidden state.
        #expect(rnn.hasPrefix("At initialisation the gradient falls ×0.4 per step and is below "
            + "1e-3 of the local one after 8 steps. Training grew"))
        // A profile that holds is quoted at the reference lag, the window's last.
        #expect(lstm.hasPrefix("At initialisation the gradient falls ×0.96 per step but stays above "
            + "1e-3 of the local one across the 30-step window; 29 steps back it is 0.051 of the local one "
            + "(cell state: 0.051 of the local gradient at lag 29)."))
    }

    @Test func importedAndContinuedWeightsAreNotCalledAnInitialisation() throws {
        var imported = ReportFixtures.rnn
        imported.origin = .imported(weights: "model.safetensors")
        imported.config.optimizer = nil
        imported.config.steps = 0
        imported.probes = [imported.probes[0]]
        imported.summary.spectralRadiusLast = imported.summary.spectralRadiusFirst
        imported.summary.recallAccuracy = nil
        var continued = ReportFixtures.lstm
        continued.origin = .continued(weights: "output/lstm/model.safetensors")
        let html = Variants.page([imported, continued])
        let first = try #require(Variants.verdict("rnn", in: html))
        #expect(first == "For the imported weights the gradient falls ×0.4 per step and is below 1e-3 of "
            + "the local one after 8 steps; the recall answers send 1e-4 of their gradient to the letter 10 steps back.")
        let second = try #require(Variants.verdict("lstm", in: html))
        #expect(second.hasPrefix("At the start (step 0, weights loaded with --weights) the gradient"))
        #expect(html.contains("Gradient factor per step, first → last probe"))
        #expect(!html.contains("init → end"))
    }

    @Test func anInterruptedRunSaysWhenAndQuotesItsLastProbe() throws {
        var record = Variants.stopsVanishing
        record.status = RunStatus(interrupted: true)
        record.summary.stepsCompleted = 200
        record.config.steps = 1_000
        record.summary.spectralRadiusLast = .infinity
        let text = try #require(Variants.verdict("rnn", in: Variants.page([record])))
        #expect(text.contains("after 8 steps; the recall answers send 1e-4 of their gradient to the letter 10 steps back. "
            + "Training was interrupted after 200 of 1,000 steps. Until then it took the spectral radius "
            + "from 0.85 to a value that is not finite. At the last probe (step 200) the gradient falls ×0.9"))
    }

    @Test func stackedModelsSayWhichLayerTheNumbersDescribe() throws {
        var record = ReportFixtures.rnn
        record.config.layers = 2
        let text = try #require(Variants.verdict("rnn", in: Variants.page([record])))
        #expect(text.hasPrefix("At initialisation, in the top layer's forward direction, the gradient falls"))
    }
}

@Suite struct CaptionTests {
    @Test func everyFigureCarriesTheReportsCaption() throws {
        let html = standardReport()
        let records = [ReportFixtures.rnn, ReportFixtures.lstm]
        for record in records {
            for id in ReportFixtures.runChartIDs {
                // A run's captions quote its numbers against the reference lag of all runs on the page.
                let lag = GradientVerdict.referenceLag(for: records)
                let text = ReportCaptions.run(id, record: record, verdict: GradientVerdict(record: record, referenceLag: lag))
                #expect(text.count > 80 && html.contains("<figcaption>\(HTMLText.escape(text))</figcaption>"), "\(id.rawValue) of \(record.name)")
            }
        }
        for id in ReportFixtures.comparisonChartIDs {
            let text = ReportFixtures.caption(id, records)
            #expect(text.count > 80 && html.contains("<figcaption>\(HTMLText.escape(text))</figcaption>"), "\(id.rawValue)")
        }
        #expect(occurrences(of: "<figcaption>", in: html) == 2 * ReportFixtures.runChartIDs.count + ReportFixtures.comparisonChartIDs.count)
    }

    @Test func chartIDsAreTheFileStems() {
        let ids: [ChartID] = ChartID.fixed + [.sweep(.spectralRadius), .sweep(.learningRate), .phase(.spectralRadius, .lag)]
        #expect(ids.map(\.rawValue) == ["gradient-flow", "gradient-decay", "depth", "spectrum", "jacobian-products", "gates",
                                        "training", "compare-lag-profiles", "compare-training", "compare-spectra", "compare-depth",
                                        "sweep-spectralRadius", "sweep-learningRate", "sweep-spectralRadius-lag"])
        #expect(ids.allSatisfy { ChartID(rawValue: $0.rawValue) == $0 })
        #expect(["", "sweep-", "sweep-lag-", "sweep-lag-lag-lag", "sweep-nope", "Gates"].allSatisfy { ChartID(rawValue: $0) == nil })
    }

    @Test func headlineCaptionQuotesEveryRunsFactorsAndHorizons() {
        let html = standardReport()
        #expect(html.contains("The recall task needs gradient at ℓ = 10. Fitted factor per step, first → last probe: "
            + "rnn ×0.4 (horizon 8 steps) → ×0.46 (horizon 9 steps); "
            + "lstm ×0.96 (horizon beyond T = 30) → ×0.98 (horizon beyond T = 30).</figcaption>"))
    }

    @Test func theSimpleRNNBoundIsJudgedFromItsNumbers() {
        // Fixture: σ_max = 1.4 ρ, γ = 1, so γ·σ_max = 1.19 at step 0 and 1.4 at step 200.
        let run = RunNumbers(record: ReportFixtures.rnn, verdict: GradientVerdict(record: ReportFixtures.rnn, referenceLag: 29))
        #expect(run.boundClaim() == "Here γ·σ_max is 1.19 at step 0 and 1.4 at step 200: at least 1 both times, so the "
            + "bound forces nothing and any vanishing comes from the activation's slopes and the directions the gradient takes.")
        var contracting = ReportFixtures.rnn
        for p in contracting.probes.indices.dropLast() {
            contracting.probes[p].layers[0].spectrum.whole.singularValues = [0.7, 0.5]
        }
        let mixed = RunNumbers(record: contracting, verdict: GradientVerdict(record: contracting, referenceLag: 29))
        #expect(mixed.boundClaim() == "Here γ·σ_max is 0.7 at step 0 and 1.4 at step 200: below 1 at the first probe "
            + "but not at the last, so the bound forces vanishing only there.")
        let lstm = RunNumbers(record: ReportFixtures.lstm, verdict: GradientVerdict(record: ReportFixtures.lstm, referenceLag: 29))
        #expect(lstm.boundClaim() == nil, "the bound is about the simple RNN")
    }

    @Test func trainingCaptionCountsTheLearningRateDecays() throws {
        #expect(!ReportFixtures.caption(.training, [ReportFixtures.rnn]).contains("learning rate was lowered"))
        var record = ReportFixtures.rnn
        try #require(record.steps.count >= 4)
        for i in record.steps.indices { record.steps[i].learningRate = i < record.steps.count / 2 ? 0.01 : 0.005 }
        let rates = "(1 time, from \(ReportFormat.number(0.01)) to \(ReportFormat.number(0.005)))."
        // An imported log's schedule: lowered, for reasons the record does not know.
        let logged = ReportFixtures.caption(.training, [record])
        #expect(logged.contains("the learning rate was lowered " + rates), "\(logged)")
        record.config.learningRateDecay = 0.5
        let decayed = ReportFixtures.caption(.training, [record])
        #expect(decayed.contains("the learning rate was lowered after a validation loss that did not improve on the best "
            + "so far " + rates), "\(decayed)")
    }

    @Test func trainingCaptionQuotesTheRecallCorpusFloor() throws {
        let floor = try #require(ReportFixtures.rnn.corpus.recall?.lossFloor)
        // lag 10 of every 12 tokens are uniform over 16 letters.
        #expect(abs(floor - 10.0 / 12.0 * log(16.0)) < 1e-12)
        #expect(abs(try #require(ReportFixtures.rnn.corpus.recall?.chanceAccuracy) - 1.0 / 16.0) < 1e-12)
        let caption = ReportCaptions.training(RunNumbers(record: ReportFixtures.rnn,
                                                         verdict: GradientVerdict(record: ReportFixtures.rnn, referenceLag: 29)))
        #expect(caption.contains("lowest possible on this corpus \(ReportFormat.number(floor)) (perplexity \(ReportFormat.number(exp(floor))))"))
        let real = ReportCaptions.training(RunNumbers(record: Variants.realCorpus(ReportFixtures.rnn),
                                                      verdict: GradientVerdict(record: ReportFixtures.rnn, referenceLag: 29)))
        #expect(!real.contains("lowest possible"))
    }
}

@Suite struct ReportTextTests {
    @Test func numbersReadLikeAPersonWroteThem() {
        #expect(ReportFormat.ratio(1.23e-6) == "1.2e-6")
        #expect(ReportFormat.ratio(0.968) == "0.97")
        #expect(ReportFormat.ratio(350) == "3.5e2")
        #expect(ReportFormat.number(10.434) == "10.4")
        #expect(ReportFormat.number(12_345.4) == "12,345")
        #expect(ReportFormat.number(.nan) == "n/a")
        #expect(ReportFormat.number(.infinity) == "diverged")
        #expect(ReportFormat.number(nil) == "—")
        #expect(ReportFormat.integer(-1_234_567) == "-1,234,567")
        #expect(ReportFormat.integer(999) == "999")
        #expect(ReportFormat.rate(12_345.4) == "12,345")
        #expect(ReportFormat.percent(0.034) == "3.4%")
        #expect(ReportFormat.percent(0.9976) == "99.8%", "short of 100% is not 100%")
        #expect(ReportFormat.percent(0.99996) == "99.9%")
        #expect(ReportFormat.percent(1) == "100%")
        #expect(ReportFormat.factor(0.406) == "×0.41")
        #expect(ReportFormat.factor(0.9951) == "×0.995", "a slow decay keeps three digits")
        #expect(ReportFormat.factor(1.457) == "×1.5")
        #expect(ReportFormat.factor(291) == "×2.9e2")
        #expect(ReportFormat.duration(125) == "2 min 05 s")
        #expect(ReportFormat.duration(0.84) == "0.84 s")
        #expect(ReportFormat.scientific(3e12, digits: 2) == "3e12")
    }

    @Test func shellQuotingRoundTripsTheCommand() {
        #expect(HTMLText.shellQuote("--lr=0.01") == "--lr=0.01")
        #expect(HTMLText.shellQuote("my corpus.txt") == "'my corpus.txt'")
        #expect(HTMLText.shellQuote("it's") == "'it'\\''s'")
        #expect(HTMLText.shellQuote("") == "''")
        #expect(HTMLText.commandLine(program: "diagnose", arguments: ["--name", "a b"]) == "diagnose --name 'a b'")
    }

    @Test func escapingCoversAllFiveCharacters() {
        #expect(HTMLText.escape("<a href=\"x\">Tom & Jerry's</a>")
            == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
    }

    @Test func linksArePercentEncodedPerSegment() {
        #expect(HTMLText.href(directory: "lstm", file: "run.json") == "lstm/run.json")
        #expect(HTMLText.href(directory: ".", file: "run.json") == "run.json")
        #expect(HTMLText.href(directory: "../a b/c:d", file: "run.json") == "../a%20b/c%3Ad/run.json")
        #expect(HTMLText.href(directory: "lstm") == "lstm/")
    }
}

@Suite struct ReportWriterTests {
    /// Two runs, rnn and lstm, in `<root>/output`.
    private func outputWithTwoRuns() throws -> (root: URL, output: URL) {
        let root = try ReportFixtures.temporaryDirectory()
        let output = root.appendingPathComponent("output")
        try ReportFixtures.writeRun(ReportFixtures.rnn, to: output.appendingPathComponent("rnn"))
        try ReportFixtures.writeRun(ReportFixtures.lstm, to: output.appendingPathComponent("lstm"))
        return (root, output)
    }

    @Test func writesEveryChartAndTheReport() throws {
        let (root, output) = try outputWithTwoRuns()
        defer { try? FileManager.default.removeItem(at: root) }
        let runs = ReportWriter.discoverRuns(in: output)
        #expect(runs.map(\.lastPathComponent) == ["lstm", "rnn"])
        let summary = try ReportWriter.renderRuns(runDirectories: runs, outputDirectory: output,
                                                  options: ReportFixtures.renderOptions)
        #expect(summary.report.path == output.appendingPathComponent("report.html").path)
        // One file per chart the renderer draws, named by its id, next to the run or under compare/.
        let options = ReportFixtures.renderOptions
        let lstmIDs = try RunCharts.render(ReportFixtures.lstm, options: options).map(\.id)
        let rnnIDs = try RunCharts.render(ReportFixtures.rnn, options: options).map(\.id)
        let comparisonIDs = try CompareCharts.render([ReportFixtures.lstm, ReportFixtures.rnn], options: options).map(\.id)
        #expect(!lstmIDs.isEmpty && !comparisonIDs.isEmpty)
        #expect(summary.runCharts.map { "\($0.deletingLastPathComponent().lastPathComponent)/\($0.lastPathComponent)" }
            == rnnIDs.map { "rnn/\($0.rawValue).png" } + lstmIDs.map { "lstm/\($0.rawValue).png" })
        #expect(summary.runNames == ["rnn", "lstm"], "the simple RNN comes first, whatever the folder order")
        #expect(summary.comparisonCharts.map(\.lastPathComponent) == comparisonIDs.map { $0.rawValue + ".png" })
        #expect(summary.comparisonCharts.allSatisfy { $0.deletingLastPathComponent().lastPathComponent == "compare" })
        for file in summary.runCharts + summary.comparisonCharts {
            let bytes = try Data(contentsOf: file)
            #expect(Array(bytes.prefix(8)) == FixturePNG.signature, "\(file.path)")
        }
        let html = try String(contentsOf: summary.report, encoding: .utf8)
        let found = try images(in: html)
        #expect(found.count == summary.runCharts.count + summary.comparisonCharts.count)
        for image in found {
            let bytes = try #require(image.bytes)
            #expect(Array(bytes.prefix(8)) == FixturePNG.signature)
        }
        #expect(html.contains("href=\"lstm/run.json\"") && html.contains("href=\"rnn/model.safetensors\""))
        // Nothing temporary is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func mergesRunsFromSeparateFoldersWithRelativeLinks() throws {
        let root = try ReportFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let job1 = try ReportFixtures.writeRun(ReportFixtures.rnn, to: root.appendingPathComponent("artifacts/job 1/rnn"))
        let job2 = try ReportFixtures.writeRun(ReportFixtures.lstm, to: root.appendingPathComponent("artifacts/job-2/lstm"))
        let output = root.appendingPathComponent("combined/report")
        let summary = try ReportWriter.renderRuns(runDirectories: [job1, job2], outputDirectory: output,
                                                  options: ReportFixtures.renderOptions)
        let html = try String(contentsOf: summary.report, encoding: .utf8)
        #expect(html.contains("href=\"../../artifacts/job%201/rnn/run.json\""))
        #expect(html.contains("href=\"../../artifacts/job-2/lstm/model.safetensors\""))
        // The links resolve, from the report's folder, to the records.
        for link in ["../../artifacts/job 1/rnn/run.json", "../../artifacts/job-2/lstm/run.json"] {
            let target = output.appendingPathComponent(link).standardizedFileURL
            #expect(FileManager.default.fileExists(atPath: target.path), "\(target.path)")
        }
        // Charts go under the output folder only; the run folders are read, never written.
        #expect(!FileManager.default.fileExists(atPath: job1.appendingPathComponent("gradient-flow.png").path))
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("charts/rnn/gradient-flow.png").path))
        #expect(summary.runCharts.allSatisfy { $0.path.hasPrefix(output.path + "/charts/") })
        #expect(summary.comparisonCharts.allSatisfy { $0.path.hasPrefix(output.path + "/compare/") })
    }

    @Test func duplicateRunNamesAreToldApartByTheirFolders() throws {
        let root = try ReportFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let a = try ReportFixtures.writeRun(ReportFixtures.lstm, to: root.appendingPathComponent("job-1/lstm"))
        let b = try ReportFixtures.writeRun(ReportFixtures.lstm, to: root.appendingPathComponent("job-2/lstm"))
        let c = try ReportFixtures.writeRun(ReportFixtures.rnn, to: root.appendingPathComponent("job-2/rnn"))
        let output = root.appendingPathComponent("merged")
        let summary = try ReportWriter.renderRuns(runDirectories: [a, b, c, a], outputDirectory: output,
                                                  options: ReportFixtures.renderOptions)
        #expect(summary.runNames == ["rnn", "lstm (job-1/lstm)", "lstm (job-2/lstm)"])
        let html = try String(contentsOf: summary.report, encoding: .utf8)
        #expect(html.contains("<span class=\"name\">lstm (job-1/lstm)</span>"))
        #expect(html.contains("<span class=\"name\">lstm (job-2/lstm)</span>"))
        let again = try ReportWriter.renderRuns(runDirectories: [a, b, c], outputDirectory: output,
                                                options: ReportFixtures.renderOptions)
        #expect(again.runNames == summary.runNames)
    }

    @Test func missingRecordNamesTheFolderAndWhatToDo() throws {
        let root = try ReportFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let empty = root.appendingPathComponent("not-a-run")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        do {
            _ = try ReportWriter.renderRuns(runDirectories: [empty], outputDirectory: root, options: ReportFixtures.renderOptions)
            Issue.record("expected an error")
        } catch let error as ReportError {
            #expect(error == .missingRecord(directory: empty.path))
            #expect(error.description == "\(empty.path)/run.json not found: run `diagnose` first or name a folder that holds a run.json")
        }
        #expect(throws: ReportError.noRuns(outputDirectory: root.path)) {
            try ReportWriter.renderRuns(runDirectories: [], outputDirectory: root, options: ReportFixtures.renderOptions)
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("report.html").path))
    }

    @Test func invalidRecordLeavesThePreviousReportIntact() throws {
        let (root, output) = try outputWithTwoRuns()
        defer { try? FileManager.default.removeItem(at: root) }
        let runs = ReportWriter.discoverRuns(in: output)
        let summary = try ReportWriter.renderRuns(runDirectories: runs, outputDirectory: output, options: ReportFixtures.renderOptions)
        let before = try Data(contentsOf: summary.report)

        // A newer lstm record (the report would change) next to a broken rnn record.
        try ReportFixtures.writeRun(ReportFixtures.record(name: "lstm", cell: "lstm", seed: 99), to: output.appendingPathComponent("lstm"))
        let broken = output.appendingPathComponent("rnn/run.json")
        try Data("{\"schemaVersion\": 1, \"name\": ".utf8).write(to: broken)
        #expect(throws: RecordError.self) {
            try ReportWriter.renderRuns(runDirectories: runs, outputDirectory: output, options: ReportFixtures.renderOptions)
        }
        #expect(try Data(contentsOf: summary.report) == before)
    }

    @Test func failedWriteLeavesThePreviousReportIntact() throws {
        let (root, output) = try outputWithTwoRuns()
        defer { try? FileManager.default.removeItem(at: root) }
        let runs = ReportWriter.discoverRuns(in: output)
        let summary = try ReportWriter.renderRuns(runDirectories: runs, outputDirectory: output, options: ReportFixtures.renderOptions)
        let before = try Data(contentsOf: summary.report)

        // The report would change, but one chart cannot be written: a folder sits where its file goes.
        try ReportFixtures.writeRun(ReportFixtures.record(name: "lstm", cell: "lstm", seed: 99), to: output.appendingPathComponent("lstm"))
        let blocked = try #require(summary.runCharts.last, "the renderer drew no chart to block")
        try FileManager.default.removeItem(at: blocked)
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("occupied"), withIntermediateDirectories: true)
        #expect(throws: AtomicFileError.self) {
            try ReportWriter.renderRuns(runDirectories: runs, outputDirectory: output, options: ReportFixtures.renderOptions)
        }
        #expect(try Data(contentsOf: summary.report) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: blocked.deletingLastPathComponent().path)
            .filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    /// Permission bits do not stop root, so this one runs only for ordinary users (as on CI runners).
    @Test(.enabled(if: getuid() != 0, "root ignores permission bits"))
    func readOnlyOutputFolderLeavesThePreviousReportIntact() throws {
        let root = try ReportFixtures.temporaryDirectory()
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.appendingPathComponent("report").path)
            try? FileManager.default.removeItem(at: root)
        }
        let rnn = try ReportFixtures.writeRun(ReportFixtures.rnn, to: root.appendingPathComponent("runs/rnn"))
        let lstm = try ReportFixtures.writeRun(ReportFixtures.lstm, to: root.appendingPathComponent("runs/lstm"))
        let output = root.appendingPathComponent("report")
        let summary = try ReportWriter.renderRuns(runDirectories: [rnn, lstm], outputDirectory: output, options: ReportFixtures.renderOptions)
        let before = try Data(contentsOf: summary.report)
        try ReportFixtures.writeRun(ReportFixtures.record(name: "lstm", cell: "lstm", seed: 99), to: lstm)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: output.path)
        #expect(throws: AtomicFileError.self) {
            try ReportWriter.renderRuns(runDirectories: [rnn, lstm], outputDirectory: output, options: ReportFixtures.renderOptions)
        }
        #expect(try Data(contentsOf: summary.report) == before)
    }

    @Test func sameRunsGiveTheSameReportBytes() throws {
        let (root, output) = try outputWithTwoRuns()
        defer { try? FileManager.default.removeItem(at: root) }
        let runs = ReportWriter.discoverRuns(in: output)
        let first = try Data(contentsOf: ReportWriter.renderRuns(runDirectories: runs, outputDirectory: output,
                                                                  options: ReportFixtures.renderOptions).report)
        let second = try Data(contentsOf: ReportWriter.renderRuns(runDirectories: runs, outputDirectory: output,
                                                                   options: ReportFixtures.renderOptions).report)
        #expect(first == second)
    }

    @Test func discoverRunsFindsOnlyRunFoldersSortedByName() throws {
        let root = try ReportFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        for name in ["rnn", "Lstm", "gru", ".hidden"] {
            try ReportFixtures.writeRun(ReportFixtures.rnn, to: root.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("compare"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: root.appendingPathComponent("run.json"))
        #expect(ReportWriter.discoverRuns(in: root).map(\.lastPathComponent) == ["Lstm", "gru", "rnn"])
        #expect(ReportWriter.discoverRuns(in: root.appendingPathComponent("missing")).isEmpty)
    }

    @Test func relativePathsBetweenFolders() {
        func url(_ path: String) -> URL { URL(fileURLWithPath: path, isDirectory: true) }
        #expect(ReportWriter.relativePath(from: url("/a/out"), to: url("/a/out/lstm")) == "lstm")
        #expect(ReportWriter.relativePath(from: url("/a/out"), to: url("/a/ci/job-1/lstm")) == "../ci/job-1/lstm")
        #expect(ReportWriter.relativePath(from: url("/a/out"), to: url("/a/out")) == ".")
        #expect(ReportWriter.relativePath(from: url("/a/out/deep"), to: url("/a")) == "../..")
    }
}
