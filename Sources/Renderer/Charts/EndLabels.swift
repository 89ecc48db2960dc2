// Direct labels in the right margin: each at the height where its line ends, pushed apart just
// enough not to overlap, so a reader matches lines to runs without a legend lookup.

import Foundation

enum EndLabels {
    static let gap = 6.0

    /// Draws the labels; returns where each went, with its run.
    @discardableResult
    static func draw(_ labels: [EndLabelMark], on canvas: inout Canvas, plot: Rect, y: Scale,
                     typesetter ts: Typesetter) -> [(group: Int?, rect: Rect)] {
        layout(labels, plot: plot, y: y, typesetter: ts).map { label in
            canvas.draw(label.line, at: Point(plot.maxX + gap, label.y), .left, .middle)
            return (label.group, Rect(x: plot.maxX + gap, y: label.y - label.line.height / 2, width: label.line.width,
                                      height: label.line.height))
        }
    }

    /// Where each label goes: the centre height of its text (points) and the laid-out text, top to bottom.
    static func layout(_ labels: [EndLabelMark], plot: Rect, y: Scale,
                       typesetter ts: Typesetter) -> [(y: Double, line: TextLine, group: Int?)] {
        var placed: [(y: Double, line: TextLine, group: Int?)] = labels.compactMap { m in
            let py = y.map(m.y)
            guard py.isFinite else { return nil }
            let style = Theme.endLabel.with(color: Theme.shade(m.color, 0.15))
            return (min(plot.maxY, max(plot.minY, py)), ts.layout(m.text, style), m.group)
        }
        placed.sort { $0.y < $1.y }
        // Push down where two would overlap, then back up from the bottom edge.
        for i in placed.indices.dropFirst() {
            let minimum = placed[i - 1].y + (placed[i - 1].line.height + placed[i].line.height) / 2
            if placed[i].y < minimum { placed[i].y = minimum }
        }
        if let last = placed.indices.last, placed[last].y > plot.maxY {
            placed[last].y = plot.maxY
            for i in placed.indices.dropLast().reversed() {
                let maximum = placed[i + 1].y - (placed[i + 1].line.height + placed[i].line.height) / 2
                if placed[i].y > maximum { placed[i].y = maximum }
            }
        }
        return placed
    }
}
