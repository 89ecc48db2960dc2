import DiagnoseRecord
import Foundation
import Testing
@testable import Renderer

/// Pixel helpers on decoded PNGs.
enum Pixels {
    /// Pixels in the point rectangle `rect` (at `scale`) darker than `threshold` (Rec. 601 luma of the
    /// stored bytes, 0...1), looking at every `stride`-th pixel in each direction.
    static func dark(_ pixmap: Pixmap, _ rect: Rect, scale: Double, threshold: Double = 0.5, stride: Int = 1) -> Int {
        var n = 0
        let x0 = max(0, Int(rect.minX * scale)), x1 = min(pixmap.width, Int((rect.maxX * scale).rounded(.up)))
        let y0 = max(0, Int(rect.minY * scale)), y1 = min(pixmap.height, Int((rect.maxY * scale).rounded(.up)))
        guard x1 > x0, y1 > y0 else { return 0 }
        let limit = Int(threshold * 255 * 1000)
        pixmap.bytes.withUnsafeBufferPointer { b in
            for y in Swift.stride(from: y0, to: y1, by: stride) {
                for x in Swift.stride(from: x0, to: x1, by: stride) {
                    let i = 4 * (y * pixmap.width + x)
                    if 299 * Int(b[i]) + 587 * Int(b[i + 1]) + 114 * Int(b[i + 2]) < limit { n += 1 }
                }
            }
        }
        return n
    }

    /// The pixel under the point (x, y).
    static func at(_ pixmap: Pixmap, _ x: Double, _ y: Double, scale: Double) -> (Int, Int, Int) {
        let p = pixmap.rgba8(x: Int(x * scale), y: Int(y * scale))
        return (Int(p.0), Int(p.1), Int(p.2))
    }

    static func bytes(_ c: Color) -> (Int, Int, Int) {
        (Int((c.red * 255).rounded()), Int((c.green * 255).rounded()), Int((c.blue * 255).rounded()))
    }
}

@Suite struct RunChartTests {
    @Test(arguments: ["rnn", "lstm", "gru"])
    func everyChartRendersAndDecodesAtItsSize(cell: String) throws {
        let record = SampleRecords.run(cell: cell, T: 32, H: 32, probeCount: 5, steps: 300)
        let charts = try RunCharts.render(record, options: RenderOptions())
        #expect(charts.map(\.id) == RunCharts.ids)
        for chart in charts {
            let decoded = try PNGCodec.decode(chart.png)
            #expect(decoded.width == chart.width && decoded.height == chart.height, "\(chart.id)")
            #expect(chart.width >= 1000 && chart.height >= 500, "\(chart.id) is \(chart.width) x \(chart.height)")
            #expect(chart.scale == 2)
            #expect(!chart.title.isEmpty && ReportFixtures.caption(chart.id, [record]).count > 80, "\(chart.id) needs a title and a caption")
        }
    }

    @Test func scaleOneHalvesThePixels() throws {
        let record = SampleRecords.small()
        let two = try RunCharts.render(record, options: RenderOptions(scale: 2))
        let one = try RunCharts.render(record, options: RenderOptions(scale: 1))
        for (a, b) in zip(one, two) {
            #expect(abs(a.width * 2 - b.width) <= 2 && abs(a.height * 2 - b.height) <= 2, "\(a.id)")
            #expect(a.scale == 1)
        }
    }

    @Test func sameRecordGivesSameBytes() throws {
        let record = SampleRecords.run(cell: "lstm", T: 24, H: 16, probeCount: 4, steps: 200)
        let first = try RunCharts.render(record, options: RenderOptions())
        let second = try RunCharts.render(record, options: RenderOptions())
        #expect(first == second)
        let compareA = try CompareCharts.render([record, SampleRecords.small(cell: "rnn")], options: RenderOptions())
        let compareB = try CompareCharts.render([record, SampleRecords.small(cell: "rnn")], options: RenderOptions())
        #expect(compareA == compareB)
    }

