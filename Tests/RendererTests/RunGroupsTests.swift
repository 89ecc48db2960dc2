import DiagnoseRecord
import Foundation
import Testing
@testable import Renderer

@Suite struct RunGroupsTests {
    static func record(_ name: String, cell: String = "lstm", seed: UInt64, radius: Double? = nil, recall: Double? = nil) -> RunRecord {
        var record = ReportFixtures.record(name: name, cell: cell, seed: seed)
        record.config.spectralRadius = radius
        if let recall { record.summary.recallAccuracy = recall }
        return record
    }

    @Test func runsThatDifferOnlyInTheSeedFormAGroupOrderedBySeed() {
        let records = [Self.record("lstm-sr1-s1", seed: 1, radius: 1), Self.record("lstm-sr0.5-s0", seed: 0, radius: 0.5),
                       Self.record("lstm-sr1-s0", seed: 0, radius: 1), Self.record("rnn-sr1-s0", cell: "rnn", seed: 0, radius: 1)]
        let groups = RunGroups.seedGroups(records)
        #expect(groups.map { $0.records.map(\.name) } == [["lstm-sr1-s0", "lstm-sr1-s1"], ["lstm-sr0.5-s0"], ["rnn-sr1-s0"]])
        #expect(groups.map(\.name) == ["lstm-sr1", "lstm-sr0.5-s0", "rnn-sr1-s0"])
        #expect(RunGroups.sweptAxes(records) == [.spectralRadius])
        // The thread count does not split a group.
        var other = records[0]
        other.config.threads = 8
        #expect(RunGroups.seedGroups([records[2], other]).count == 1)
    }

    @Test func spreadIsMinToMaxThenInterquartile() throws {
        let three = try #require(SeedSpread([3, 1, nil, 2, .nan]))
        #expect(three.median == 2 && three.lower == 1 && three.upper == 3 && three.count == 3 && !three.interquartile)
        let five = try #require(SeedSpread([1, 2, 3, 4, 100]))
        #expect(five.median == 3 && five.lower == 2 && five.upper == 4 && five.interquartile)
        let even = try #require(SeedSpread([1, 2, 3, 4]))
        #expect(even.median == 2.5)
        #expect(SeedSpread([nil, .infinity]) == nil)
        #expect(three.overlaps(try #require(SeedSpread([2.5, 9]))))
        #expect(!three.overlaps(try #require(SeedSpread([3.5, 9]))))
    }

    @Test func sentencesSayWhenADifferenceIsWithinTheSeedSpread() {
        let lstm = [0.98, 0.99, 0.995].enumerated().map { Self.record("lstm-s\($0.offset)", seed: UInt64($0.offset), recall: $0.element) }
        let rnn = [0.06, 0.13, 0.08].enumerated().map { Self.record("rnn-s\($0.offset)", cell: "rnn", seed: UInt64($0.offset), recall: $0.element) }
        let far = SeedSummary.sentences(RunGroups.seedGroups(rnn + lstm))
        #expect(far == ["rnn against lstm: recall accuracy 8.0% [6.0%, 13%] against 99% [98%, 99.5%]; "
            + "the difference is larger than the spread between seeds."])
        let close = [0.07, 0.15, 0.1].enumerated().map { Self.record("gru-s\($0.offset)", cell: "gru", seed: UInt64($0.offset), recall: $0.element) }
        let sentences = SeedSummary.sentences(RunGroups.seedGroups(rnn + close))
        #expect(sentences.count == 1)
        #expect(sentences[0].contains("within the seed spread"), "\(sentences)")
        let table = SeedSummary.table(RunGroups.seedGroups(rnn + lstm), escape: HTMLText.escape)
        #expect(table.contains("<td>8.0% [6.0%, 13%]</td>"), "\(table)")
    }

    @Test func groupedComparisonDrawsABandPerGroup() {
        let records = (0..<3).map { Self.record("lstm-s\($0)", seed: UInt64($0)) } + (0..<3).map { Self.record("rnn-s\($0)", cell: "rnn", seed: UInt64($0)) }
        let figures = CompareCharts.figures(records)
        #expect(figures.map(\.id) == CompareCharts.ids)
        let lag = figures[0].spec.panels[0].marks
        let bands = lag.filter { if case .band = $0 { return true } else { return false } }
        let lines = lag.compactMap { mark -> String? in if case let .line(m) = mark { return m.label } else { return nil } }
        #expect(bands.count == 2)
        #expect(lines == ["lstm (median, band min to max of 3 seeds)", "rnn (median, band min to max of 3 seeds)"])
    }
}

