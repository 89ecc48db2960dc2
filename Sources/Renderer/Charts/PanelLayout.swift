// Measuring one panel before anything is drawn: the axes' domains fitted to the data (finite
// values only; positive ones on log axes), the ticks, the legend entries, the notes for missing
// data, and the margins the measured text needs.

import Foundation

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

    static let tickGap = 3.0
    static let titleGap = 5.0

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
        /// A line's or a scatter's points: counted as data, skipped when not drawable, fitted when asked.
        func dataPoints(_ points: [(x: Double, y: Double)], fitsDomain: Bool) {
            hasDataMarks = true
            for p in points {
                let okX = valid(p.x, spec.x.kind), okY = valid(p.y, spec.y.kind)
                if okX && okY { hasFiniteData = true } else { skipped += 1 }
                if fitsDomain && okX && okY { xs.append(p.x); ys.append(p.y) }
            }
        }
        for mark in spec.marks {
            switch mark {
            case let .line(m): dataPoints(m.points, fitsDomain: m.fitsDomain)
            case let .scatter(m): dataPoints(m.points, fitsDomain: m.fitsDomain)
            case let .band(m):
                for (x, y) in zip(m.xs + m.xs, m.lower + m.upper) where m.fitsDomain && valid(x, spec.x.kind) && valid(y, spec.y.kind) {
                    xs.append(x)
                    ys.append(y)
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
            case .text, .rug, .endLabel:
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
        remarks = spec.remarks + heatmapRemarks
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
                    } ?? .line(m.color, width: m.width, dash: m.dash), group: m.group))
                }
            case let .scatter(m):
                if let label = m.label { entries.append(LegendEntry(label: label, sample: .marker(m.shape, m.color, filled: m.filled))) }
            case let .rule(m):
                if let label = m.legendLabel { entries.append(LegendEntry(label: label, sample: .line(m.color, width: m.width, dash: m.dash))) }
            case let .rug(m):
                if let label = m.label { entries.append(LegendEntry(label: label, sample: .marker(.verticalBar, m.color, filled: true))) }
            case let .band(m):
                if let label = m.label { entries.append(LegendEntry(label: label, sample: .patch(m.color))) }
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
        let endLabels = spec.marks.compactMap { if case let .endLabel(m) = $0 { return m.text } else { return nil } }
        if let widest = endLabels.map({ ts.width($0, Theme.endLabel) }).max() {
            right = max(right, EndLabels.gap + widest + 4)
        }
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
}
