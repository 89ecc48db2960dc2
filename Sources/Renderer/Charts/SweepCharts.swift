// Sweep charts: what the summary numbers do as one flag is swept (one line per cell, with the seed
// band), and, for two swept flags, the phase diagram: a heatmap per cell of the outcome over both
// values, with the lecture's boundary rho = 1/gamma where an axis is the spectral radius.

import DiagnoseRecord
import Foundation

public enum SweepCharts {
    /// The sweep charts of `records`: `.sweep(axis)` for one swept flag, `.phase(across, down)`
    /// for two; none when no flag or more than two flags vary (then the runs are no grid).
    public static func render(_ records: [RunRecord], options: RenderOptions) throws -> [ChartImage] {
        let figures = figures(records)
        guard !figures.isEmpty else { return [] }
        return try ChartFigure.renderAll(figures, typesetter: try Typesetter(options: options)).map(\.image)
    }

    static func figures(_ records: [RunRecord]) -> [ChartFigure] {
        let axes = RunGroups.sweptAxes(records)
        switch axes.count {
        case 1: return [oneAxis(records, axes[0])]
        case 2: return [twoAxes(records, axes[0], axes[1])]
        default: return []
        }
    }

    /// A line of a sweep chart: the runs of one cell (and activation).
    struct Line {
        var label: String
        var cell: CellKind
        var activation: Activation
        var records: [RunRecord]
    }

    static func lines(_ records: [RunRecord]) -> [Line] {
        var lines: [Line] = []
        for record in records {
            if let index = lines.firstIndex(where: { $0.cell == record.config.cell && $0.activation == record.config.activation }) {
                lines[index].records.append(record)
            } else {
                lines.append(Line(label: record.cellLabel, cell: record.config.cell, activation: record.config.activation, records: [record]))
            }
        }
        let activations = Set(lines.filter { $0.cell == .rnn }.map(\.activation))
        for index in lines.indices where lines[index].cell == .rnn && activations.count > 1 {
            lines[index].label += " (\(lines[index].activation.rawValue))"
        }
        return lines
    }

    /// A summary number drawn against the swept value.
    struct Metric {
        var title: String
        var axis: String
        var kind: ScaleKind = .linear
        var value: (RunRecord) -> Double?
    }

    static func metrics(_ records: [RunRecord]) -> [(Metric, Metric?)] {
        var list: [(Metric, Metric?)] = [
            (Metric(title: "Gradient factor per step", axis: "decay per step", value: { $0.summary.decayPerStepFirst }),
             Metric(title: "", axis: "", value: { $0.summary.decayPerStep })),
            (Metric(title: "Gradient horizon (window T when beyond it)", axis: "steps",
                    value: { $0.summary.horizonFirst.map(Double.init) ?? Double($0.config.bptt) }),
             Metric(title: "", axis: "", value: { $0.summary.horizon.map(Double.init) ?? Double($0.config.bptt) })),
        ]
        if records.contains(where: { $0.summary.recallAccuracy != nil }) {
            list.append((Metric(title: "Recall accuracy", axis: "accuracy (%)", value: { $0.summary.recallAccuracy.map { $0 * 100 } }), nil))
        } else {
            list.append((Metric(title: "Validation perplexity", axis: "perplexity", kind: .log10, value: { $0.summary.finalValidPerplexity }), nil))
        }
        list.append((Metric(title: "Clipped steps", axis: "clipped (%)", value: { $0.summary.clippedFraction.map { $0 * 100 } }), nil))
        if records.contains(where: { $0.status.divergedAtStep != nil }) {
            list.append((Metric(title: "Divergence step (runs that diverged)", axis: "step", value: { $0.status.divergedAtStep.map(Double.init) }), nil))
        }
        return list
    }

    // MARK: One swept flag