@Suite struct ManyRunReportTests {
    /// Above the inline limit the index links to one self-contained page per run instead of
    /// embedding every run's charts, so it stays small.
    @Test func manyRunsGetTheirOwnPagesAndTheIndexStaysSmall() throws {
        let root = try ReportFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let output = root.appendingPathComponent("output")
        let count = ReportWriter.inlineRunLimit + 2
        var folders: [URL] = []
        for k in 0..<count {
            let cell = k % 2 == 0 ? "rnn" : "lstm"
            folders.append(try ReportFixtures.writeRun(Self.record(cell: cell, seed: UInt64(k / 2)), to: output.appendingPathComponent("\(cell)-s\(k / 2)")))
        }
        let summary = try ReportWriter.renderRuns(runDirectories: folders, outputDirectory: output, options: ReportFixtures.renderOptions)
        #expect(summary.runPages.count == count)
        let index = try String(contentsOf: summary.report, encoding: .utf8)
        // Only the comparison charts are embedded; every run is a link to its page.
        #expect(index.components(separatedBy: "<img ").count - 1 == summary.comparisonCharts.count)
        for folder in folders {
            #expect(index.contains("href=\"\(folder.lastPathComponent)/report.html\""))
            let page = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(page.components(separatedBy: "<img ").count - 1 == summary.runCharts.count / count)
            #expect(page.contains("href=\"run.json\""))
        }
        let indexBytes = try Data(contentsOf: summary.report).count
        let pageBytes = try summary.runPages.map { try Data(contentsOf: $0).count }.reduce(0, +)
        #expect(indexBytes * 3 < pageBytes, "index \(indexBytes) bytes, run pages \(pageBytes)")

        // A few runs stay on one page.
        let few = try ReportWriter.renderRuns(runDirectories: Array(folders.prefix(2)), outputDirectory: root.appendingPathComponent("few"),
                                              options: ReportFixtures.renderOptions)
        #expect(few.runPages.isEmpty)
    }

    /// A few runs are inlined only while their charts fit the budget: six runs with 1.6 MB of charts
    /// each (what six default runs draw) would make a 13 MB page, so they get their own pages.
    @Test func runsGetTheirOwnPagesWhenTheirChartsWouldNotFit() {
        #expect(!ReportWriter.usesRunPages(runs: 2, chartBytes: 3_300_000))
        #expect(ReportWriter.usesRunPages(runs: 6, chartBytes: 6 * 1_600_000))
        #expect(ReportWriter.usesRunPages(runs: 7, chartBytes: 1000))
        #expect(ReportWriter.inlineChartBudget < 10_000_000 - 1_000_000)
    }

    /// With run pages, the index holds a few kilobytes of text per run besides the comparison charts
    /// (whose size does not depend on the number of runs): 60 runs and 600 are both far below 10 MB.
    @Test func theIndexGrowsByKilobytesPerRun() {
        func indexBytes(_ count: Int) -> Int {
            let runs = (0..<count).map { k in
                ReportRun(record: Self.record(cell: k % 2 == 0 ? "rnn" : "lstm", seed: UInt64(k / 2)), directoryLink: "run-\(k)", charts: [])
            }
            return HTMLReport.build(runs: runs, comparison: [], generatedBy: "test", runPages: true).utf8.count
        }
        let small = indexBytes(10), large = indexBytes(110)
        let perRun = Double(large - small) / 100
        #expect(perRun > 100 && perRun < 4_000, "\(perRun) bytes per run")
        #expect(Double(small) + 600 * perRun < 5_000_000)
    }

