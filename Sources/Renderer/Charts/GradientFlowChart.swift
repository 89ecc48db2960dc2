// gradient-flow: the matrix G[t][j] = mean_b ||d l_b(t) / d h_b(j)||_2 of the last probe as a
// heatmap (x: the state's step j, y: the loss's step t, t = 0 at the top), one panel per layer and
// direction, with the LSTM's cell-state matrix beside its hidden-state matrix. Only j <= t exists:
// the upper triangle stays blank. One logarithmic colour scale is shared by every panel.

import DiagnoseRecord
import Foundation

enum GradientFlowChart {
    /// The colour scale spans at most this many decades below the largest value, and at least
    /// `minDecades`, so that a gradient that hardly decays (LSTM) looks uniformly bright instead of
    /// having its small wiggles stretched over the whole colour map; charts of different runs then
    /// read alike.
    static let maxDecades = 16.0
    static let minDecades = 8.0

    static func figure(_ record: RunRecord) -> ChartFigure {
        let T = record.config.bptt
        let probe = record.lastProbe
        let slots = record.layerSlots
        let hasCell = probe?.layers.contains { $0.cellGradientFlow != nil } ?? false
        let wantsCell = record.config.cell == .lstm || hasCell

        // One colour scale over every matrix shown.
        var all: [Double] = []
        for layer in probe?.layers ?? [] {
            all += layer.gradientFlow.joined().filter { $0.isFinite && $0 > 0 }
            all += (layer.cellGradientFlow ?? []).joined().filter { $0.isFinite && $0 > 0 }
        }
        let hi = all.max() ?? 1
        let lo = min(max(all.min() ?? hi, hi / pow(10, maxDecades)), hi / pow(10, minDecades))
        let colorScale = ColorScale(map: .viridis, kind: .log10, lo: lo, hi: hi)
        let barTitle = "‖∂L_{t} / ∂state_{j}‖  (log scale)"

        var panels: [PanelSpec] = []
        let columns = wantsCell ? 2 : 1
        for slot in slots.isEmpty ? [nil] : slots.map(Optional.some) {
            let layer = slot.flatMap { probe?.layer($0) }
            let where_ = slot.map { record.hasManyLayerSlots ? " — \($0.label)" : "" } ?? ""
            // The probe text reads in processing order: reversed for a backward direction.
            let tokens = slot?.direction == .backward ? Array(record.probeTokens.reversed()) : record.probeTokens
            var hidden = panel(title: "Hidden state h(j)" + where_, matrix: layer?.gradientFlow, horizon: layer?.horizon,
                               T: T, colorScale: colorScale, barTitle: columns == 1 ? barTitle : nil,
                               missing: probe == nil ? "no probes recorded in this run" : "no gradient-flow data")
            hidden.heatmapReadout = HeatmapReadout(row: "t", column: "j", value: "G[{row}][{column}]", tokens: tokens)
            panels.append(hidden)
            if wantsCell {
                var cell = panel(title: "Cell state c(j)" + where_, matrix: layer?.cellGradientFlow, horizon: layer?.cellHorizon,
                                 T: T, colorScale: colorScale, barTitle: barTitle,
                                 missing: probe == nil ? "no probes recorded in this run" : "no cell-state data recorded")
                cell.heatmapReadout = HeatmapReadout(row: "t", column: "j", value: "G_c[{row}][{column}]", tokens: tokens)
                panels.append(cell)
            }
        }

        let stepText = probe.map { " at step \($0.step)" } ?? ""
        let spec = FigureSpec(title: "Gradient flow over time: ‖∂L_{t} / ∂h_{j}‖", subtitle: record.chartSubtitle + stepText.replacingOccurrences(of: " at", with: " · probe at"),
                              notes: record.statusNotes, width: columns == 2 ? 1000 : 620, columns: columns,
                              plotHeight: columns == 2 ? 360 : 400, panels: panels)
        return ChartFigure(id: .gradientFlow, title: "Gradient flow over time", spec: spec)
    }

    static func panel(title: String, matrix: [[Double]]?, horizon: Int?, T: Int, colorScale: ColorScale,
                      barTitle: String?, missing: String) -> PanelSpec {
        let n = matrix?.count ?? T
        var p = PanelSpec(title: title)
        p.x = AxisSpec(title: "step j of the state", domain: (-0.5, Double(max(1, n)) - 0.5), integer: true)
        p.y = AxisSpec(title: "step t of the loss", domain: (-0.5, Double(max(1, n)) - 0.5), inverted: true, integer: true)
        p.grid = false
        p.legend = .none
        guard let matrix, !matrix.isEmpty else {
            p.emptyMessage = missing
            return p
        }
        if let barTitle { p.colorBar = ColorBarSpec(scale: colorScale, title: barTitle) }
        p.marks.append(.heatmap(HeatmapMark(values: matrix, colorScale: colorScale)))
        // The blank triangle explains itself.
        p.marks.append(.text(TextMark(x: Double(n) * 0.72, y: Double(n) * 0.2, text: "j > t: no path from the future",
                                      style: Theme.annotation.with(color: Color(hex: 0x777777)), horizontal: .center)))
        if let h = horizon, h > 0, h < n {
            p.marks.append(.line(LineMark(points: [(x: -0.5, y: Double(h) - 0.5), (x: Double(n - h) - 0.5, y: Double(n) - 0.5)],
                                          color: Color.white.withAlpha(0.9), width: 1.2, dash: [4, 3])))
            p.marks.append(.text(TextMark(x: Double(n - h) * 0.5, y: Double(h) + Double(n - h) * 0.5 + 1,
                                          text: "horizon t − j = \(h)", style: Theme.annotation.with(color: .white),
                                          horizontal: .right, vertical: .top)))
        }
        return p
    }
}