    @Test func colourBarGetsDarkerFromTopToBottom() throws {
        let record = SampleRecords.run(cell: "rnn", T: 32, H: 16, probeCount: 3, steps: 100)
        let (image, figure) = try RunCharts.renderFigures(record, options: RenderOptions())[0]
        let decoded = try PNGCodec.decode(image.png)
        let bar = try #require(figure.panels[0].colorBar)
        let s = figure.scale
        let x = Int(bar.midX * s)
        var previous = Double.infinity
        var steps = 0
        for y in Int(bar.minY * s + 2)..<Int(bar.maxY * s - 2) {
            let l = decoded.pixel(x: x, y: y).luminance
            #expect(l <= previous + 1e-3, "luminance rises at row \(y): \(l) after \(previous)")
            if l < previous - 1e-9 { steps += 1 }
            previous = l
        }
        #expect(steps > 50, "the bar should be a gradient, found \(steps) changes")
        // Bright yellow at the top, dark purple at the bottom (viridis).
        #expect(decoded.pixel(x: x, y: Int(bar.minY * s) + 3).luminance > 0.6)
        #expect(decoded.pixel(x: x, y: Int(bar.maxY * s) - 3).luminance < 0.05)
    }

    @Test func knownGradientValueLandsOnItsCell() throws {
        // G[t][j] = 10^-(t - j): each cell's colour is known from the shared colour scale.
        let T = 20
        var record = SampleRecords.run(cell: "rnn", T: T, H: 8, probeCount: 2, steps: 50)
        let G = (0..<T).map { t in (0...t).map { j in pow(10, -Double(t - j)) } }
        record.probes[1].layers[0].gradientFlow = G
        record.probes[0].layers[0].gradientFlow = G
        let (image, figure) = try RunCharts.renderFigures(record, options: RenderOptions())[0]
        let decoded = try PNGCodec.decode(image.png)
        let panel = figure.panels[0]
        let scale = try #require(panel.colorScale)
        #expect(abs(log10(scale.hi)) < 1e-9, "the scale tops out at the largest value, 1")
        for (t, j) in [(5, 2), (12, 0), (19, 19), (10, 9), (7, 7)] {
            let x = panel.x.map(Double(j)), y = panel.y.map(Double(t))
            let got = Pixels.at(decoded, x, y, scale: figure.scale)
            let want = Pixels.bytes(try #require(scale.color(G[t][j])))
            let diff = max(abs(got.0 - want.0), abs(got.1 - want.1), abs(got.2 - want.2))
            #expect(diff <= 1, "cell t=\(t) j=\(j): pixel \(got), expected \(want)")
        }
        // t = 0 sits at the top: row 0 is above row 19.
        #expect(panel.y.map(0) < panel.y.map(19))
        // Above the diagonal (j > t) stays white.
        let blank = Pixels.at(decoded, panel.x.map(Double(T - 2)), panel.y.map(1), scale: figure.scale)
        #expect(blank == (255, 255, 255))
    }

    @Test func axisLabelsAndTitlesAreDrawn() throws {
        let record = SampleRecords.small(cell: "rnn")
        let (image, figure) = try RunCharts.renderFigures(record, options: RenderOptions()).last!
        let decoded = try PNGCodec.decode(image.png)
        let s = figure.scale
        for panel in figure.panels {
            let plot = panel.plot
            // Tick labels under the x axis and left of the y axis.
            let under = Rect(x: plot.minX - 10, y: plot.maxY + 5, width: plot.width + 20, height: 14)
            let left = Rect(x: plot.minX - 40, y: plot.minY, width: 34, height: plot.height)
            #expect(Pixels.dark(decoded, under, scale: s) > 30)
            #expect(Pixels.dark(decoded, left, scale: s) > 30)
        }
        // The title at the top left; nothing in the top right corner.
        #expect(Pixels.dark(decoded, Rect(x: 16, y: 14, width: 60, height: 16), scale: s) > 100)
        #expect(Pixels.dark(decoded, Rect(x: Double(decoded.width) / s - 60, y: 0, width: 60, height: 14), scale: s) == 0)
    }
}

@Suite struct RobustnessTests {
    /// Built once: each parameterised case picks its record from here.
    static let cases = SampleRecords.brokenCases()

