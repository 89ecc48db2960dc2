// What the report's pointer readout needs to know about a drawn chart, as compact JSON: where each
// panel's plot area is, the axis mappings the renderer used, and the data under them.
//
// The renderer laid the chart out, so it exports the geometry rather than leaving a script to guess
// it: `plot` is the plot rectangle in points (CSS pixels of the image at its natural size), and each
// axis gives its kind, domain [lo, hi] and the output interval [a, b] it maps that domain to, exactly
// as `Scale.map` does. Data values are rounded to 3 significant digits; step-like x values that are
// evenly spaced are written as a start and a step. Only labelled lines (the ones a legend names)
// and heatmaps with a `HeatmapReadout` are exported. Lines with more than `maxPoints` points keep
// every k-th point, so a readout always shows a true (x, value) pair.

import DiagnoseRecord
import Foundation

enum HoverExport {
    static let maxPoints = 1000

    /// The JSON for one chart, or nil when none of its panels has anything to read out.
    static func json(spec: FigureSpec, rendered: RenderedFigure) -> String? {
        var panels: [String] = []
        var names: [String] = []
        for (panel, geometry) in zip(spec.panels, rendered.panels) {
            var fields: [String] = []
            var heat: String? = nil
            var lines: [String] = []
            for mark in panel.marks {
                switch mark {
                case let .heatmap(m):
                    if let readout = panel.heatmapReadout, heat == nil { heat = heatmap(m, readout) }
                case let .line(m):
                    if let label = m.label, let line = line(m, name: Markup.plain(label)) { lines.append(line) }
                default:
                    break
                }
            }
            guard heat != nil || !lines.isEmpty else { continue }
            fields.append("\"title\":" + string(Markup.plain(panel.title ?? "")))
            fields.append("\"plot\":" + rect(geometry.plot))
            fields.append("\"x\":" + axis(geometry.x, title: panel.x.title))
            fields.append("\"y\":" + axis(geometry.y, title: panel.y.title))
            if let heat { fields.append("\"heat\":" + heat) }
            if !lines.isEmpty { fields.append("\"lines\":[" + lines.joined(separator: ",") + "]") }
            panels.append("{" + fields.joined(separator: ",") + "}")
            for name in geometry.names {
                guard let group = name.group else { continue }
                names.append("{\"g\":\(group),\"r\":\(rect(name.rect))}")
            }
        }
        guard !panels.isEmpty else { return nil }
        let size = "\"w\":\(number(rendered.pixmap.width, rendered.scale)),\"h\":\(number(rendered.pixmap.height, rendered.scale))"
        return "{\(size),\"panels\":[" + panels.joined(separator: ",") + "],\"names\":[" + names.joined(separator: ",") + "]}"
    }

    // MARK: Pieces

    private static func number(_ pixels: Int, _ scale: Double) -> String {
        geometry(Double(pixels) / (scale > 0 && scale.isFinite ? scale : 1))
    }

    private static func rect(_ r: Rect) -> String {
        "[" + [r.x, r.y, r.width, r.height].map(geometry).joined(separator: ",") + "]"
    }

    private static func axis(_ scale: Scale, title: String?) -> String {
        var text = "{\"log\":\(scale.kind == .log10 ? 1 : 0),\"lo\":\(exact(scale.lo)),\"hi\":\(exact(scale.hi)),"
            + "\"a\":\(geometry(scale.start)),\"b\":\(geometry(scale.end))"
        if let title { text += ",\"title\":" + string(Markup.plain(title)) }
        return text + "}"
    }

    private static func heatmap(_ m: HeatmapMark, _ readout: HeatmapReadout) -> String {
        let rows = m.values.map { "[" + $0.map(value).joined(separator: ",") + "]" }.joined(separator: ",")
        var text = "{\"row\":\(string(readout.row)),\"col\":\(string(readout.column)),\"name\":\(string(readout.value)),"
            + "\"ox\":\(exact(m.xOffset)),\"oy\":\(exact(m.yOffset)),\"v\":[\(rows)]"
        if !readout.tokens.isEmpty {
            text += ",\"tok\":[" + readout.tokens.map(string).joined(separator: ",") + "]"
        }
        return text + "}"
    }

    private static func line(_ m: LineMark, name: String) -> String? {
        let points = m.points.filter { $0.x.isFinite }
        guard !points.isEmpty else { return nil }
        let stride = max(1, (points.count + maxPoints - 1) / maxPoints)
        let kept = Swift.stride(from: 0, to: points.count, by: stride).map { points[$0] }
        var text = "{\"name\":\(string(name)),\"color\":\"\(hex(m.color))\""
        if let group = m.group { text += ",\"g\":\(group)" }
        let x0 = kept[0].x, dx = kept.count > 1 ? kept[1].x - kept[0].x : 1
        let even = kept.enumerated().allSatisfy { i, p in p.x == x0 + Double(i) * dx }
        if even {
            text += ",\"x0\":\(exact(x0)),\"dx\":\(exact(dx)),\"y\":[" + kept.map { value($0.y) }.joined(separator: ",") + "]"
        } else {
            text += ",\"xy\":[" + kept.map { "[\(exact($0.x)),\(value($0.y))]" }.joined(separator: ",") + "]"
        }
        return text + "}"
    }

    private static func hex(_ c: Color) -> String {
        func byte(_ v: Double) -> String {
            let b = Int((max(0, min(1, v)) * 255).rounded())
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }
        return "#" + byte(c.red) + byte(c.green) + byte(c.blue)
    }

    // MARK: Numbers

    /// A data value with 3 significant digits, shortest form ("0.412", "7.12e-4", "1.5e3"); null if not finite.
    static func value(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == 0 { return "0" }
        var text = String(format: "%.3g", v)
        if let e = text.firstIndex(of: "e") {
            var mantissa = String(text[..<e])
            var exponent = String(text[text.index(after: e)...])
            if mantissa.contains(".") {
                while mantissa.hasSuffix("0") { mantissa.removeLast() }
                if mantissa.hasSuffix(".") { mantissa.removeLast() }
            }
            let negative = exponent.hasPrefix("-")
            exponent = String(exponent.drop { $0 == "-" || $0 == "+" || $0 == "0" })
            text = mantissa + "e" + (negative ? "-" : "") + (exponent.isEmpty ? "0" : exponent)
        }
        return text
    }

    /// A position in points to 0.01.
    static func geometry(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        var text = String(format: "%.2f", v)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// A domain bound or an x position: exact integers, otherwise 9 significant digits (the inverse
    /// mapping must land on the same cell as the drawing).
    static func exact(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.9g", v)
    }

    /// A JSON string that can sit inside a <script> element.
    static func string(_ s: String) -> String { JSONText.quoted(s, insideScript: true) }
}
