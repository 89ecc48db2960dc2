// Measures, lays out and draws a `FigureSpec`.
//
// Layout is computed, not guessed: tick labels, titles and legends are typeset first, each panel's
// margins follow from their sizes, and panels in one grid column share their left and right margins
// (panels in one row their top and bottom margins) so that plot areas line up.

import Foundation

/// Where a panel ended up: its plot area in points and the scales that put data there.
struct PanelGeometry {
    var plot: Rect
    var x: Scale
    var y: Scale
    var colorBar: Rect?
    var colorScale: ColorScale?
    var notes: [(text: String, rect: Rect)] = []
    /// Where each legend entry and each end label went, with the run it stands for (nil: no run).
    var names: [(group: Int?, rect: Rect)] = []
}

struct RenderedFigure {
    var pixmap: Pixmap
    var panels: [PanelGeometry]
    var scale: Double
    /// Every note drawn (figure notes under the title and notes inside panels), with where it went.
    var notes: [(text: String, rect: Rect)] = []
}

enum FigureRenderer {
    static func render(_ figure: FigureSpec, typesetter ts: Typesetter) -> RenderedFigure {
        let columns = max(1, min(figure.columns, max(1, figure.panels.count)))
        let rows = (figure.panels.count + columns - 1) / columns
        let margin = Theme.figureMargin

        // Header lines are cut with an ellipsis rather than run off the picture.
        let headerWidth = figure.width - 2 * margin
        let titleLine = ts.layout(ts.fitting(figure.title, Theme.title, maxWidth: headerWidth), Theme.title)
        let subtitleLine = figure.subtitle.map { ts.layout(ts.fitting($0, Theme.subtitle, maxWidth: headerWidth), Theme.subtitle) }
        let noteLines = figure.notes.map { ts.layout(ts.fitting("⚠ " + $0, Theme.note, maxWidth: headerWidth), Theme.note) }
        var headerHeight = titleLine.height
        if let s = subtitleLine { headerHeight += 4 + s.height }
        for n in noteLines { headerHeight += 3 + n.height }
        headerHeight += 12

        // Column widths.
        let weights = (figure.columnWeights?.count == columns ? figure.columnWeights! : Array(repeating: 1.0, count: columns))
        let totalWeight = weights.reduce(0, +)
        let usable = figure.width - 2 * margin - Double(columns - 1) * Theme.panelGap
        let cellWidths = weights.map { usable * $0 / totalWeight }

        // Resolve and measure panels.
        let panels: [PanelLayout] = figure.panels.enumerated().map { index, spec in
            PanelLayout(spec: spec, plotHeight: spec.plotHeight ?? figure.plotHeight,
                        cellWidth: cellWidths[index % columns], typesetter: ts)
        }
        guard !panels.isEmpty else {
            var canvas = Canvas(width: figure.width, height: headerHeight + 2 * margin + 40, scale: ts.scale)
            let notes = drawHeader(&canvas, titleLine, subtitleLine, noteLines, texts: figure.notes, margin: margin)
            return RenderedFigure(pixmap: canvas.pixmap, panels: [], scale: ts.scale, notes: notes)
        }

        // Align margins across columns and rows.
        var left = Array(repeating: 0.0, count: columns), right = left
        var top = Array(repeating: 0.0, count: rows), bottom = top, plotHeights = top
        for (i, p) in panels.enumerated() {
            let c = i % columns, r = i / columns
            left[c] = max(left[c], p.left)
            right[c] = max(right[c], p.right)
            top[r] = max(top[r], p.top)
            bottom[r] = max(bottom[r], p.bottom)
            plotHeights[r] = max(plotHeights[r], p.plotHeight)
        }
        var y = margin + headerHeight
        var rowTops: [Double] = []
        for r in 0..<rows {
            rowTops.append(y)
            y += top[r] + plotHeights[r] + bottom[r] + (r < rows - 1 ? Theme.panelGap : 0)
        }
        let height = y + margin

        var canvas = Canvas(width: figure.width, height: height, scale: ts.scale)
        var notes = drawHeader(&canvas, titleLine, subtitleLine, noteLines, texts: figure.notes, margin: margin)

        var geometries: [PanelGeometry] = []
        for i in panels.indices {
            let c = i % columns, r = i / columns
            let cellX = margin + cellWidths[0..<c].reduce(0, +) + Double(c) * Theme.panelGap
            var plot = Rect(x: cellX + left[c], y: rowTops[r] + top[r],
                            width: max(20, cellWidths[c] - left[c] - right[c]), height: plotHeights[r])
            // Whole points keep axis lines and heatmap cells crisp.
            plot = Rect(x: plot.x.rounded(), y: plot.y.rounded(), width: plot.width.rounded(),
                        height: plot.height.rounded())
            geometries.append(panels[i].draw(on: &canvas, plot: plot, typesetter: ts))
        }
        notes += geometries.flatMap(\.notes)
        return RenderedFigure(pixmap: canvas.pixmap, panels: geometries, scale: ts.scale, notes: notes)
    }

    /// Draws title, subtitle and figure notes; returns where the notes went.
    private static func drawHeader(_ canvas: inout Canvas, _ title: TextLine, _ subtitle: TextLine?,
                                   _ notes: [TextLine], texts: [String], margin: Double) -> [(text: String, rect: Rect)] {
        var placed: [(text: String, rect: Rect)] = []
        var y = margin + title.ascent
        canvas.draw(title, at: Point(margin, y))
        y += title.descent
        if let subtitle {
            y += 4 + subtitle.ascent
            canvas.draw(subtitle, at: Point(margin, y))
            y += subtitle.descent
        }
        for (note, text) in zip(notes, texts) {
            y += 3 + note.ascent
            canvas.draw(note, at: Point(margin, y))
            placed.append((text, Rect(x: margin, y: y - note.ascent, width: note.width, height: note.height)))
            y += note.descent
        }
        return placed
    }
}