    @Test(arguments: RobustnessTests.cases.map(\.name))
    func everyChartRendersWithNotes(name: String) throws {
        let record = try #require(RobustnessTests.cases.first { $0.name == name }?.record)
        let results = try RunCharts.renderFigures(record, options: RenderOptions())
        #expect(results.map(\.image.id) == RunCharts.ids(for: record))
        for (image, figure) in results {
            let decoded = try PNGCodec.decode(image.png)
            #expect(decoded.width == image.width)
            // Every note is really on the picture: red text where it was placed.
            for note in figure.notes {
                #expect(Pixels.dark(decoded, note.rect, scale: figure.scale, threshold: 0.45) > 20,
                        "\(name) / \(image.id): note “\(note.text)” is not visible")
            }
            // Something beyond the title is drawn (axes at least).
            #expect(Pixels.dark(decoded, Rect(x: 0, y: 60, width: Double(decoded.width) / 2, height: Double(decoded.height) / 2 - 60),
                                scale: figure.scale, stride: 3) > 10, "\(name) / \(image.id) looks blank")
        }
        let notes = results.flatMap { $0.figure.notes.map(\.text) }
        switch name {
        case "all NaN", "infinities":
            #expect(notes.contains { $0.contains("no finite values") }, "\(notes)")
        case "diverged":
            #expect(notes.filter { $0.contains("diverged at step 412") }.count == RunCharts.ids.count, "\(notes)")
        case "empty":
            #expect(notes.contains { $0.contains("no probes recorded") })
            #expect(notes.contains { $0.contains("no training steps recorded") })
        case "no activations":
            #expect(notes.contains { $0.contains("no activations") })
        default:
            break
        }
    }

    @Test func comparisonSurvivesBrokenAndSingleRuns() throws {
        let broken = RobustnessTests.cases.map(\.record)
        let charts = try CompareCharts.render(broken, options: RenderOptions())
        #expect(charts.map(\.id) == CompareCharts.ids(for: broken))
        let single = try CompareCharts.renderFigures([SampleRecords.small()], options: RenderOptions())
        #expect(single.allSatisfy { $0.figure.notes.contains { $0.text.contains("two or more runs") } })
        let none = try CompareCharts.render([], options: RenderOptions())
        #expect(none.count == 3)
    }
}

@Suite struct CompareChartTests {
    /// Pixels within `tolerance` (sum of channel differences) of `colour` in the point rectangle `rect`, as
    /// (count, mean y in points).
    static func find(_ colour: Color, in rect: Rect, _ decoded: Pixmap, scale: Double, tolerance: Int = 12) -> (count: Int, meanY: Double) {
        let want = Pixels.bytes(colour)
        var n = 0, sumY = 0.0
        for y in Int(rect.minY * scale)..<Int(rect.maxY * scale) {
            for x in Int(rect.minX * scale)..<Int(rect.maxX * scale) {
                let p = decoded.rgba8(x: x, y: y)
                if abs(Int(p.0) - want.0) + abs(Int(p.1) - want.1) + abs(Int(p.2) - want.2) < tolerance {
                    n += 1
                    sumY += Double(y) / scale
                }
            }
        }
        return (n, n > 0 ? sumY / Double(n) : .nan)
    }

