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

        // Header.
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

/// One panel: its spec, fitted domains, ticks and measured margins.
struct PanelLayout {
    var spec: PanelSpec
    var plotHeight: Double
    var xKind: ScaleKind
    var yKind: ScaleKind
    var xDomain: (lo: Double, hi: Double)
    var yDomain: (lo: Double, hi: Double)
    var yTicks: [Tick]
    var notes: [String]
    /// Quiet grey remarks in the plot's lower right corner.
    var remarks: [String] = []
    var skippedPoints: Int
    var legendEntries: [LegendEntry]
    var legendPlacement: LegendPlacement
    var tokenRotated = false
    var tokenSize = Theme.token.size
    var tokenRowHeight = 0.0
    var left = 0.0, right = 0.0, top = 0.0, bottom = 0.0

    private static let tickGap = 3.0
    private static let titleGap = 5.0

    init(spec: PanelSpec, plotHeight: Double, cellWidth: Double, typesetter ts: Typesetter) {
        self.spec = spec
        self.plotHeight = plotHeight
        xKind = spec.x.kind
        yKind = spec.y.kind

        // Fit domains to the data.
        var xs: [Double] = [], ys: [Double] = []
        var skipped = 0
        var hasDataMarks = false, hasFiniteData = false
        var heatmapNotes: [String] = [], heatmapRemarks: [String] = []
        func valid(_ v: Double, _ kind: ScaleKind) -> Bool { v.isFinite && (kind == .linear || v > 0) }
        for mark in spec.marks {
            switch mark {
            case let .line(m):
                hasDataMarks = true
                for p in m.points {
                    let okX = valid(p.x, spec.x.kind), okY = valid(p.y, spec.y.kind)
                    if okX && okY { hasFiniteData = true } else { skipped += 1 }
                    if m.fitsDomain && okX && okY { xs.append(p.x); ys.append(p.y) }
                }
            case let .scatter(m):
                hasDataMarks = true
                for p in m.points {
                    let okX = valid(p.x, spec.x.kind), okY = valid(p.y, spec.y.kind)
                    if okX && okY { hasFiniteData = true } else { skipped += 1 }
                    if m.fitsDomain && okX && okY { xs.append(p.x); ys.append(p.y) }
                }
            case let .heatmap(m):
                hasDataMarks = true
                let cols = m.values.map(\.count).max() ?? 0
                if cols > 0 {
                    xs += [m.xOffset - 0.5, m.xOffset + Double(cols) - 0.5]
                    ys += [m.yOffset - 0.5, m.yOffset + Double(m.values.count) - 0.5]
                }
                let finite = m.values.joined().filter(\.isFinite)
                if !finite.isEmpty { hasFiniteData = true }
                if m.colorScale.kind == .log10 {
                    // A log colour scale has no place for zero: say how many cells show the lowest colour.
                    let nonPositive = finite.filter { $0 <= 0 }.count
                    if nonPositive == finite.count && nonPositive > 0 { heatmapNotes.append("all values are 0: no gradient reaches any state") }
                    else if nonPositive > 0 { heatmapRemarks.append("\(nonPositive) zero value\(nonPositive == 1 ? "" : "s") shown in the lowest colour") }
                }
            case let .rule(m):
                if m.fitsDomain && m.value.isFinite {
                    if m.orientation == .horizontal { if valid(m.value, spec.y.kind) { ys.append(m.value) } }
                    else if valid(m.value, spec.x.kind) { xs.append(m.value) }
                }
            case let .circle(m):
                if m.radius.isFinite && m.center.x.isFinite && m.center.y.isFinite {
                    xs += [m.center.x - m.radius, m.center.x + m.radius]
                    ys += [m.center.y - m.radius, m.center.y + m.radius]
                }
            case .text, .rug:
                break
            }
        }
        xDomain = PanelLayout.fit(spec.x, xs)
        yDomain = PanelLayout.fit(spec.y, ys)
        if spec.equalAspect && spec.x.domain == nil && spec.y.domain == nil {
            let half = max(xDomain.hi - xDomain.lo, yDomain.hi - yDomain.lo) / 2
            let cx = (xDomain.lo + xDomain.hi) / 2, cy = (yDomain.lo + yDomain.hi) / 2
            xDomain = (cx - half, cx + half)
            yDomain = (cy - half, cy + half)
        }

        var notes = spec.notes + heatmapNotes
        if !hasDataMarks && notes.isEmpty { notes.append(spec.emptyMessage) }
        else if hasDataMarks && !hasFiniteData { notes.append("no finite values") }
        self.notes = notes
        remarks = heatmapRemarks
        skippedPoints = hasFiniteData ? skipped : 0

        // Y ticks (the plot height is known now).
        let yScale = Scale(kind: spec.y.kind, lo: yDomain.lo, hi: yDomain.hi)
        yTicks = PanelLayout.ticks(spec.y, yScale, target: max(3, Int(plotHeight / 50)))

        // Legend entries from labelled marks.
        var entries: [LegendEntry] = []
        for mark in spec.marks {
            switch mark {
            case let .line(m):
                if let label = m.label {
                    entries.append(LegendEntry(label: label, sample: m.marker.map {
                        .lineWithMarker(m.color, width: m.width, dash: m.dash, $0)
                    } ?? .line(m.color, width: m.width, dash: m.dash)))
                }
            case let .scatter(m):
                if let label = m.label { entries.append(LegendEntry(label: label, sample: .marker(m.shape, m.color, filled: m.filled))) }
            case let .rule(m):
                if let label = m.legendLabel { entries.append(LegendEntry(label: label, sample: .line(m.color, width: m.width, dash: m.dash))) }
            case let .rug(m):
                if let label = m.label { entries.append(LegendEntry(label: label, sample: .marker(.verticalBar, m.color, filled: true))) }
            case let .circle(m):
                if let label = m.label { entries.append(LegendEntry(label: label, sample: .line(m.color, width: m.width, dash: m.dash))) }
            default: break
            }
        }
        entries += spec.extraLegend
        legendEntries = entries
        let legendHeight = Legend.boxSize(entries, typesetter: ts).height
        legendPlacement = spec.legend
        if entries.isEmpty { legendPlacement = .none }
        else if legendPlacement != .none && legendPlacement != .below && legendHeight > 0.62 * plotHeight {
            legendPlacement = .below
        }

        // Margins from measured text.
        let tickLabelHeight = ts.layout("0", Theme.tickLabel).height
        let axisTitleHeight = ts.layout("Ag", Theme.axisTitle).height
        let yLabelWidth = spec.y.showTickLabels
            ? (yTicks.filter(\.major).map { ts.width($0.label, Theme.tickLabel) }.max() ?? 0) : 0
        left = Theme.tickLength + PanelLayout.tickGap + yLabelWidth + (spec.y.title != nil ? PanelLayout.titleGap + axisTitleHeight : 0) + 2
        top = spec.title != nil ? ts.layout(spec.title!, Theme.panelTitle).height + 6 : 6
        var bottomMargin = Theme.tickLength + PanelLayout.tickGap + (spec.x.showTickLabels ? tickLabelHeight : 0)
        if !spec.columnLabels.isEmpty {
            // Numeric ticks go above the plot; the labels take their place below.
            top += Theme.tickLength + PanelLayout.tickGap + tickLabelHeight
            let estimatedWidth = cellWidth - left - 60
            let columnWidth = estimatedWidth / Double(max(1, spec.columnLabels.count))
            let widest = spec.columnLabels.map { ts.width($0.label, Theme.token) }.max() ?? 0
            let charWidth = ts.width("M", Theme.token)
            if widest <= max(columnWidth * 1.05, charWidth * 1.05) {
                tokenSize = min(Theme.token.size, Theme.token.size * columnWidth / max(charWidth, 1e-9) * 0.95)
                tokenSize = max(5.5, tokenSize)
                tokenRowHeight = ts.layout("Ag", Theme.token.with(size: tokenSize)).height + 4
            } else {
                tokenRotated = true
                tokenSize = min(Theme.token.size, max(5.5, columnWidth * 0.9))
                let longest = spec.columnLabels.map { ts.width($0.label, Theme.token.with(size: tokenSize)) }.max() ?? 0
                tokenRowHeight = min(70, longest) + 6
            }
            bottomMargin = tokenRowHeight
        }
        if spec.x.title != nil { bottomMargin += PanelLayout.titleGap + axisTitleHeight }
        if legendPlacement == .below {
            let rows = Legend.flowRows(entries, width: max(100, cellWidth - left - 20), typesetter: ts)
            bottomMargin += 8 + Double(rows.count) * Legend.rowHeight(ts)
        }
        bottom = bottomMargin + 2
        right = 10
        if let bar = spec.colorBar {
            let barTicks = PanelLayout.colorBarTicks(bar.scale, target: max(2, Int(plotHeight / 40)))
            let widest = barTicks.filter(\.major).map { ts.width($0.label, Theme.tickLabel) }.max() ?? 0
            right = ColorBar.gap + ColorBar.width + Theme.tickLength + PanelLayout.tickGap + widest
                + PanelLayout.titleGap + axisTitleHeight + 4
        }
    }

