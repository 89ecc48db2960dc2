import DiagnoseRecord
import Foundation
import Testing
@testable import Renderer

private func parse(_ json: String?) throws -> [String: Any] {
    let text = try #require(json)
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

private func axis(_ object: Any?) throws -> Scale {
    let a = try #require(object as? [String: Any])
    return Scale(kind: (a["log"] as? Int) == 1 ? .log10 : .linear, lo: try #require(a["lo"] as? Double),
                 hi: try #require(a["hi"] as? Double), start: try #require(a["a"] as? Double), end: try #require(a["b"] as? Double))
}

@Suite struct HoverExportTests {
    @Test func valuesKeepThreeSignificantDigitsInShortForm() {
        #expect(HoverExport.value(0.000712345) == "0.000712")
        #expect(HoverExport.value(7.12345e-5) == "7.12e-5")
        #expect(HoverExport.value(1234.5) == "1.23e3")
        #expect(HoverExport.value(0.41234) == "0.412")
        #expect(HoverExport.value(-2.5e-12) == "-2.5e-12")
        #expect(HoverExport.value(3) == "3")
        #expect(HoverExport.value(.nan) == "null")
        #expect(HoverExport.value(.infinity) == "null")
        #expect(HoverExport.exact(1500) == "1500")
        #expect(HoverExport.string("</script>\"\\\n") == "\"\\u003c/script\\u003e\\\"\\\\\\n\"")
    }

    /// The exported mapping of every cell centre lands on a pixel painted in that cell's colour,
    /// and the exported value is G[t][j] of the record to 3 significant digits.
    @Test func heatmapGeometryAndValuesMatchThePixelsAndTheRecord() throws {
        let T = 16
        var record = SampleRecords.run(cell: "rnn", T: T, H: 8, probeCount: 2, steps: 50)
        let G = (0..<T).map { t in (0...t).map { j in 0.37 * pow(10, -0.5 * Double(t - j)) } }
        record.probes[1].layers[0].gradientFlow = G
        record.probes[1].layers[0].horizon = nil  // no horizon line and label drawn over the cells
        record.probeTokens = (0..<T).map { "tok\($0)" }
        let (image, figure) = try RunCharts.renderFigures(record, options: RenderOptions())[0]
        #expect(image.id == .gradientFlow)
        let data = try parse(image.hover)
        #expect(data["w"] as? Double == Double(image.width) / image.scale)
        let panels = try #require(data["panels"] as? [[String: Any]])
        #expect(panels.count == 1)
        let panel = panels[0]
        let heat = try #require(panel["heat"] as? [String: Any])
        #expect(heat["tok"] as? [String] == record.probeTokens)
        #expect(heat["name"] as? String == "G[{row}][{column}]")
        let values = try #require(heat["v"] as? [[Double]])
        #expect(values.count == T)
        let x = try axis(panel["x"]), y = try axis(panel["y"])
        let plot = try #require(panel["plot"] as? [Double])
        #expect(plot == [figure.panels[0].plot.x, figure.panels[0].plot.y, figure.panels[0].plot.width, figure.panels[0].plot.height])
        let colors = try #require(figure.panels[0].colorScale)
        let decoded = try PNGCodec.decode(image.png)
        var worst = 0.0
        for t in 0..<T {
            for j in 0...t {
                let relative = abs(values[t][j] - G[t][j]) / G[t][j]
                worst = max(worst, relative)
                let px = Int(x.map(Double(j)) * figure.scale), py = Int(y.map(Double(t)) * figure.scale)
                let drawn = decoded.pixel(x: px, y: py)
                let expected = try #require(colors.color(G[t][j]))
                let difference = max(abs(drawn.red - expected.red), abs(drawn.green - expected.green), abs(drawn.blue - expected.blue))
                #expect(difference < 0.02, "cell t = \(t), j = \(j): drawn \(drawn), expected \(expected)")
            }
        }
        #expect(worst <= 5e-3, "rounded to 3 significant digits; worst relative difference \(worst)")
    }

    @Test func lineChartsExportNamedSeriesWithTheirValues() throws {
        let record = ReportFixtures.rnn
        let charts = try RunCharts.render(record, options: ReportFixtures.renderOptions)
        let training = try #require(charts.first { $0.id == .training })
        let panels = try #require(try parse(training.hover)["panels"] as? [[String: Any]])
        #expect(panels.count == 3)
        let lines = try #require(panels[0]["lines"] as? [[String: Any]])
        let every = try #require(lines.first { $0["name"] as? String == "train, every step" })
        #expect(every["x0"] as? Double == 1 && every["dx"] as? Double == 1)
        let ys = try #require(every["y"] as? [Double])
        #expect(ys.count == record.steps.count)
        for (value, step) in zip(ys, record.steps) {
            #expect(abs(value - step.loss) <= 5e-3 * step.loss)
        }
        // The log axis of the gradient norm is exported as such.
        let norm = try axis(panels[2]["y"])
        #expect(norm.kind == .log10)
        // Charts with nothing to read out carry no data.
        #expect(charts.first { $0.id == .spectrum }?.hover == nil)
    }

    @Test func comparisonChartsExportClickableRunNames() throws {
        let records = [ReportFixtures.rnn, ReportFixtures.lstm]
        let (image, figure) = try CompareCharts.renderFigures(records, options: ReportFixtures.renderOptions)[0]
        let data = try parse(image.hover)
        let names = try #require(data["names"] as? [[String: Any]])
        // Each run is named in both panels' legends and end labels.
        #expect(Set(names.compactMap { $0["g"] as? Int }) == [0, 1])
        let placed = figure.panels.flatMap(\.names)
        #expect(names.count == placed.filter { $0.group != nil }.count)
        let panels = try #require(data["panels"] as? [[String: Any]])
        let groups = panels.flatMap { ($0["lines"] as? [[String: Any]] ?? []).compactMap { $0["g"] as? Int } }
        #expect(Set(groups) == [0, 1])
    }

    @Test func theReportEmbedsTheDataAndItsScriptButReadsWithoutThem() throws {
        let records = [ReportFixtures.rnn, ReportFixtures.lstm]
        let runs = try records.map { ReportRun(record: $0, directoryLink: $0.name, charts: try RunCharts.render($0, options: ReportFixtures.renderOptions)) }
        let comparison = try CompareCharts.render(records, options: ReportFixtures.renderOptions)
        let html = HTMLReport.build(runs: runs, comparison: comparison, generatedBy: "diagnose 0.1.0")
        let withData = runs.flatMap(\.charts).filter { $0.hover != nil }.count + comparison.filter { $0.hover != nil }.count
        #expect(withData >= 8)
        #expect(html.components(separatedBy: "<script type=\"application/json\" class=\"hover-data\">").count - 1 == withData)
        #expect(html.contains("<script>\(Hover.script)</script>"))
        // Without scripts the page keeps every section, image and caption.
        let stripped = html.replacing(try Regex(#"<script[^>]*>.*?</script>"#).dotMatchesNewlines(), with: "")
        for id in HTMLReport.sectionIDs { #expect(stripped.contains("<section id=\"\(id)\">")) }
        #expect(stripped.components(separatedBy: "<img ").count == html.components(separatedBy: "<img ").count)
        #expect(stripped.components(separatedBy: "<figcaption>").count == html.components(separatedBy: "<figcaption>").count)
    }

    @Test func hostileTokensCannotCloseTheDataElement() throws {
        var record = ReportFixtures.rnn
        record.probeTokens = (0..<ReportFixtures.window).map { $0 == 3 ? "</script><b>x</b>" : "a" }
        let chart = try #require(try RunCharts.render(record, options: ReportFixtures.renderOptions).first)
        let element = Hover.dataElement(chart)
        #expect(element.components(separatedBy: "</script>").count == 2, "only the element's own end tag")
        #expect(try parse(chart.hover)["panels"] != nil)
    }
}