    @Test func headlineChartShowsEachCellInItsColour() throws {
        let records = [SampleRecords.run(cell: "rnn", T: 32, H: 16, probeCount: 3, steps: 100),
                       SampleRecords.run(cell: "lstm", T: 32, H: 16, probeCount: 3, steps: 100)]
        let (image, figure) = try CompareCharts.renderFigures(records, options: RenderOptions())[0]
        #expect(image.id == .compareLagProfiles)
        #expect(figure.panels.count == 2, "first and last probe differ: two panels")
        let decoded = try PNGCodec.decode(image.png)
        for (index, probe) in [(0, 0), (1, 2)] {
            let panel = figure.panels[index]
            #expect(Self.find(Theme.cellColor(.rnn), in: panel.plot, decoded, scale: figure.scale).count > 300)
            #expect(Self.find(Theme.cellColor(.lstm), in: panel.plot, decoded, scale: figure.scale).count > 300)
            // The RNN's line ends low, the LSTM's stays high: at the last lag the RNN is far below.
            let rnnEnd = Series.normalized(records[0].probes[probe].layers[0].lagProfile).last!
            let lstmEnd = Series.normalized(records[1].probes[probe].layers[0].lagProfile).last!
            #expect(panel.y.map(rnnEnd) > panel.y.map(lstmEnd) + 60, "panel \(index)")
        }
        // One shared log axis.
        #expect(abs(log10(figure.panels[0].y.lo) - log10(figure.panels[1].y.lo)) < 1e-9)
        #expect(abs(log10(figure.panels[0].y.hi) - log10(figure.panels[1].y.hi)) < 1e-9)
    }

    /// The lecture's point: a simple RNN that vanishes at initialisation and no longer does after
    /// training is drawn low on the left and high on the right.
    @Test func firstProbeDecayingAndLastNotGivesTwoPanels() throws {
        var rnn = SampleRecords.run(cell: "rnn", T: 30, H: 16, probeCount: 3, steps: 100)
        let T = 30
        rnn.probes[0].layers[0].lagProfile = (0..<T).map { pow(0.41, Double($0)) }        // 1e-11 at lag 29
        rnn.probes[2].layers[0].lagProfile = (0..<T).map { 1 + 0.2 * sin(Double($0)) }    // stays near 1
        let (image, figure) = try CompareCharts.renderFigures([rnn, SampleRecords.small(cell: "lstm")], options: RenderOptions())[0]
        #expect(figure.panels.count == 2)
        let decoded = try PNGCodec.decode(image.png)
        let colour = Theme.cellColor(.rnn)
        var heights: [Double] = []
        for panel in figure.panels {
            // Only the RNN's line at lags 22 ... 28, away from the direct labels in the margin.
            let x0 = panel.x.map(22), x1 = panel.x.map(28)
            let strip = Rect(x: x0, y: panel.plot.minY, width: x1 - x0, height: panel.plot.height)
            let found = Self.find(colour, in: strip, decoded, scale: figure.scale)
            #expect(found.count > 40, "the RNN's line is drawn in \(panel.plot)")
            heights.append((panel.plot.maxY - found.meanY) / panel.plot.height)  // 0 bottom, 1 top
        }
        #expect(heights[0] < 0.3, "at initialisation the RNN's line is low: \(heights[0])")
        #expect(heights[1] > 0.7, "after training it stays high: \(heights[1])")
        // Where the data say: g(29)/g(0) = 0.41^29 at the left, about 1 at the right.
        #expect(abs(figure.panels[0].y.map(pow(0.41, 29)) - figure.panels[0].plot.maxY) < 0.25 * figure.panels[0].plot.height)
    }

    @Test func runsWithOneProbeGiveOnePanel() throws {
        var a = SampleRecords.small(cell: "rnn"), b = SampleRecords.small(cell: "lstm")
        a.probes = [a.probes[2]]
        b.probes = [b.probes[2]]
        let (_, figure) = try CompareCharts.renderFigures([a, b], options: RenderOptions())[0]
        #expect(figure.panels.count == 1)
        // A probe that repeats a step is still one probe.
        var c = SampleRecords.small(cell: "gru")
        c.probes = [c.probes[1], c.probes[1]]
        let (_, again) = try CompareCharts.renderFigures([a, c], options: RenderOptions())[0]
        #expect(again.panels.count == 1)
    }

