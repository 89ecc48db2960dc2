// gates: for each gate (or the activation of a simple RNN), a heatmap of its values over the probe
// sequence (x: step t with the probe text under it, y: unit), and the fraction of saturated
// values over training. Saturated sigmoid gates are stuck open (> 0.9) or shut (< 0.1); a
// saturated tanh (|x| > 0.9) passes almost no gradient, since tanh' = 1 - tanh^2 < 0.19 there.

import DiagnoseRecord
import Foundation

enum GatesChart {
    static func figure(_ record: RunRecord) -> ChartFigure {
        let slot = record.topForwardSlot
        // The latest probe that kept activations (they are kept at the first and last probe only).
        let probe = record.probes.last { $0.topForward?.gates.contains { $0.activations != nil } ?? false }
        let layer = probe?.topForward
        let gateNames = record.probes.last?.topForward?.gates.map(\.name) ?? []
        let T = record.config.bptt
        var panels: [PanelSpec] = []
        let tokens = record.probeTokens.map(displayToken)

        if let layer {
            for gate in layer.gates {
                panels.append(heatmapPanel(gate, tokens: tokens, T: T))
            }
        } else {
            var p = PanelSpec(title: "Gate activations")
            p.emptyMessage = record.probes.isEmpty ? "no probes recorded in this run" : "no activations recorded"
            p.plotHeight = 110
            panels.append(p)
        }
        panels.append(saturationPanel(record, slot: slot, gateNames: gateNames))

        let spec = FigureSpec(title: "Gates and saturation", subtitle: record.chartSubtitle, notes: record.statusNotes,
                              width: 980, columns: 1, plotHeight: 118, panels: panels)
        return ChartFigure(id: .gates, title: "Gates and saturation", spec: spec)
    }

    /// Spaces and line breaks made visible in the probe text.
    static func displayToken(_ token: String) -> String {
        Markup.escape(token).replacingOccurrences(of: " ", with: "␣").replacingOccurrences(of: "\n", with: "↵")
            .replacingOccurrences(of: "\t", with: "→")
    }

    static func colorScale(for gate: GateRecord, values: [Double]) -> (ColorScale, String) {
        let finite = values.filter(\.isFinite)
        let m = finite.map(abs).max() ?? 1
        switch gate.function {
        case .sigmoid: return (ColorScale(map: .viridis, kind: .linear, lo: 0, hi: 1), "gate value (0 shut, 1 open)")
        case .tanh: return (ColorScale(map: .diverging, kind: .linear, lo: -1, hi: 1), "value (tanh, −1…1)")
        case .relu: return (ColorScale(map: .viridis, kind: .linear, lo: 0, hi: m > 0 ? m : 1), "value (relu)")
        case .linear: return (ColorScale(map: .diverging, kind: .linear, lo: -(m > 0 ? m : 1), hi: m > 0 ? m : 1), "value")
        }
    }

    static func heatmapPanel(_ gate: GateRecord, tokens: [String], T: Int) -> PanelSpec {
        let title = gate.name == "activation" ? "Activation h_{t} (\(gate.function.rawValue))" : "\(Markup.escape(gate.name.capitalized)) gate (\(gate.function.rawValue))"
        var p = PanelSpec(title: title)
        p.grid = false
        p.legend = .none
        guard let activations = gate.activations, !activations.isEmpty else {
            p.emptyMessage = "no activations recorded for this gate"
            return p
        }
        let steps = activations.count
        let units = activations.map(\.count).max() ?? 0
        // Rows = units, sorted by mean activation so the map reads as bands rather than noise.
        let means: [Double] = (0..<units).map { u in
            let column = activations.compactMap { u < $0.count && $0[u].isFinite ? $0[u] : nil }
            return column.isEmpty ? -.infinity : column.reduce(0, +) / Double(column.count)
        }
        let order = (0..<units).sorted { means[$0] > means[$1] || (means[$0] == means[$1] && $0 < $1) }
        let matrix: [[Double]] = order.map { u in activations.map { u < $0.count ? $0[u] : .nan } }
        let (scale, barTitle) = colorScale(for: gate, values: matrix.flatMap { $0 })
        p.marks.append(.heatmap(HeatmapMark(values: matrix, colorScale: scale)))
        p.colorBar = ColorBarSpec(scale: scale, title: barTitle)
        p.x = AxisSpec(title: "probe text, step t →", domain: (-0.5, Double(steps) - 0.5), integer: true)
        p.y = AxisSpec(title: "unit (sorted)", domain: (-0.5, Double(units) - 0.5), inverted: true, integer: true, showTickLabels: true)
        p.columnLabels = tokens.prefix(steps).enumerated().map { (x: Double($0.offset), label: $0.element) }
        if p.columnLabels.isEmpty { p.x.title = "step t" }
        if gate.saturated.isFinite && gate.saturated >= 0 && gate.saturated <= 1 {
            p.title = title + "  ·  \(Int((gate.saturated * 100).rounded()))% saturated"
        }
        return p
    }

    static func saturationPanel(_ record: RunRecord, slot: LayerSlot?, gateNames: [String]) -> PanelSpec {
        var p = PanelSpec(title: "Saturated fraction over training")
        p.plotHeight = 170
        p.legend = .auto
        p.x = AxisSpec(title: "training step", include: [0, Double(max(1, record.config.steps))], padding: 0.02, integer: true)
        p.y = AxisSpec(title: "saturated", domain: (0, 1),
                       ticks: [0, 0.25, 0.5, 0.75, 1].map { Tick(value: $0, label: "\(Int($0 * 100))%") })
        p.emptyMessage = record.probes.isEmpty ? "no probes recorded in this run" : "no gate statistics recorded"
        guard let slot, !record.probes.isEmpty else { return p }
        for (i, name) in gateNames.enumerated() {
            let points: [(x: Double, y: Double)] = record.probes.compactMap { probe in
                guard let gate = probe.layer(slot)?.gates.first(where: { $0.name == name }) else { return nil }
                return (x: Double(probe.step), y: gate.saturated)
            }
            let color = name == "activation" ? Theme.cellColor(record.config.cell) : Theme.gateColor(name, index: i)
            p.marks.append(.line(LineMark(points: points, color: color, width: 2, label: name == "activation" ? "\(record.config.activation.rawValue) activation" : Markup.escape(name), marker: .circle, markerSize: 2.8)))
        }
        return p
    }
}
