// Drawing one measured panel into its plot rectangle: grid, marks (clipped to the plot), axes
// with ticks and labels, titles, colour bar, notes and the legend, in that order.

import Foundation

extension PanelLayout {
    /// Draws the panel with its plot area at `plot` and returns where everything went.
    func draw(on canvas: inout Canvas, plot: Rect, typesetter ts: Typesetter) -> PanelGeometry {
        var xDomain = self.xDomain, yDomain = self.yDomain, yTicks = self.yTicks
        if spec.equalAspect && xKind == .linear && yKind == .linear {
            // Equal units per point on both axes: widen whichever domain is too narrow for its side
            // (the plot keeps its size, the data keeps its shape).
            let unit = max((xDomain.hi - xDomain.lo) / plot.width, (yDomain.hi - yDomain.lo) / plot.height)
            let cx = (xDomain.lo + xDomain.hi) / 2, cy = (yDomain.lo + yDomain.hi) / 2
            xDomain = (cx - unit * plot.width / 2, cx + unit * plot.width / 2)
            yDomain = (cy - unit * plot.height / 2, cy + unit * plot.height / 2)
            yTicks = PanelLayout.ticks(spec.y, Scale(kind: yKind, lo: yDomain.lo, hi: yDomain.hi),
                                       target: max(3, Int(plot.height / 50)))
        }
        var xScale = Scale(kind: xKind, lo: xDomain.lo, hi: xDomain.hi, start: plot.minX, end: plot.maxX)
        if spec.x.inverted { swap(&xScale.start, &xScale.end) }
        var yScale = Scale(kind: yKind, lo: yDomain.lo, hi: yDomain.hi, start: plot.maxY, end: plot.minY)
        if spec.y.inverted { swap(&yScale.start, &yScale.end) }
        let xTicks = xTicksFitting(xScale, plot: plot, typesetter: ts)
        let boxed = spec.equalAspect || spec.marks.contains { if case .heatmap = $0 { return true } else { return false } }

        // Grid.
        if spec.grid {
            let style = StrokeStyle(width: Theme.gridWidth)
            canvas.withClip(plot) { c in
                for t in xTicks where t.major {
                    let x = c.snap(xScale.map(t.value), width: Theme.gridWidth)
                    c.line(from: Point(x, plot.minY), to: Point(x, plot.maxY), style: style, Theme.gridColor)
                }
                for t in yTicks where t.major {
                    let y = c.snap(yScale.map(t.value), width: Theme.gridWidth)
                    c.line(from: Point(plot.minX, y), to: Point(plot.maxX, y), style: style, Theme.gridColor)
                }
            }
        }

        // Marks.
        var occupied = Occupancy()
        canvas.withClip(plot) { c in
            for mark in spec.marks {
                MarkPainter.draw(mark, on: &c, x: xScale, y: yScale, plot: plot, typesetter: ts, occupied: &occupied)
            }
        }

        // Axes.
        let axisStyle = StrokeStyle(width: Theme.axisWidth, cap: .square)
        let ax = canvas.snap(plot.minX, width: Theme.axisWidth), ay = canvas.snap(plot.maxY, width: Theme.axisWidth)
        if boxed {
            let r = Rect(x: ax, y: canvas.snap(plot.minY, width: Theme.axisWidth), width: canvas.snap(plot.maxX, width: Theme.axisWidth) - ax,
                         height: ay - canvas.snap(plot.minY, width: Theme.axisWidth))
            canvas.strokeRect(r, style: StrokeStyle(width: Theme.axisWidth, join: .miter), Theme.axisColor)
        } else {
            canvas.line(from: Point(ax, plot.minY), to: Point(ax, ay), style: axisStyle, Theme.axisColor)
            canvas.line(from: Point(ax, ay), to: Point(plot.maxX, ay), style: axisStyle, Theme.axisColor)
        }
        let tickStyle = StrokeStyle(width: Theme.axisWidth)
        // Y ticks.
        for t in yTicks {
            let y = canvas.snap(yScale.map(t.value), width: Theme.axisWidth)
            let length = t.major ? Theme.tickLength : Theme.tickLength * 0.55
            canvas.line(from: Point(plot.minX - length, y), to: Point(plot.minX, y), style: tickStyle, Theme.axisColor)
            if t.major && spec.y.showTickLabels && !t.label.isEmpty {
                canvas.text(t.label, Theme.tickLabel, at: Point(plot.minX - Theme.tickLength - PanelLayout.tickGap, y),
                            using: ts, .right, .middle)
            }
        }
        // X ticks: below the plot, or above it when column labels take the space below.
        let above = !spec.columnLabels.isEmpty
        for t in xTicks {
            let x = canvas.snap(xScale.map(t.value), width: Theme.axisWidth)
            let length = t.major ? Theme.tickLength : Theme.tickLength * 0.55
            let edge = above ? plot.minY : plot.maxY
            canvas.line(from: Point(x, edge), to: Point(x, above ? edge - length : edge + length), style: tickStyle, Theme.axisColor)
            if t.major && spec.x.showTickLabels && !t.label.isEmpty {
                if above {
                    canvas.text(t.label, Theme.tickLabel, at: Point(x, edge - Theme.tickLength - PanelLayout.tickGap),
                                using: ts, .center, .bottom)
                } else {
                    canvas.text(t.label, Theme.tickLabel, at: Point(x, edge + Theme.tickLength + PanelLayout.tickGap),
                                using: ts, .center, .top)
                }
            }
        }
        var belowY = plot.maxY + (above ? 0 : Theme.tickLength + PanelLayout.tickGap
            + (spec.x.showTickLabels ? ts.layout("0", Theme.tickLabel).height : 0))
        if above { belowY += drawColumnLabels(on: &canvas, xScale: xScale, plot: plot, typesetter: ts) }

        // Axis titles.
        if let title = spec.x.title {
            let line = ts.layout(title, Theme.axisTitle)
            canvas.draw(line, at: Point(plot.midX, belowY + PanelLayout.titleGap), .center, .top)
            belowY += PanelLayout.titleGap + line.height
        }
        if let title = spec.y.title {
            let line = ts.layout(title, Theme.axisTitle)
            canvas.draw(line, at: Point(plot.minX - left + 2, plot.midY), .center, .top, rotated: true)
        }
        if let title = spec.title {
            let style = Theme.panelTitle
            let fitted = ts.layout(ts.fitting(title, style, maxWidth: plot.width + right - 4), style)
            let topOffset = above ? Theme.tickLength + PanelLayout.tickGap + ts.layout("0", Theme.tickLabel).height : 0
            canvas.draw(fitted, at: Point(plot.minX, plot.minY - topOffset - 6 - fitted.descent), .left, .baseline)
        }

        let endLabels = spec.marks.compactMap { if case let .endLabel(m) = $0 { return m } else { return nil } }
        var names: [(group: Int?, rect: Rect)] = []
        if !endLabels.isEmpty { names += EndLabels.draw(endLabels, on: &canvas, plot: plot, y: yScale, typesetter: ts) }

        // Colour bar.
        var barRect: Rect? = nil
        if let bar = spec.colorBar {
            barRect = ColorBar.draw(bar, on: &canvas, beside: plot, typesetter: ts)
        }

        // Notes, then the legend placed where it covers the least data.
        var avoid: [Rect] = []
        var placedNotes: [(text: String, rect: Rect)] = []
        let noteLines = notes
        if !noteLines.isEmpty {
            let box = Notes.draw(noteLines, on: &canvas, in: plot, centred: !hasVisibleData, typesetter: ts)
            avoid.append(box)
            placedNotes = noteLines.map { ($0, box) }
        }
        var quiet = remarks
        if skippedPoints > 0 {
            // Some points missing from a curve that is otherwise drawn: a quiet remark, not an alarm.
            quiet.append("\(skippedPoints) value\(skippedPoints == 1 ? "" : "s") not finite"
                + (yKind == .log10 || xKind == .log10 ? " or ≤ 0" : "") + ", not drawn")
        }
        var bottom = plot.maxY - 4
        for text in quiet.reversed() {
            let line = ts.layout(ts.fitting(text, Theme.annotation, maxWidth: plot.width - 12),
                                 Theme.annotation.with(color: Theme.referenceColor))
            let origin = Point(plot.maxX - 4 - line.width, bottom - line.descent)
            let box = Rect(x: origin.x - 2, y: origin.y - line.ascent - 1, width: line.width + 4, height: line.height + 2)
            canvas.fillRect(box, Color.white.withAlpha(0.85))
            canvas.draw(line, at: origin)
            avoid.append(box)
            placedNotes.append((text, box))
            bottom = box.minY - 2
        }
        switch legendPlacement {
        case .none: break
        case .below:
            names += Legend.drawBelow(legendEntries, on: &canvas, at: Point(plot.minX, belowY + 8),
                                      width: plot.width + right - 10, typesetter: ts)
        default:
            names += Legend.drawInside(legendEntries, on: &canvas, plot: plot, placement: legendPlacement, occupied: occupied,
                                       avoid: avoid, typesetter: ts)
        }
        return PanelGeometry(plot: plot, x: xScale, y: yScale, colorBar: barRect, colorScale: spec.colorBar?.scale,
                             notes: placedNotes, names: names)
    }

