// spectrum: eigenvalues of the recurrent matrix in the complex plane, with the unit circle (and
// the 1/gamma circle when gamma != 1), first and last probe in two colours; beside them the
// singular values sorted. For gated cells the eigenvalues are those of each H x H gate block and
// the singular values those of the whole stacked matrix.

import DiagnoseRecord
import Foundation

enum SpectrumChart {
    static let firstColor = Color(hex: 0x9A9A9A)

    static func figure(_ record: RunRecord) -> ChartFigure {
        let color = Theme.cellColor(record.config.cell)
        let first = record.firstProbe, last = record.lastProbe
        let slots = record.layerSlots
        // Gated cells: one plane per block.
        let blockNames: [String] = {
            for slot in slots {
                if let layer = last?.layer(slot), layer.spectrum.whole.eigenvalues.isEmpty, !layer.spectrum.blocks.isEmpty {
                    return layer.spectrum.blocks.map(\.matrix)
                }
            }
            return []
        }()
        let planes = max(1, blockNames.count)
        var panels: [PanelSpec] = []
        for slot in slots.isEmpty ? [nil] : slots.map(Optional.some) {
            let suffix = slot.map { record.hasManyLayerSlots ? " — \($0.label)" : "" } ?? ""
            let firstLayer = slot.flatMap { first?.layer($0) }, lastLayer = slot.flatMap { last?.layer($0) }
            if blockNames.isEmpty {
                panels.append(plane(title: "Eigenvalues of W_{hh}" + suffix, first: firstLayer?.spectrum.whole,
                                    last: lastLayer?.spectrum.whole, gamma: lastLayer?.spectrum.gamma,
                                    firstStep: first?.step, lastStep: last?.step, color: color, compact: false,
                                    missing: record.probes.isEmpty ? "no probes recorded in this run" : "no eigenvalues recorded"))
            } else {
                for name in blockNames {
                    let f = firstLayer?.spectrum.blocks.first { $0.matrix == name }
                    let l = lastLayer?.spectrum.blocks.first { $0.matrix == name }
                    panels.append(plane(title: "\(Markup.escape(name)) block", first: f, last: l, gamma: nil,
                                        firstStep: first?.step, lastStep: last?.step, color: color, compact: true,
                                        missing: "no eigenvalues recorded"))
                }
            }
            // With small block planes in the row, the (wider) singular-value panel names the layer.
            let sTitle = blockNames.isEmpty ? "Singular values of W_{hh}"
                : (suffix.isEmpty ? "Singular values of W_{hh} (gates stacked)" : "σ_{i}(W_{hh})" + suffix)
            panels.append(singularPanel(title: sTitle, first: firstLayer?.spectrum.whole, last: lastLayer?.spectrum.whole,
                                        gamma: lastLayer?.spectrum.gamma, firstStep: first?.step, lastStep: last?.step,
                                        color: color, compact: !blockNames.isEmpty,
                                        missing: record.probes.isEmpty ? "no probes recorded in this run" : "no singular values recorded"))
        }
        let spec = FigureSpec(title: "Spectrum of the recurrent weights", subtitle: record.chartSubtitle,
                              notes: record.statusNotes, width: blockNames.isEmpty ? 900 : 1100, columns: planes + 1,
                              columnWeights: Array(repeating: 1.0, count: planes) + [blockNames.isEmpty ? 1.25 : 1.6],
                              plotHeight: blockNames.isEmpty ? 320 : 165, panels: panels)
        return ChartFigure(id: .spectrum, title: "Spectrum of the recurrent weights", spec: spec)
    }

    static func points(_ spectrum: MatrixSpectrum?) -> [(x: Double, y: Double)] {
        (spectrum?.eigenvalues ?? []).compactMap { $0.count >= 2 ? (x: $0[0], y: $0[1]) : nil }
    }

