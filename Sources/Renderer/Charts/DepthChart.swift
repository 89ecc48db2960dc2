// depth: how far the gradient reaches down a stack of layers. Left, the last probe's
// D[l][t] = mean_b ||dJ / dh_l(t)|| as a heatmap (x: step t, y: layer, the top layer at the top)
// on a logarithmic colour scale; right, the depth profile mean_t D[l] / mean_t D[top] against the
// layer on a log axis, one line per probe (light = early in training, dark = late).
// Forward direction; drawn for stacks of two or more layers.

import DiagnoseRecord
import Foundation

enum DepthChart {
    static let maxDecades = 12.0

    /// Only a stack has a depth to look at.
    static func applies(to record: RunRecord) -> Bool { record.config.layers > 1 }

    static func figure(_ record: RunRecord) -> ChartFigure {
        let color = Theme.cellColor(record.config.cell)
        let probes = record.probes.filter { ($0.depth?.first?.gradient.count ?? 0) > 1 }
        let last = probes.last?.depth?.first
        let L = last?.gradient.count ?? record.config.layers

        var heat = PanelSpec(title: "‖∂J / ∂h_{l}(t)‖ at step \(probes.last?.step ?? 0)")
        heat.grid = false
        heat.legend = .none
        let T = last?.gradient.first?.count ?? record.config.bptt
        heat.x = AxisSpec(title: "step t", domain: (-0.5, Double(max(1, T)) - 0.5), integer: true)
        heat.y = AxisSpec(title: "layer", domain: (-0.5, Double(max(1, L)) - 0.5), integer: true,
                          ticks: (0..<L).map { Tick(value: Double($0), label: $0 == L - 1 ? "\($0) (top)" : "\($0)") })
        var profile = PanelSpec(title: "Depth profile: share of the top layer's gradient")
        profile.legend = .below
        profile.x = AxisSpec(title: "layer l", domain: (-0.2, Double(max(1, L - 1)) + 0.2), integer: true)
        profile.y = AxisSpec(title: "mean_{t} D[l] / mean_{t} D[top]", kind: .log10, include: [1], padding: 0.05,
                             maxDecades: maxDecades)
        guard let last else {
            heat.emptyMessage = record.probes.isEmpty ? "no probes recorded in this run" : "no depth probe recorded"
            profile.emptyMessage = heat.emptyMessage
            return figure(record, panels: [heat, profile])
        }
        let values = last.gradient.joined().filter { $0.isFinite && $0 > 0 }
        let hi = values.max() ?? 1
        let lo = max(values.min() ?? hi / 10, hi / pow(10, maxDecades))
        let scale = ColorScale(map: .viridis, kind: .log10, lo: min(lo, hi / 10), hi: hi)
        heat.colorBar = ColorBarSpec(scale: scale, title: "‖∂J / ∂h_{l}(t)‖  (log scale)")
        heat.marks.append(.heatmap(HeatmapMark(values: last.gradient, colorScale: scale)))

        let n = probes.count
        for (i, probe) in probes.enumerated() {
            guard let shares = probe.depth?.first?.profile else { continue }
            let isLast = i == n - 1
            let t = n == 1 ? 1 : Double(i) / Double(n - 1)
            let label: String? = i == 0 && n > 1 ? "step \(probe.step) (first probe)"
                : isLast ? "step \(probe.step)" + (n > 1 ? " (last probe)" : "")
                : i == n / 2 && n > 2 ? "intermediate probes" : nil
            profile.marks.append(.line(LineMark(points: Series.indexed(shares), color: isLast ? color : Theme.shade(color, -0.7 + 0.95 * t),
                                                width: isLast ? 2.4 : 1.3, label: label,
                                                marker: isLast ? .circle : nil)))
        }
        return figure(record, panels: [heat, profile])
    }

    static func figure(_ record: RunRecord, panels: [PanelSpec]) -> ChartFigure {
        let spec = FigureSpec(title: "Gradient flow through depth", subtitle: record.chartSubtitle,
                              notes: record.statusNotes, width: 1000, columns: 2, plotHeight: 300, panels: panels)
        return ChartFigure(id: .depth, title: "Gradient flow through depth", spec: spec)
    }
}

extension DepthChart {
    /// The depth profiles of every stacked run on one axis, at the first probe (left: the
    /// architecture at initialisation) and at the last (right: after training), each run in its
    /// comparison style. nil when no run has two or more layers.
    static func comparison(_ records: [RunRecord], _ styles: [CompareCharts.RunStyle]) -> ChartFigure? {
        let stacked = zip(records, styles).filter { applies(to: $0.0) }
        guard !stacked.isEmpty else { return nil }
        let deepest = stacked.map { $0.0.config.layers }.max() ?? 2
        func profiles(_ record: RunRecord) -> [ProbeRecord] {
            record.probes.filter { ($0.depth?.first?.profile.count ?? 0) > 1 }
        }
        let all = stacked.flatMap { profiles($0.0).flatMap { $0.depth?.first?.profile ?? [] } }.filter { $0.isFinite && $0 > 0 }
        let lo = max(min(all.min() ?? 0.5, 0.8), pow(10, -maxDecades)), hi = max(all.max() ?? 1, 1.25)
        func panel(_ title: String, last: Bool) -> PanelSpec {
            var p = PanelSpec(title: title)
            p.legend = .below
            p.x = AxisSpec(title: "layer l (0 = bottom)", domain: (-0.2, Double(deepest - 1) + 0.2), integer: true)
            p.y = AxisSpec(title: "mean_{t} D[l] / mean_{t} D[top]", kind: .log10, domain: (lo / 1.25, hi * 1.25))
            p.emptyMessage = "no depth probe recorded"
            for (record, style) in stacked {
                guard let probe = last ? profiles(record).last : profiles(record).first,
                      let shares = probe.depth?.first?.profile else { continue }
                p.marks.append(.line(LineMark(points: Series.indexed(shares), color: style.color, width: 2.2,
                                              dash: style.dash, label: label(record), marker: style.marker)))
            }
            return p
        }
        let steps = stacked.compactMap { profiles($0.0).last?.step }
        let panels = [panel("At initialisation (first probe)", last: false),
                      panel("After training (last probe" + (Set(steps).count == 1 ? ", step \(steps[0]))" : ")"), last: true)]
        let spec = FigureSpec(title: "Gradient through depth across runs", subtitle: CompareCharts.subtitle(stacked.map(\.0)),
                              notes: CompareCharts.notes(records), width: 1000, columns: 2, plotHeight: 300, panels: panels)
        return ChartFigure(id: .compareDepth, title: "Gradient through depth across runs", spec: spec)
    }

    /// The run's name, with its wiring when the name does not already say it.
    static func label(_ record: RunRecord) -> String {
        let wiring = record.config.connections ?? .plain
        if wiring == .plain || record.displayName.contains(wiring.rawValue) { return record.displayName }
        return record.displayName + " (\(wiring.rawValue))"
    }
}