    static func record(cell: String, seed: UInt64) -> RunRecord {
        var record = ReportFixtures.record(name: "\(cell)-s\(seed)", cell: cell, seed: seed)
        record.config.seed = seed
        return record
    }
}

@Suite struct SweepChartTests {
    static func run(_ cell: String, radius: Double, lag: Int? = nil, seed: UInt64, decay: Double, recall: Double = 0.5) -> RunRecord {
        var record = RunGroupsTests.record("\(cell)-sr\(radius)-s\(seed)", cell: cell, seed: seed, radius: radius, recall: recall)
        record.config.seed = seed
        if let lag { record.config.lag = lag }
        record.summary.decayPerStepFirst = decay
        return record
    }

    @Test func oneSweptFlagGivesLinesWithBandsAndTheDiagonalForTheRadius() throws {
        let records = [0.5, 1.0].flatMap { r in (0..<3).map { s in Self.run("rnn", radius: r, seed: UInt64(s), decay: r + 0.01 * Double(s)) } }
        let figures = SweepCharts.figures(records)
        #expect(figures.map(\.id) == [.sweep(.spectralRadius)])
        let panel = figures[0].spec.panels[0]
        let lines = panel.marks.compactMap { mark -> LineMark? in if case let .line(m) = mark { return m } else { return nil } }
        let initial = try #require(lines.first { $0.label?.hasSuffix(", initialisation") == true })
        #expect(initial.points.map(\.x) == [0.5, 1.0])
        #expect(initial.points.map(\.y) == [0.51, 1.01])
        #expect(lines.contains { $0.label == "factor = ρ (linear RNN theory)" })
        #expect(panel.marks.contains { if case .band = $0 { return true } else { return false } })
        let caption = ReportFixtures.caption(figures[0].id, records)
        #expect(caption.contains("0.50 → ×0.51, 1.00 → ×1.01"), "\(caption)")
    }

    @Test func twoSweptFlagsGiveAHeatmapPerCellWithTheBoundary() throws {
        let records = [0.5, 0.75, 1.25].flatMap { r in [4, 8].flatMap { lag in
            ["rnn", "lstm"].map { Self.run($0, radius: r, lag: lag, seed: 0, decay: r, recall: r < 1 ? 0.9 : 0.1) }
        } }
        let figures = SweepCharts.figures(records)
        #expect(figures.map(\.id) == [.phase(.spectralRadius, .lag)])
        let panels = figures[0].spec.panels
        #expect(panels.count == 2)
        for panel in panels {
            let heatmap = try #require(panel.marks.compactMap { mark -> HeatmapMark? in if case let .heatmap(m) = mark { return m } else { return nil } }.first)
            #expect(heatmap.values == [[90, 90, 10], [90, 90, 10]])
        }
        let rules = panels.map { $0.marks.compactMap { mark -> Double? in if case let .rule(m) = mark { return m.value } else { return nil } } }
        #expect(rules == [[1.5], []], "the rho = 1/gamma line on the simple RNN's panel only, between 0.75 and 1.25")
        #expect(SweepCharts.indexPosition(of: 1, in: [0.25, 0.5, 1.5]) == 1.5)
        #expect(SweepCharts.indexPosition(of: 2, in: [0.25, 0.5, 1.5]) == nil)
    }

    @Test func noSweepWithoutAVaryingFlag() {
        #expect(SweepCharts.figures([Self.run("rnn", radius: 1, seed: 0, decay: 1), Self.run("rnn", radius: 1, seed: 1, decay: 1)]).isEmpty)
    }
}