    static func oneAxis(_ records: [RunRecord], _ axis: SweepAxis) -> ChartFigure {
        let cellLines = lines(records)
        let styles = CompareCharts.runStyles(cellLines.map { $0.records[0] })
        var panels: [PanelSpec] = []
        for (metric, later) in metrics(records) {
            var p = PanelSpec(title: metric.title)
            p.x = AxisSpec(title: axis.title, kind: axis.logarithmic ? .log10 : .linear, padding: 0.04)
            p.y = AxisSpec(title: metric.axis, kind: metric.kind)
            p.legend = .below
            for (line, style) in zip(cellLines, styles) {
                for (m, isLater) in [(metric, false)] + (later.map { [($0, true)] } ?? []) {
                    let points = series(line.records, axis, m.value)
                    guard !points.isEmpty else { continue }
                    let xs = points.map(\.x)
                    if points.contains(where: { $0.spread.count > 1 }) {
                        p.marks.append(.band(BandMark(xs: xs, lower: points.map(\.spread.lower), upper: points.map(\.spread.upper),
                                                      color: style.color.withAlpha(isLater ? 0.12 : 0.2))))
                    }
                    let when = later == nil ? "" : (isLater ? ", end of training" : ", initialisation")
                    p.marks.append(.line(LineMark(points: points.map { (x: $0.x, y: $0.spread.median) }, color: style.color,
                                                  width: isLater ? 1.6 : 2.4, dash: isLater ? [5, 3] : [],
                                                  label: Markup.escape(line.label) + when, marker: isLater ? .square : .circle,
                                                  markerSize: 3)))
                }
            }
            if metric.title == "Gradient factor per step" && axis == .spectralRadius {
                // For a linear RNN every step multiplies the gradient by W_h: the factor is rho itself.
                let values = Array(Set(records.compactMap { axis.value($0.config) })).sorted()
                if let lo = values.first, let hi = values.last {
                    p.marks.append(.line(LineMark(points: [(x: lo, y: lo), (x: hi, y: hi)], color: Theme.referenceColor, width: 1,
                                                  dash: [4, 3], label: "factor = ρ (linear RNN theory)")))
                }
                p.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1, color: Color(hex: 0x888888), width: 1, dash: [2, 3],
                                              label: "1", labelAtStart: true)))
            }
            panels.append(p)
        }
        let spec = FigureSpec(title: "Sweep of \(axis.flag)", subtitle: "\(records.count) runs, \(cellLines.count) cell\(cellLines.count == 1 ? "" : "s")",
                              notes: [], width: 1100, columns: 3, plotHeight: 230, panels: panels)
        return ChartFigure(id: .sweep(axis), title: "Sweep of \(axis.flag)", spec: spec)
    }

    /// Median and spread of `value` over the runs at each swept value, by increasing value.
    static func series(_ records: [RunRecord], _ axis: SweepAxis, _ value: (RunRecord) -> Double?) -> [(x: Double, spread: SeedSpread)] {
        let xs = Array(Set(records.compactMap { axis.value($0.config) })).sorted()
        return xs.compactMap { x in
            SeedSpread(records.filter { axis.value($0.config) == x }.map(value)).map { (x: x, spread: $0) }
        }
    }

    // MARK: Two swept flags

    static func twoAxes(_ records: [RunRecord], _ a: SweepAxis, _ b: SweepAxis) -> ChartFigure {
        // The spectral radius goes across, where the lecture's boundary is a vertical line.
        let (across, down) = b == .spectralRadius ? (b, a) : (a, b)
        let recall = records.contains { $0.summary.recallAccuracy != nil }
        let outcome: (RunRecord) -> Double? = recall ? { $0.summary.recallAccuracy.map { $0 * 100 } } : { $0.summary.finalValidPerplexity }
        let xs = Array(Set(records.compactMap { across.value($0.config) })).sorted()
        let ys = Array(Set(records.compactMap { down.value($0.config) })).sorted()
        let cellLines = lines(records)
        let all = records.compactMap(outcome).filter(\.isFinite)
        let scale = recall
            ? ColorScale(map: .viridis, kind: .linear, lo: 0, hi: 100)
            : ColorScale(map: .viridis, kind: .log10, lo: max(all.min() ?? 1, 1e-9), hi: max(all.max() ?? 2, (all.min() ?? 1) * 1.01))
        var panels: [PanelSpec] = []
        for line in cellLines {
            var p = PanelSpec(title: Markup.escape(line.label))
            p.grid = false
            p.legend = .below
            let matrix: [[Double]] = ys.map { y in
                xs.map { x in
                    SeedSpread(line.records.filter { across.value($0.config) == x && down.value($0.config) == y }.map(outcome))?.median ?? .nan
                }
            }
            p.marks.append(.heatmap(HeatmapMark(values: matrix, colorScale: scale)))
            p.colorBar = ColorBarSpec(scale: scale, title: recall ? "recall accuracy (%), median over seeds" : "validation perplexity")
            p.x = AxisSpec(title: across.title, domain: (-0.5, Double(xs.count) - 0.5),
                           ticks: xs.enumerated().map { Tick(value: Double($0.offset), label: NumberFormat.plain($0.element, decimals: 3)) })
            p.y = AxisSpec(title: down.title, domain: (-0.5, Double(ys.count) - 0.5),
                           ticks: ys.enumerated().map { Tick(value: Double($0.offset), label: NumberFormat.plain($0.element, decimals: 3)) })
            if across == .spectralRadius && line.cell == .rnn, let position = indexPosition(of: 1, in: xs) {
                // gamma = max sigma' = 1 for tanh, relu and linear: the boundary is rho = 1.
                p.marks.append(.rule(RuleMark(orientation: .vertical, value: position, color: .white, width: 2, dash: [6, 3],
                                              legendLabel: "ρ = 1/γ: vanishing guaranteed to its left")))
            }
            panels.append(p)
        }
        let spec = FigureSpec(title: "Phase diagram: \(across.flag) × \(down.flag)", subtitle: "\(records.count) runs",
                              notes: [], width: max(600, min(1300, Double(panels.count) * 460)), columns: max(1, panels.count),
                              plotHeight: 260, panels: panels)
        return ChartFigure(id: .phase(across, down), title: "Phase diagram", spec: spec)
    }

    /// Where `value` falls on the index axis of the sorted `values` (linear between neighbours);
    /// nil outside their range.
    static func indexPosition(of value: Double, in values: [Double]) -> Double? {
        guard let first = values.first, let last = values.last, value >= first, value <= last else { return nil }
        for i in values.indices.dropLast() where value <= values[i + 1] {
            let span = values[i + 1] - values[i]
            return Double(i) + (span > 0 ? (value - values[i]) / span : 0)
        }
        return Double(values.count - 1)
    }
}