    private var hasVisibleData: Bool {
        !notes.contains(spec.emptyMessage) && !notes.contains("no finite values")
    }

    /// X ticks, thinned until their labels do not collide.
    private func xTicksFitting(_ scale: Scale, plot: Rect, typesetter ts: Typesetter) -> [Tick] {
        var target = max(3, Int(plot.width / 100))
        while true {
            let ticks = PanelLayout.ticks(spec.x, scale, target: target)
            let major = ticks.filter(\.major)
            guard spec.x.showTickLabels, major.count > 1, target > 2 else { return ticks }
            let widest = major.map { ts.width($0.label, Theme.tickLabel) }.max() ?? 0
            let positions = major.map { scale.map($0.value) }.sorted()
            let spacing = zip(positions.dropFirst(), positions).map { $0 - $1 }.min() ?? .infinity
            if spacing >= widest + 8 { return ticks }
            target -= 1
        }
    }

    /// The probe text under a heatmap: one label per column. Returns the height used.
    private func drawColumnLabels(on canvas: inout Canvas, xScale: Scale, plot: Rect, typesetter ts: Typesetter) -> Double {
        let style = Theme.token.with(size: tokenSize)
        // Too many columns for the width: label every k-th column rather than overprint.
        let spacing = plot.width / Double(max(1, spec.columnLabels.count))
        let needed = tokenRotated ? ts.layout("Ag", style).height
            : (spec.columnLabels.map { ts.width($0.label, style) }.max() ?? 0) + 1
        let stride = max(1, Int((needed / max(spacing, 1e-9)).rounded(.up)))
        for (index, (x, label)) in spec.columnLabels.enumerated() where index % stride == 0 {
            let px = xScale.map(x)
            guard px.isFinite, px >= plot.minX - 1, px <= plot.maxX + 1 else { continue }
            if tokenRotated {
                let text = ts.fitting(label, style, maxWidth: tokenRowHeight - 6)
                canvas.text(text, style, at: Point(px, plot.maxY + 3), using: ts, .right, .middle, rotated: true)
            } else {
                canvas.text(label, style, at: Point(px, plot.maxY + 2), using: ts, .center, .top)
            }
        }
        return tokenRowHeight
    }
}