    @Test func recallMarkerSitsAtTheRecallLagInTheRunsColour() throws {
        var rnn = SampleRecords.run(cell: "rnn", T: 20, H: 8, probeCount: 2, steps: 50)
        rnn.config.lag = 6
        rnn.corpus.recall = RecallTask(lag: 6, letters: 16)
        let shares: [Double] = [1e-4, 0.5]
        for (p, share) in zip(rnn.probes.indices, shares) {
            rnn.probes[p].layers[0].recallLagProfile = (0..<20).map { $0 == 0 ? 2.0 : ($0 == 6 ? 2.0 * share : nil) }
        }
        let (image, figure) = try CompareCharts.renderFigures([rnn], options: RenderOptions())[0]
        let decoded = try PNGCodec.decode(image.png)
        let want = Pixels.bytes(Theme.shade(Theme.cellColor(.rnn), -0.1))
        for (panel, share) in zip(figure.panels, shares) {
            let got = Pixels.at(decoded, panel.x.map(6), panel.y.map(share), scale: figure.scale)
            #expect(abs(got.0 - want.0) + abs(got.1 - want.1) + abs(got.2 - want.2) < 12, "\(got) at share \(share)")
        }
        #expect(ReportFixtures.caption(.compareLagProfiles, [rnn]).contains("The recall task needs gradient at ℓ = 6."))
    }

    @Test func oneRunsTinyValuesDoNotFlattenTheOthers() throws {
        var rnn = SampleRecords.run(cell: "rnn", T: 30, H: 8, probeCount: 2, steps: 50)
        rnn.probes[1].layers[0].lagProfile = (0..<30).map { pow(0.04, Double($0)) }  // 1e-40 at lag 29
        let (_, figure) = try CompareCharts.renderFigures([rnn, SampleRecords.small(cell: "lstm")], options: RenderOptions())[0]
        for panel in figure.panels {
            #expect(log10(panel.y.lo) > -15.5 && log10(panel.y.lo) < -13, "\(panel.y.lo)")
        }
        #expect(figure.notes.contains { $0.text.contains("below the axis") }, "\(figure.notes.map(\.text))")
    }
}

@Suite struct HeatmapNoteTests {
    @Test func zeroGradientsAreCalledOut() throws {
        var record = SampleRecords.small(cell: "rnn")
        let T = record.probes[0].layers[0].gradientFlow.count
        for p in record.probes.indices {
            record.probes[p].layers[0].gradientFlow = (0..<T).map { t in [Double](repeating: 0, count: t + 1) }
        }
        let (_, figure) = try RunCharts.renderFigures(record, options: RenderOptions())[0]
        #expect(figure.notes.contains { $0.text.contains("all values are 0") })
        // One zero among positive values: a quiet remark instead.
        var some = SampleRecords.small(cell: "rnn")
        some.probes[some.probes.count - 1].layers[0].gradientFlow[5][2] = 0
        let (_, figure2) = try RunCharts.renderFigures(some, options: RenderOptions())[0]
        #expect(figure2.notes.map(\.text) == ["1 zero value shown in the lowest colour"])
    }
}

@Suite struct EndLabelTests {
    @Test func closeLabelsArePushedApartAndStayInThePlot() throws {
        let ts = try Typesetter(options: RenderOptions())
        let plot = Rect(x: 50, y: 20, width: 300, height: 200)
        let y = Scale(kind: .log10, lo: 1e-14, hi: 1, start: plot.maxY, end: plot.minY)
        let labels = [EndLabelMark(y: 0.5, text: "lstm", color: .black), EndLabelMark(y: 0.45, text: "gru", color: .black),
                      EndLabelMark(y: 1e-20, text: "rnn", color: .black), EndLabelMark(y: 1e-19, text: "rnn-2", color: .black)]
        let placed = EndLabels.layout(labels, plot: plot, y: y, typesetter: ts)
        #expect(placed.count == 4)
        for (a, b) in zip(placed, placed.dropFirst()) {
            #expect(b.y - a.y >= (a.line.height + b.line.height) / 2 - 1e-9, "labels overlap")
        }
        #expect(placed.allSatisfy { $0.y >= plot.minY - 1e-9 && $0.y <= plot.maxY + 1e-9 })
    }
}