    /// Fitted (or fixed) domain of one axis from the values that should be visible.
    static func fit(_ axis: AxisSpec, _ values: [Double]) -> (lo: Double, hi: Double) {
        if let d = axis.domain, d.lo.isFinite, d.hi.isFinite, d.hi > d.lo, axis.kind == .linear || d.lo > 0 {
            return d
        }
        let all = (values + axis.include).filter { $0.isFinite && (axis.kind == .linear || $0 > 0) }
        switch axis.kind {
        case .linear:
            guard var lo = all.min(), var hi = all.max() else { return (0, 1) }
            if hi - lo <= max(abs(hi), abs(lo)) * 1e-12 {
                let d = lo == 0 ? 1 : abs(lo) * 0.1
                return (lo - d, hi + d)
            }
            // Non-negative quantities that must include 0 (losses, fractions) start exactly at 0.
            let pad = (hi - lo) * axis.padding
            guard pad.isFinite else { return (lo, hi) }  // a span beyond Double's range: no padding
            if !(lo == 0 && axis.include.contains(0)) { lo -= pad }
            hi += pad
            return (lo, hi)
        case .log10:
            guard let lo0 = all.min(), let hi0 = all.max() else { return (0.1, 1) }
            var a = log10(lo0), b = log10(hi0)
            if let cap = axis.maxDecades, b - a > cap { a = b - cap }
            if b - a < 1e-9 { a -= 0.5; b += 0.5 }
            let pad = (b - a) * axis.padding
            a -= pad
            b += pad
            return (pow(10, max(a, -307)), pow(10, min(b, 307)))
        }
    }

