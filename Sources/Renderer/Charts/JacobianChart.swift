// jacobian-products: the leading singular values sigma_i of the product J_l ... J_1 of the first l
// step Jacobians (J_t = d s(t) / d s(t-1)) against l on a log axis, and the finite-time Lyapunov
// exponents (1 / l) log sigma_i beside them. sigma_1 of the product bounds how much the state at
// step 0 can still move the state at step l: the gradient's own decay, without the loss.

import DiagnoseRecord
import Foundation

enum JacobianChart {
    static let maxDecades = 30.0

    static func figure(_ record: RunRecord) -> ChartFigure {
        let color = Theme.cellColor(record.config.cell)
        let slots = record.layerSlots
        var panels: [PanelSpec] = []
        for slot in slots.isEmpty ? [nil] : slots.map(Optional.some) {
            let suffix = slot.map { record.hasManyLayerSlots ? " — \($0.label)" : "" } ?? ""
            let first = slot.flatMap { record.firstProbe?.layer($0)?.jacobians }
            let last = slot.flatMap { record.lastProbe?.layer($0)?.jacobians }
            let missing = record.probes.isEmpty ? "no probes recorded in this run" : "no Jacobian data recorded"
            panels.append(productPanel(first: first, last: last, record: record, color: color, suffix: suffix, missing: missing))
            panels.append(lyapunovPanel(first: first, last: last, record: record, color: color, suffix: suffix, missing: missing))
        }
        let spec = FigureSpec(title: "Products of step Jacobians", subtitle: record.chartSubtitle, notes: record.statusNotes,
                              width: 1000, columns: 2, plotHeight: 300, panels: panels)
        return ChartFigure(id: .jacobianProducts, title: "Products of step Jacobians", spec: spec)
    }

    /// Shades for the i-th of n singular values: the first in the full colour, later ones lighter.
    static func rankColor(_ color: Color, _ i: Int, _ n: Int) -> Color {
        i == 0 ? color : Theme.shade(color, -0.25 - 0.5 * Double(i) / Double(max(1, n)))
    }

    /// One line per rank i of `rows` (row ℓ − 1 holds the values after ℓ steps), smallest first so
    /// the leading one, bold in the full colour, is drawn on top.
    static func rankLines(_ rows: [[Double]], color: Color) -> [Mark] {
        let k = rows.map(\.count).max() ?? 0
        return (0..<k).reversed().map { i in
            .line(LineMark(points: Series.indexed(rows.map { i < $0.count ? $0[i] : .nan }, from: 1),
                           color: rankColor(color, i, k), width: i == 0 ? 2.4 : 1.2))
        }
    }

    /// The first probe's leading value, dashed in the first-probe colour.
    static func firstProbeLine(_ rows: [[Double]]) -> Mark {
        .line(LineMark(points: Series.indexed(rows.map { $0.first ?? .nan }, from: 1), color: SpectrumChart.firstColor,
                       width: 1.6, dash: [5, 3]))
    }

    /// A panel against the number of steps ℓ, with its legend below.
    static func panel(title: String, missing: String) -> PanelSpec {
        var p = PanelSpec(title: title)
        p.legend = .below
        p.emptyMessage = missing
        p.x = AxisSpec(title: "number of steps ℓ", integer: true)
        return p
    }

    static func productPanel(first: JacobianRecord?, last: JacobianRecord?, record: RunRecord, color: Color,
                             suffix: String, missing: String) -> PanelSpec {
        var p = panel(title: "σ_{i}(J_{ℓ} ⋯ J_{1})" + suffix, missing: missing)
        p.y = AxisSpec(title: "singular value of the product", kind: .log10, include: [1], maxDecades: maxDecades)
        guard let last, !last.productSingularValues.isEmpty else { return p }
        let k = last.productSingularValues.map(\.count).max() ?? 0
        p.marks += rankLines(last.productSingularValues, color: color)
        if let first, first != last, !first.productSingularValues.isEmpty {
            p.marks.append(firstProbeLine(first.productSingularValues))
        }
        p.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1, color: Theme.referenceColor, width: 1, dash: [4, 3])))
        p.extraLegend = [LegendEntry(label: "σ₁ at step \(record.lastProbe?.step ?? 0) (last probe)", sample: .line(color, width: 2.4, dash: []))]
        if k >= 2 {
            p.extraLegend.append(LegendEntry(label: "σ₂ … σ_{\(k)} (lighter: smaller)",
                                             sample: .line(rankColor(color, k / 2, k), width: 1.2, dash: [])))
        }
        if let first, first != last {
            p.extraLegend.append(LegendEntry(label: "σ₁ at step \(record.firstProbe?.step ?? 0) (first probe)",
                                             sample: .line(SpectrumChart.firstColor, width: 1.6, dash: [5, 3])))
        }
        p.extraLegend.append(LegendEntry(label: "σ = 1: neither grows nor shrinks", sample: .line(Theme.referenceColor, width: 1, dash: [4, 3])))
        return p
    }

    static func lyapunovPanel(first: JacobianRecord?, last: JacobianRecord?, record: RunRecord, color: Color,
                              suffix: String, missing: String) -> PanelSpec {
        var p = panel(title: "Growth rate per step (1/ℓ)·log σ_{i}" + suffix, missing: missing)
        p.y = AxisSpec(title: "(1/ℓ)·log σ_{i}", include: [0])
        guard let last, !last.lyapunovExponents.isEmpty else { return p }
        p.marks += rankLines(last.lyapunovExponents, color: color)
        if let first, first != last {
            p.marks.append(firstProbeLine(first.lyapunovExponents))
        }
        p.extraLegend = [LegendEntry(label: "leading exponent, last probe", sample: .line(color, width: 2.4, dash: []))]
        if let first, first != last {
            p.extraLegend.append(LegendEntry(label: "leading exponent at step \(record.firstProbe?.step ?? 0) (first probe)",
                                             sample: .line(SpectrumChart.firstColor, width: 1.6, dash: [5, 3])))
        }
        p.marks.append(.rule(RuleMark(orientation: .horizontal, value: 0, color: Theme.referenceColor, width: 1, dash: [4, 3],
                                      label: "0: preserved", labelAtStart: false)))
        return p
    }
}