@Suite struct LongProbeTextTests {
    /// 256 steps of word tokens: the gates chart still renders, labels thinned instead of overprinted.
    @Test func manyLongTokensStillRender() throws {
        var record = SampleRecords.run(cell: "gru", T: 256, H: 8, probeCount: 2, steps: 20)
        record.probeTokens = (0..<256).map { "word\($0)" }
        let results = try RunCharts.renderFigures(record, options: RenderOptions())
        let (image, figure) = results[RunCharts.ids.firstIndex(of: .gates)!]
        let decoded = try PNGCodec.decode(image.png)
        // Rotated labels hang below the first heatmap.
        let plot = figure.panels[0].plot
        #expect(Pixels.dark(decoded, Rect(x: plot.minX, y: plot.maxY + 3, width: plot.width, height: 30), scale: figure.scale) > 100)
    }
}

@Suite struct DepthChartTests {
    /// A stacked record whose probes carry a depth profile falling by `factor` per layer.
    static func stacked(layers: Int, factor: Double, wiring: LayerConnections) -> RunRecord {
        var record = SampleRecords.run(cell: "lstm", T: 16, H: 16, probeCount: 3, steps: 100)
        record.config.layers = layers
        record.config.connections = wiring
        for i in record.probes.indices {
            let profile = (0..<layers).map { pow(factor, Double(layers - 1 - $0)) }
            let gradient = profile.map { share in (0..<16).map { t in share * (1 + 0.1 * Double(t % 3)) } }
            record.probes[i].depth = [DepthProbe(direction: .forward, gradient: gradient, profile: profile)]
        }
        return record
    }

    @Test func stacksGetADepthChartAndSingleLayersDoNot() throws {
        let single = SampleRecords.run(cell: "rnn", T: 16, H: 16, probeCount: 2, steps: 50)
        #expect(try RunCharts.render(single, options: RenderOptions()).map(\.id) == RunCharts.ids)
        let deep = Self.stacked(layers: 4, factor: 0.3, wiring: .plain)
        let charts = try RunCharts.render(deep, options: RenderOptions())
        #expect(charts.map(\.id) == RunCharts.ids + [.depth] && RunCharts.ids(for: deep) == RunCharts.ids + [.depth])
        let depth = try #require(charts.last)
        let decoded = try PNGCodec.decode(depth.png)
        #expect(decoded.width == depth.width && depth.width >= 1000)
        // The caption states the bottom layer's share from the record: 0.3^3 = 0.027.
        let caption = ReportFixtures.caption(depth.id, [deep])
        #expect(caption.contains("0.027"), "\(caption)")
        #expect(caption.contains("plain"))
    }

    @Test func comparisonDrawsEveryStackedRunAndSaysWhatReachesTheBottom() throws {
        var plain = Self.stacked(layers: 3, factor: 0.1, wiring: .plain)
        plain.name = "plain"
        var residual = Self.stacked(layers: 3, factor: 0.9, wiring: .residual)
        residual.name = "deep"
        let flat = SampleRecords.run(cell: "rnn", T: 16, H: 16, probeCount: 2, steps: 50)
        #expect(try CompareCharts.render([flat, flat], options: RenderOptions()).map(\.id) == CompareCharts.ids)
        let charts = try CompareCharts.render([plain, residual, flat], options: RenderOptions())
        let chart = try #require(charts.first { $0.id == .compareDepth })
        let caption = ReportFixtures.caption(chart.id, [plain, residual, flat])
        #expect(caption.contains("“plain” 0.01"), "\(caption)")
        #expect(caption.contains("“deep (residual)” 0.81"), "\(caption)")
        #expect(!caption.contains("“rnn"))
    }
}
