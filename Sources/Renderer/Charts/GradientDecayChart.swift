// gradient-decay: the lag profile g(l) / g(0), where g(l) = mean over t >= l of G[t][t - l], on a
// log axis against the lag l, one line per probe (light = early in training, dark = late). The
// last probe's fitted decay rho^l (rho = exp of the least-squares slope of log g), the horizon
// (first l with g(l) / g(0) < 1e-3) and, for the simple RNN, the bound (gamma * sigma_max(W_h))^l
// are drawn over it.

import DiagnoseRecord
import Foundation

enum GradientDecayChart {
    static let threshold = 1e-3
    static let maxDecades = 24.0

    static func figure(_ record: RunRecord) -> ChartFigure {
        let slots = record.layerSlots
        let color = Theme.cellColor(record.config.cell)
        let wantsCell = record.config.cell == .lstm || record.probes.contains { $0.layers.contains { $0.cellLagProfile != nil } }
        var panels: [PanelSpec] = []
        for slot in slots.isEmpty ? [nil] : slots.map(Optional.some) {
            let suffix = slot.map { record.hasManyLayerSlots ? " — \($0.label)" : "" } ?? ""
            panels.append(panel(record, slot: slot, cellState: false, color: color, title: "Hidden state h" + suffix))
            if wantsCell {
                panels.append(panel(record, slot: slot, cellState: true, color: color, title: "Cell state c" + suffix))
            }
        }
        let spec = FigureSpec(title: "Gradient decay with distance: g(ℓ) / g(0)", subtitle: record.chartSubtitle,
                              notes: record.statusNotes, width: wantsCell ? 1000 : 760, columns: wantsCell ? 2 : 1,
                              plotHeight: 330, panels: panels)
        return ChartFigure(id: .gradientDecay, title: "Gradient decay with distance", spec: spec)
    }

    static func panel(_ record: RunRecord, slot: LayerSlot?, cellState: Bool, color: Color, title: String) -> PanelSpec {
        let T = record.config.bptt
        var p = PanelSpec(title: title)
        // Many probe lines fill the plot: the legend goes underneath.
        p.legend = .below
        p.x = AxisSpec(title: "lag ℓ = t − j (steps back)", domain: (0, Double(max(1, T - 1))), integer: true)
        p.y = AxisSpec(title: "g(ℓ) / g(0)", kind: .log10, include: [1], padding: 0.03, maxDecades: maxDecades)
        guard let slot, !record.probes.isEmpty else {
            p.emptyMessage = "no probes recorded in this run"
            return p
        }
        let probes = record.probes.filter { probe in
            guard let layer = probe.layer(slot) else { return false }
            return cellState ? layer.cellLagProfile != nil : true
        }
        guard !probes.isEmpty else {
            p.emptyMessage = cellState ? "no cell-state data recorded" : "no lag profile recorded"
            return p
        }
        let n = probes.count
        for (i, probe) in probes.enumerated() {
            guard let layer = probe.layer(slot) else { continue }
            let profile = Series.normalized(cellState ? layer.cellLagProfile ?? [] : layer.lagProfile)
            let last = i == n - 1
            // Early probes light, late ones dark; the last one darkest and thickest.
            let t = n == 1 ? 1 : Double(i) / Double(n - 1)
            let shade = Theme.shade(color, -0.7 + 0.95 * t)
            let label: String?
            if i == 0 && n > 1 { label = "step \(probe.step) (first probe)" }
            else if last { label = "step \(probe.step)" + (n > 1 ? " (last probe)" : "") }
            else if i == n / 2 && n > 2 { label = "intermediate probes" }
            else { label = nil }
            p.marks.append(.line(LineMark(points: Series.indexed(profile), color: last ? color : shade,
                                          width: last ? 2.4 : 1.3, label: label)))
        }
        guard let lastLayer = probes.last?.layer(slot) else { return p }
        let decay = cellState ? lastLayer.cellDecayPerStep : lastLayer.decayPerStep
        let horizon = cellState ? lastLayer.cellHorizon : lastLayer.horizon
        if let d = decay, d.isFinite, d > 0 {
            let fit = (0..<max(1, T)).map { (x: Double($0), y: pow(d, Double($0))) }
            p.marks.append(.line(LineMark(points: fit, color: Color(hex: 0x333333), width: 1.3, dash: [6, 4],
                                          label: "fit: \(NumberFormat.short(d))^{ℓ} per step", fitsDomain: false)))
        }
        if !cellState, record.config.cell == .rnn, let gamma = lastLayer.spectrum.gamma,
           let sigma = lastLayer.spectrum.whole.singularValues.first, gamma.isFinite, sigma.isFinite {
            let factor = gamma * sigma
            let bound = (0..<max(1, T)).map { (x: Double($0), y: pow(factor, Double($0))) }
            // Above 1 the bound allows growth and says nothing about vanishing; it is still shown.
            let verdict = factor < 1 ? "" : " ≥ 1: no guarantee"
            p.marks.append(.line(LineMark(points: bound, color: Theme.shade(color, 0.35), width: 1.5, dash: [1.5, 3],
                                          label: "bound (γ·σ_{max})^{ℓ} = \(NumberFormat.short(factor))^{ℓ}" + verdict,
                                          fitsDomain: false)))
        }
        p.marks.append(.rule(RuleMark(orientation: .horizontal, value: threshold, color: Color(hex: 0x888888), width: 1,
                                      dash: [2, 3], label: "horizon threshold 10^{−3}", labelAtStart: false)))
        if let h = horizon {
            p.marks.append(.rule(RuleMark(orientation: .vertical, value: Double(h), color: Color(hex: 0x333333), width: 1.2,
                                          dash: [], label: "horizon ℓ = \(h)", labelAtStart: true)))
        } else if let profile = Optional(Series.normalized(cellState ? lastLayer.cellLagProfile ?? [] : lastLayer.lagProfile)),
                  profile.count > 1, profile.allSatisfy({ $0.isFinite && $0 >= threshold }) {
            p.extraLegend.append(LegendEntry(label: "no horizon: above 10^{−3} up to ℓ = \(profile.count - 1)", sample: .none))
        }
        return p
    }
}