    static func ticks(_ axis: AxisSpec, _ scale: Scale, target: Int) -> [Tick] {
        if let custom = axis.ticks { return custom.filter { scale.contains($0.value) } }
        switch scale.kind {
        case .linear: return Ticks.linear(lo: scale.lo, hi: scale.hi, target: target, integer: axis.integer)
        case .log10: return Ticks.log(lo: scale.lo, hi: scale.hi, target: target)
        }
    }

    static func colorBarTicks(_ scale: ColorScale, target: Int) -> [Tick] {
        switch scale.kind {
        case .linear: return Ticks.linear(lo: scale.lo, hi: scale.hi, target: target)
        case .log10: return Ticks.log(lo: scale.lo, hi: scale.hi, target: target).filter(\.major)
        }
    }

    // MARK: Drawing

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
                                 Theme.annotation.with(color: Color(hex: 0x555555)))
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
            Legend.drawBelow(legendEntries, on: &canvas, at: Point(plot.minX, belowY + 8), width: plot.width + right - 10, typesetter: ts)
        default:
            Legend.drawInside(legendEntries, on: &canvas, plot: plot, placement: legendPlacement, occupied: occupied,
                              avoid: avoid, typesetter: ts)
        }
        return PanelGeometry(plot: plot, x: xScale, y: yScale, colorBar: barRect, colorScale: spec.colorBar?.scale,
                             notes: placedNotes)
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
        for (x, label) in spec.columnLabels {
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
