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
            #expect(occurrences(of: "alt=\"\(id) of rnn\"", in: html) == 1)
            #expect(occurrences(of: "alt=\"\(id) of lstm\"", in: html) == 1)
        }
    }

    @Test func pageNeedsNoNetworkAndOnlyItsOwnOptionalScript() {
        let html = standardReport()
        #expect(occurrences(of: "<script", in: html) == 1)
        #expect(html.contains("<script>\(ReportStyle.zoomScript)</script>"))
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

    @Test func verdictSentencesComeFromTheLastProbe() throws {
        let rnn = ReportFixtures.rnn, lstm = ReportFixtures.lstm
        let html = HTMLReport.build(runs: [ReportFixtures.reportRun(rnn), ReportFixtures.reportRun(lstm)],
                                    comparison: [], generatedBy: "test")
        let rnnProfile = try #require(rnn.probes.last?.layers.first?.lagProfile)
        let lstmProfile = try #require(lstm.probes.last?.layers.first?.lagProfile)
        let lag = ReportFixtures.window - 1
        let rnnRatio = ReportFormat.ratio(rnnProfile[lag] / rnnProfile[0])
        let lstmRatio = ReportFormat.ratio(lstmProfile[lag] / lstmProfile[0])
        #expect(rnnRatio.contains("e-"), "the RNN fixture's gradient should vanish: \(rnnRatio)")
        let horizon = try #require(rnn.summary.horizon)
        #expect(html.contains("<span class=\"name\">rnn</span>: the gradient from \(lag) steps back is \(rnnRatio) "
            + "of the local one (×0.46 per step); vanishing: below 1e-3 after \(horizon) steps."))
        #expect(html.contains("<span class=\"name\">lstm</span>: the gradient from \(lag) steps back still holds "
            + "\(lstmRatio) of the local one (×0.98 per step); no vanishing within the 30-step window."))
        #expect(lstmRatio == "0.3")
    }

    @Test func summaryTableFormatsNumbersForPeople() {
        let html = standardReport()
        #expect(html.contains("<td>12,345</td>"))        // parameters
        #expect(html.contains("<td>131,072</td>"))       // tokens/s
        #expect(html.contains("<td>beyond T = 30</td>")) // LSTM horizon
        #expect(html.contains("<td>9 steps</td>"))       // RNN horizon
        #expect(html.contains("<td>×0.46</td>"))
        #expect(html.contains("<td>11.6 s</td>"))
        #expect(html.contains("<td>input 15%, forget 40%, candidate 15%, output 15%</td>"))
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
        #expect(html.contains("the gradient lag profile is not finite (n/a)"))
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
                            charts: ReportFixtures.runChartIDs.map { ReportFixtures.chart($0, title: "\($0) of \(attack)") })
        let html = HTMLReport.build(runs: [run, ReportFixtures.reportRun(ReportFixtures.lstm)],
                                    comparison: [ReportFixtures.chart("compare-lag-profiles", title: attack)],
                                    generatedBy: "diagnose <b>0.1</b>")
        #expect(occurrences(of: "<script", in: html) == 1, "only the report's own zoom script")
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
        #expect(properties.count == 23)
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
        #expect(ReportFormat.percent(0.9976) == "100%")
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
            == rnnIDs.map { "rnn/\($0).png" } + lstmIDs.map { "lstm/\($0).png" })
        #expect(summary.runNames == ["rnn", "lstm"], "the simple RNN comes first, whatever the folder order")
        #expect(summary.comparisonCharts.map(\.lastPathComponent) == comparisonIDs.map { $0 + ".png" })
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
        #expect(FileManager.default.fileExists(atPath: job1.appendingPathComponent("gradient-flow.png").path))
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