    static func plane(title: String, first: MatrixSpectrum?, last: MatrixSpectrum?, gamma: Double?, firstStep: Int?,
                      lastStep: Int?, color: Color, compact: Bool, missing: String) -> PanelSpec {
        var p = PanelSpec(title: title)
        p.equalAspect = true
        p.x = AxisSpec(title: "Re λ", include: [-1.08, 1.08], padding: 0.02)
        p.y = AxisSpec(title: "Im λ", include: [-1.08, 1.08], padding: 0.02)
        p.legend = compact ? .none : .below
        p.emptyMessage = missing
        guard first != nil || last != nil else { return p }
        p.marks.append(.circle(CircleMark(center: (0, 0), radius: 1, color: Theme.axisColor, width: 1,
                                          label: compact ? nil : "unit circle |λ| = 1")))
        if let gamma, gamma > 0, abs(1 / gamma - 1) > 1e-9 {
            p.marks.append(.circle(CircleMark(center: (0, 0), radius: 1 / gamma, color: Theme.axisColor, width: 1,
                                              dash: [4, 3], label: compact ? nil : "|λ| = 1/γ = \(NumberFormat.short(1 / gamma))")))
        }
        let radiusText: (MatrixSpectrum?) -> String = { s in s.map { "ρ = " + NumberFormat.short($0.spectralRadius) } ?? "" }
        if let first, first != last || last == nil {
            p.marks.append(.scatter(ScatterMark(points: points(first), color: firstColor, size: compact ? 2 : 2.6, filled: false,
                                                label: compact ? nil : "step \(firstStep ?? 0) (first probe), " + radiusText(first))))
        }
        if let last {
            p.marks.append(.scatter(ScatterMark(points: points(last), color: color.withAlpha(0.85), size: compact ? 1.9 : 2.4,
                                                label: compact ? nil : "step \(lastStep ?? 0) (last probe), " + radiusText(last))))
        }
        if compact {
            let text = [first, last].compactMap { $0 }.map { NumberFormat.short($0.spectralRadius) }.joined(separator: " → ")
            p.marks.append(.text(TextMark(x: -1.0, y: 1.0, text: "ρ " + text, style: Theme.annotation, horizontal: .left,
                                          vertical: .middle, boxed: true)))
        }
        return p
    }

    static func singularPanel(title: String, first: MatrixSpectrum?, last: MatrixSpectrum?, gamma: Double?,
                              firstStep: Int?, lastStep: Int?, color: Color, compact: Bool, missing: String) -> PanelSpec {
        var p = PanelSpec(title: title)
        p.legend = .below
        p.emptyMessage = missing
        let all = ((first?.singularValues ?? []) + (last?.singularValues ?? [])).filter { $0.isFinite && $0 > 0 }
        let useLog = (all.max() ?? 1) / max(all.min() ?? 1, 1e-300) > 30
        p.x = AxisSpec(title: "rank i (largest first)", integer: true)
        p.y = AxisSpec(title: "σ_{i}", kind: useLog ? .log10 : .linear, include: useLog ? [1] : [0, 1])
        guard first != nil || last != nil else { return p }
        if let first, first != last || last == nil {
            p.marks.append(.line(LineMark(points: Series.indexed(first.singularValues, from: 1), color: firstColor, width: 1.6)))
            // With compact eigenvalue planes beside it, this legend speaks for their markers too.
            p.extraLegend.append(LegendEntry(label: "step \(firstStep ?? 0) (first probe)",
                                             sample: compact ? .lineWithMarker(firstColor, width: 1.6, dash: [], .circle, filled: false)
                                                 : .line(firstColor, width: 1.6, dash: [])))
        }
        if let last {
            p.marks.append(.line(LineMark(points: Series.indexed(last.singularValues, from: 1), color: color, width: 2.2)))
            p.extraLegend.append(LegendEntry(label: "step \(lastStep ?? 0) (last probe)",
                                             sample: compact ? .lineWithMarker(color, width: 2.2, dash: [], .circle)
                                                 : .line(color, width: 2.2, dash: [])))
        }
        p.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1, color: Theme.referenceColor, width: 1, dash: [4, 3],
                                      label: "σ = 1")))
        if let gamma, gamma > 0, abs(1 / gamma - 1) > 1e-9 {
            p.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1 / gamma, color: Theme.referenceColor, width: 1,
                                          dash: [1.5, 3], label: "σ = 1/γ")))
        }
        return p
    }
}
