// Draws the marks of a panel: lines, markers, heatmaps, reference rules, circles and annotations.

import Foundation

/// What is already drawn in a plot, for placing the legend: data points and text labels.
struct Occupancy {
    var points: [Point] = []
    var labels: [Rect] = []
}

enum MarkPainter {
    static func draw(_ mark: Mark, on canvas: inout Canvas, x: Scale, y: Scale, plot: Rect, typesetter ts: Typesetter,
                     occupied: inout Occupancy) {
        switch mark {
        case .endLabel:
            break  // drawn outside the plot by `EndLabels`
        case let .rug(m):
            let style = StrokeStyle(width: 1)
            for v in m.xs {
                let px = x.map(v)
                guard px.isFinite else { continue }
                let sx = canvas.snap(px, width: 1)
                canvas.line(from: Point(sx, plot.maxY - m.length), to: Point(sx, plot.maxY), style: style, m.color)
            }
        case let .line(m):
            let points = m.points.map { Point(x.map($0.x), y.map($0.y)) }
            canvas.stroke(points, style: StrokeStyle(width: m.width, join: .round, cap: m.dash.isEmpty ? .round : .butt,
                                                     dash: m.dash), m.color)
            if let shape = m.marker {
                for p in points where p.isFinite { marker(shape, at: p, size: m.markerSize, m.color, filled: true, on: &canvas) }
            } else {
                // A point with no finite neighbour would draw nothing as a line: show it as a dot.
                for (i, p) in points.enumerated() where p.isFinite {
                    let before = i > 0 && points[i - 1].isFinite, after = i + 1 < points.count && points[i + 1].isFinite
                    if !before && !after { canvas.fillCircle(center: p, radius: max(2, m.width * 1.1), m.color) }
                }
            }
            record(points, into: &occupied)
        case let .scatter(m):
            for (i, p) in m.points.enumerated() {
                let q = Point(x.map(p.x), y.map(p.y))
                guard q.isFinite else { continue }
                marker(m.shape, at: q, size: m.size, m.color, filled: m.filled, on: &canvas)
                if i % 2 == 0 || m.points.count < 200 { occupied.points.append(q) }
            }
        case let .heatmap(m):
            heatmap(m, on: &canvas, x: x, y: y, plot: plot)
        case let .band(m):
            // One polygon per run of drawable points: along the upper bound, back along the lower.
            var upper: [Point] = [], lower: [Point] = []
            func flush() {
                if upper.count >= 2 { canvas.fillPolygon(upper + lower.reversed(), m.color) }
                upper = []
                lower = []
            }
            for i in m.xs.indices where i < m.lower.count && i < m.upper.count {
                let u = Point(x.map(m.xs[i]), y.map(m.upper[i])), l = Point(x.map(m.xs[i]), y.map(m.lower[i]))
                if u.isFinite && l.isFinite { upper.append(u); lower.append(l) } else { flush() }
            }
            flush()
        case let .rule(m):
            rule(m, on: &canvas, x: x, y: y, plot: plot, typesetter: ts, occupied: &occupied)
        case let .circle(m):
            let c = Point(x.map(m.center.x), y.map(m.center.y))
            let r = abs(x.map(m.center.x + m.radius) - x.map(m.center.x))
            guard c.isFinite, r.isFinite, r > 0 else { return }
            canvas.strokeCircle(center: c, radius: r, style: StrokeStyle(width: m.width, dash: m.dash), m.color)
        case let .text(m):
            let p = Point(x.map(m.x), y.map(m.y)) + m.offset
            guard p.isFinite else { return }
            let line = ts.layout(m.text, m.style)
            if m.boxed {
                var box = Rect(x: p.x, y: p.y, width: line.width, height: line.height)
                switch m.horizontal {
                case .left: break
                case .center: box.x -= line.width / 2
                case .right: box.x -= line.width
                }
                switch m.vertical {
                case .top: break
                case .baseline: box.y -= line.ascent
                case .middle: box.y -= line.ascent - line.capHeight / 2
                case .bottom: box.y -= line.height
                }
                canvas.fillRect(box.insetBy(-2), Color.white.withAlpha(0.85))
            }
            canvas.draw(line, at: p, m.horizontal, m.vertical)
            let dx = m.horizontal == .left ? 0 : (m.horizontal == .center ? -line.width / 2 : -line.width)
            occupied.labels.append(Rect(x: p.x + dx, y: p.y - line.ascent, width: line.width, height: line.height))
        }
    }

    /// Samples a polyline every few points so legend placement can see where it runs.
    private static func record(_ points: [Point], into occupied: inout Occupancy) {
        var previous: Point? = nil
        for p in points {
            guard p.isFinite else { previous = nil; continue }
            if let q = previous {
                let d = (p - q).length
                let n = min(50, Int(d / 6))
                if n > 0 { for k in 1...n { occupied.points.append(q + (p - q) * (Double(k) / Double(n + 1))) } }
            }
            occupied.points.append(p)
            previous = p
        }
    }

