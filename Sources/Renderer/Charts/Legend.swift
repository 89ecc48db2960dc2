// Legends: a box of samples and labels inside the plot (in the corner that hides the least data)
// or a flowing row of entries under it.

import Foundation

enum Legend {
    static let sampleWidth = 22.0
    static let gap = 6.0
    static let padding = 6.0
    static let entrySpacing = 16.0

    static func rowHeight(_ ts: Typesetter) -> Double { ts.layout("Ag", Theme.legend).height + 2 }

    static func boxSize(_ entries: [LegendEntry], typesetter ts: Typesetter) -> (width: Double, height: Double) {
        guard !entries.isEmpty else { return (0, 0) }
        let widest = entries.map { ts.width($0.label, Theme.legend) }.max() ?? 0
        return (2 * padding + sampleWidth + gap + widest, 2 * padding + Double(entries.count) * rowHeight(ts) - 2)
    }

    /// Draws the box; returns where each entry went (sample and label), with its run.
    @discardableResult
    static func drawInside(_ entries: [LegendEntry], on canvas: inout Canvas, plot: Rect, placement: LegendPlacement,
                           occupied: Occupancy, avoid: [Rect], typesetter ts: Typesetter) -> [(group: Int?, rect: Rect)] {
        let size = boxSize(entries, typesetter: ts)
        let inset = 6.0
        // Candidate positions as fractions of the free space (0 = left/top, 1 = right/bottom).
        func box(_ fx: Double, _ fy: Double) -> Rect {
            let x = plot.minX + inset + (plot.width - 2 * inset - size.width) * fx
            let y = plot.minY + inset + (plot.height - 2 * inset - size.height) * fy
            return Rect(x: x, y: y, width: size.width, height: size.height)
        }
        var rect: Rect
        switch placement {
        case .upperLeft: rect = box(0, 0)
        case .lowerLeft: rect = box(0, 1)
        case .lowerRight: rect = box(1, 1)
        case .upperRight: rect = box(1, 0)
        default:
            // Fewest data points under the box wins; corners first on ties. Covering a label costs as
            // much as a stretch of line, covering a note is never chosen.
            rect = box(1, 0)
            var best = Double.infinity
            let candidates: [(Double, Double)] = [(1, 0), (0, 0), (0, 1), (1, 1), (0.5, 0), (0.5, 1), (0, 0.5), (1, 0.5), (0.5, 0.5)]
            for (fx, fy) in candidates {
                let r = box(fx, fy)
                let grown = r.insetBy(-4)
                var score = Double(occupied.points.filter { grown.contains($0) }.count)
                for label in occupied.labels where label.intersects(grown) { score += 60 }
                for a in avoid where a.intersects(grown) { score += 1e6 }
                if score < best - 0.5 { best = score; rect = r }
            }
        }
        canvas.fillRect(rect, Color.white.withAlpha(0.88))
        canvas.strokeRect(rect, style: StrokeStyle(width: 0.75), Color(hex: 0xCCCCCC))
        let rh = rowHeight(ts)
        var placed: [(group: Int?, rect: Rect)] = []
        for (i, entry) in entries.enumerated() {
            let midY = rect.minY + padding + (Double(i) + 0.5) * rh - 1
            drawSample(entry.sample, on: &canvas, at: Rect(x: rect.minX + padding, y: midY - rh / 2, width: sampleWidth, height: rh))
            let line = canvas.text(entry.label, Theme.legend, at: Point(rect.minX + padding + sampleWidth + gap, midY),
                                   using: ts, .left, .middle)
            placed.append((entry.group, Rect(x: rect.minX + padding, y: midY - rh / 2, width: sampleWidth + gap + line.width, height: rh)))
        }
        return placed
    }

    /// Entries laid out left to right, wrapping at `width`: the index lists of each row.
    static func flowRows(_ entries: [LegendEntry], width: Double, typesetter ts: Typesetter) -> [[Int]] {
        var rows: [[Int]] = [[]]
        var x = 0.0
        for (i, e) in entries.enumerated() {
            let w = sampleWidth + gap + ts.width(e.label, Theme.legend)
            if x > 0 && x + w > width {
                rows.append([])
                x = 0
            }
            rows[rows.count - 1].append(i)
            x += w + entrySpacing
        }
        return rows.filter { !$0.isEmpty }
    }

    @discardableResult
    static func drawBelow(_ entries: [LegendEntry], on canvas: inout Canvas, at origin: Point, width: Double,
                          typesetter ts: Typesetter) -> [(group: Int?, rect: Rect)] {
        let rh = rowHeight(ts)
        var placed: [(group: Int?, rect: Rect)] = []
        for (r, row) in flowRows(entries, width: width, typesetter: ts).enumerated() {
            var x = origin.x
            let midY = origin.y + (Double(r) + 0.5) * rh
            for i in row {
                drawSample(entries[i].sample, on: &canvas, at: Rect(x: x, y: midY - rh / 2, width: sampleWidth, height: rh))
                let line = canvas.text(entries[i].label, Theme.legend, at: Point(x + sampleWidth + gap, midY), using: ts, .left, .middle)
                placed.append((entries[i].group, Rect(x: x, y: midY - rh / 2, width: sampleWidth + gap + line.width, height: rh)))
                x += sampleWidth + gap + line.width + entrySpacing
            }
        }
        return placed
    }

    static func drawSample(_ sample: LegendEntry.Sample, on canvas: inout Canvas, at r: Rect) {
        let mid = Point(r.midX, r.midY)
        switch sample {
        case let .line(color, width, dash):
            canvas.line(from: Point(r.minX, r.midY), to: Point(r.maxX, r.midY),
                        style: StrokeStyle(width: min(width, 3), dash: dash), color)
        case let .marker(shape, color, filled):
            MarkPainter.marker(shape, at: mid, size: 3, color, filled: filled, on: &canvas)
        case let .lineWithMarker(color, width, dash, shape, filled):
            canvas.line(from: Point(r.minX, r.midY), to: Point(r.maxX, r.midY),
                        style: StrokeStyle(width: min(width, 3), dash: dash), color)
            if !filled { canvas.fillCircle(center: mid, radius: 3, .white) }
            MarkPainter.marker(shape, at: mid, size: 3, color, filled: filled, on: &canvas)
        case let .patch(color):
            canvas.fillRect(Rect(x: r.minX + 3, y: r.midY - 5, width: r.width - 6, height: 10), color)
        case .none:
            break
        }
    }
}