    static func marker(_ shape: MarkerShape, at p: Point, size s: Double, _ color: Color, filled: Bool,
                       on canvas: inout Canvas) {
        let outline = StrokeStyle(width: max(0.8, s * 0.4), join: .miter)
        func shapeFill(_ points: [Point]) {
            if filled { canvas.fillPolygon(points, color) } else { canvas.stroke(points, closed: true, style: outline, color) }
        }
        switch shape {
        case .circle:
            if filled { canvas.fillCircle(center: p, radius: s, color) }
            else { canvas.strokeCircle(center: p, radius: s - outline.width / 2, style: outline, color) }
        case .square:
            let h = s * 0.88
            shapeFill([Point(p.x - h, p.y - h), Point(p.x + h, p.y - h), Point(p.x + h, p.y + h), Point(p.x - h, p.y + h)])
        case .triangle:
            let h = s * 1.25
            shapeFill([Point(p.x, p.y - h), Point(p.x + h * 0.92, p.y + h * 0.6), Point(p.x - h * 0.92, p.y + h * 0.6)])
        case .diamond:
            let h = s * 1.25
            shapeFill([Point(p.x, p.y - h), Point(p.x + h * 0.8, p.y), Point(p.x, p.y + h), Point(p.x - h * 0.8, p.y)])
        case .cross:
            let h = s * 0.9, style = StrokeStyle(width: max(1, s * 0.45))
            canvas.line(from: Point(p.x - h, p.y - h), to: Point(p.x + h, p.y + h), style: style, color)
            canvas.line(from: Point(p.x - h, p.y + h), to: Point(p.x + h, p.y - h), style: style, color)
        case .verticalBar:
            canvas.line(from: Point(p.x, p.y - s), to: Point(p.x, p.y + s), style: StrokeStyle(width: max(1, s * 0.35)), color)
        }
    }

    /// Paints each pixel of the heatmap from its cell's colour: no smoothing, so a value lands on
    /// exactly the pixels of its cell.
    private static func heatmap(_ m: HeatmapMark, on canvas: inout Canvas, x: Scale, y: Scale, plot: Rect) {
        let rows = m.values.count
        guard rows > 0 else { return }
        var colours: [[Color?]] = []
        colours.reserveCapacity(rows)
        for row in m.values {
            colours.append(row.map { v in v.isNaN ? Theme.missingColor : m.colorScale.color(v) })
        }
        let columns = m.values.map(\.count).max() ?? 0
        canvas.paintGrid(plot, column: { u in
            let c = Int((x.value(at: plot.minX + u * plot.width) - m.xOffset).rounded())
            return c >= 0 && c < columns ? c : nil
        }, row: { v in
            let r = Int((y.value(at: plot.minY + v * plot.height) - m.yOffset).rounded())
            return r >= 0 && r < rows ? r : nil
        }, color: { r, c in c < colours[r].count ? colours[r][c] : nil })
    }

    private static func rule(_ m: RuleMark, on canvas: inout Canvas, x: Scale, y: Scale, plot: Rect,
                             typesetter ts: Typesetter, occupied: inout Occupancy) {
        let style = StrokeStyle(width: m.width, dash: m.dash)
        let labelStyle = Theme.annotation.with(color: Theme.shade(m.color, 0.25))
        switch m.orientation {
        case .horizontal:
            let v = y.map(m.value)
            guard v.isFinite, v >= plot.minY - 0.5, v <= plot.maxY + 0.5 else { return }
            let py = canvas.snap(v, width: m.width)
            canvas.line(from: Point(plot.minX, py), to: Point(plot.maxX, py), style: style, m.color)
            if let label = m.label {
                let line = ts.layout(label, labelStyle)
                let roomAbove = py - plot.minY > line.height + 4, roomBelow = plot.maxY - py > line.height + 4
                let above = m.labelBelow ? !roomBelow : roomAbove
                let px = m.labelAtStart ? plot.minX + 4 : plot.maxX - 4 - line.width
                let baseY = above ? py - 3 - line.descent : py + 3 + line.ascent
                canvas.fillRect(Rect(x: px - 2, y: baseY - line.ascent, width: line.width + 4, height: line.height), Color.white.withAlpha(0.8))
                canvas.draw(line, at: Point(px, baseY))
                occupied.labels.append(Rect(x: px, y: baseY - line.ascent, width: line.width, height: line.height))
            }
        case .vertical:
            let v = x.map(m.value)
            guard v.isFinite, v >= plot.minX - 0.5, v <= plot.maxX + 0.5 else { return }
            let px = canvas.snap(v, width: m.width)
            canvas.line(from: Point(px, plot.minY), to: Point(px, plot.maxY), style: style, m.color)
            if let label = m.label {
                let line = ts.layout(label, labelStyle)
                let right = plot.maxX - px > line.width + 8
                let lx = right ? px + 4 : px - 4 - line.width
                let ly = m.labelAtStart ? plot.maxY - 4 - line.descent : plot.minY + 4 + line.ascent
                canvas.fillRect(Rect(x: lx - 2, y: ly - line.ascent, width: line.width + 4, height: line.height), Color.white.withAlpha(0.8))
                canvas.draw(line, at: Point(lx, ly))
                occupied.labels.append(Rect(x: lx, y: ly - line.ascent, width: line.width, height: line.height))
            }
        }
    }
}
