// Charts that put several runs side by side: the lag profiles of all runs on one axis (the
// headline picture), their training curves overlaid, and their spectra side by side. Each run is
// drawn in its cell's fixed colour; runs of the same cell are told apart by dash pattern and shade.

import DiagnoseRecord
import Foundation

public enum CompareCharts {
    /// Ids in the order `render` returns them.
    public static let ids = ["compare-lag-profiles", "compare-training", "compare-spectra"]

    /// The comparison charts of `records` (meant for two or more runs; one run or none still gives
    /// charts, with notes).
    public static func render(_ records: [RunRecord], options: RenderOptions) throws -> [ChartImage] {
        try renderFigures(records, options: options).map(\.image)
    }

    static func renderFigures(_ records: [RunRecord], options: RenderOptions) throws -> [(image: ChartImage, figure: RenderedFigure)] {
        let typesetter = try Typesetter(options: options)
        return try ChartFigure.renderAll(figures(records), typesetter: typesetter)
    }

    static func figures(_ records: [RunRecord]) -> [ChartFigure] {
        let styles = runStyles(records)
        return [lagProfiles(records, styles), training(records, styles), spectra(records, styles)]
    }

    struct RunStyle {
        var color: Color
        var dash: [Double]
        var marker: MarkerShape
    }

    /// Colour by cell; the second, third ... run of the same cell gets a darker shade, a dash
    /// pattern and another marker so that it stays distinguishable without colour.
    static func runStyles(_ records: [RunRecord]) -> [RunStyle] {
        var seen: [String: Int] = [:]
        let dashes: [[Double]] = [[], [7, 3], [2, 2.5], [8, 3, 2, 3]]
        let markers: [MarkerShape] = [.circle, .square, .triangle, .diamond]
        return records.map { r in
            let k = seen[r.config.cell, default: 0]
            seen[r.config.cell] = k + 1
            let base = Theme.cellColor(r.config.cell)
            let color = k == 0 ? base : Theme.shade(base, k % 2 == 1 ? 0.3 : -0.3)
            return RunStyle(color: color, dash: dashes[k % dashes.count], marker: markers[k % markers.count])
        }
    }

    static func subtitle(_ records: [RunRecord]) -> String {
        let names = records.map { "“\($0.displayName)” (\($0.cellLabel))" }
        return records.isEmpty ? "no runs" : "\(records.count) run\(records.count == 1 ? "" : "s"): " + names.joined(separator: ", ")
    }

    static func notes(_ records: [RunRecord]) -> [String] {
        var notes = records.filter { $0.status.divergedAtStep != nil }.map { "run “\($0.displayName)” diverged at step \($0.status.divergedAtStep!)" }
        if records.count < 2 { notes.append("comparison needs two or more runs; \(records.count) given") }
        return notes
    }

    // MARK: compare-lag-profiles

    static func lagProfiles(_ records: [RunRecord], _ styles: [RunStyle]) -> ChartFigure {
        var p = PanelSpec(title: "Lag profile g(ℓ) / g(0) at the last probe (top layer, forward, hidden state)")
        p.x = AxisSpec(title: "lag ℓ = t − j (steps back)", include: [0], padding: 0.01, integer: true)
        p.y = AxisSpec(title: "g(ℓ) / g(0)", kind: .log10, include: [1], padding: 0.03, maxDecades: 24)
        p.legend = .below
        p.emptyMessage = records.isEmpty ? "no runs given" : "no run has a probe"
        var missing: [String] = []
        var anyCell = false
        for (record, style) in zip(records, styles) {
            guard let slot = record.topForwardSlot, let layer = record.lastProbe?.layer(slot) else {
                missing.append(record.displayName)
                continue
            }
            let profile = Series.normalized(layer.lagProfile)
            var label = "\(record.displayName) (\(record.cellLabel))"
            if let d = layer.decayPerStep { label += ": \(NumberFormat.short(d)) per step" }
            label += layer.horizon.map { ", horizon \($0)" } ?? ", no horizon"
            p.marks.append(.line(LineMark(points: Series.indexed(profile), color: style.color, width: 2.6, dash: style.dash,
                                          label: label)))
            // Direct label in the margin, level with the end of the line.
            if let end = profile.indices.last(where: { profile[$0].isFinite && profile[$0] > 0 }) {
                p.marks.append(.endLabel(EndLabelMark(y: profile[end], text: record.displayName, color: style.color)))
            }
            if let cell = layer.cellLagProfile {
                anyCell = true
                p.marks.append(.line(LineMark(points: Series.indexed(Series.normalized(cell)), color: style.color.withAlpha(0.8),
                                              width: 1.4, dash: [2, 2.5], label: "\(record.displayName): cell state c")))
            }
        }
        p.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1e-3, color: Color(hex: 0x888888), width: 1, dash: [2, 3],
                                      label: "horizon threshold 10^{−3}", labelAtStart: false)))
        if !missing.isEmpty { p.notes.append("no probes in: " + missing.joined(separator: ", ")) }
        var caption = "The headline picture: for every run, how much of the gradient survives ℓ steps back, relative to "
            + "the same-step gradient, at the last probe (log axis). A vanishing gradient falls as a steep straight line "
            + "(exponential decay); a preserved one stays within a few decades of 1 across the whole window."
            + (anyCell ? " Dotted lines are the LSTM's cell state, the path its gradient mostly takes." : "")
            + " Colours: RNN vermillion, LSTM blue, GRU green."
        let facts = records.compactMap { record -> String? in
            guard let layer = record.topForwardSlot.flatMap({ record.lastProbe?.layer($0) }),
                  let d = layer.decayPerStep, d.isFinite else { return nil }
            return "\(record.name) keeps \(NumberFormat.short(d)) per step"
                + (layer.horizon.map { " (below 10⁻³ after \($0) steps)" } ?? " (never below 10⁻³ in the window)")
        }
        if !facts.isEmpty { caption += " Here: " + facts.joined(separator: "; ") + "." }
        let spec = FigureSpec(title: "Vanishing vs preserved gradients across runs", subtitle: subtitle(records),
                              notes: notes(records), width: 960, columns: 1, plotHeight: 400, panels: [p])
        return ChartFigure(id: "compare-lag-profiles", title: "Gradient decay across runs", caption: caption, spec: spec)
    }

    // MARK: compare-training

    static func training(_ records: [RunRecord], _ styles: [RunStyle]) -> ChartFigure {
        var loss = PanelSpec(title: "Loss (training: running mean; validation: markers)")
        loss.x = AxisSpec(title: "training step", include: [0], padding: 0.01, integer: true)
        loss.y = AxisSpec(title: "loss (nats per token)")
        loss.legend = .below
        loss.emptyMessage = records.isEmpty ? "no runs given" : "no training steps recorded"
        var norm = PanelSpec(title: "Global gradient norm before clipping (running mean)")
        norm.x = loss.x
        norm.y = AxisSpec(title: "‖∇‖_{2}", kind: .log10)
        norm.legend = .below
        norm.emptyMessage = loss.emptyMessage
        for (record, style) in zip(records, styles) {
            let xs = record.steps.map { Double($0.step) }
            let window = max(1, record.steps.count / 40)
            if !record.steps.isEmpty {
                let smooth = Series.smoothed(record.steps.map(\.loss), window: window)
                loss.marks.append(.line(LineMark(points: zip(xs, smooth).map { (x: $0.0, y: $0.1) }, color: style.color, width: 2,
                                                 dash: style.dash, label: "\(record.displayName) train")))
                let norms = Series.smoothed(record.steps.map { log($0.gradientNorm) }, window: window).map { exp($0) }
                norm.marks.append(.line(LineMark(points: zip(xs, norms).map { (x: $0.0, y: $0.1) }, color: style.color, width: 2,
                                                 dash: style.dash, label: record.displayName)))
            }
            if !record.evaluations.isEmpty {
                loss.marks.append(.line(LineMark(points: record.evaluations.map { (x: Double($0.step), y: $0.validLoss) },
                                                 color: Theme.shade(style.color, 0.3), width: 1, dash: [3, 3],
                                                 label: "\(record.displayName) validation", marker: style.marker, markerSize: 3)))
            }
            if let d = record.status.divergedAtStep {
                loss.marks.append(.rule(RuleMark(orientation: .vertical, value: Double(d), color: Theme.noteColor, width: 1.3,
                                                 dash: [], label: "\(record.displayName) diverged at \(d)")))
            }
        }
        let caption = "Training loss (running mean over 1/40 of the run) and validation loss (markers) of every run, "
            + "and the gradient norm before clipping (geometric running mean, log axis). Lower is better; a gap that "
            + "opens between a run's training and validation curves is overfitting."
        let spec = FigureSpec(title: "Training curves across runs", subtitle: subtitle(records), notes: notes(records),
                              width: 1000, columns: 2, plotHeight: 300, panels: [loss, norm])
        return ChartFigure(id: "compare-training", title: "Training curves across runs", caption: caption, spec: spec)
    }

    // MARK: compare-spectra

    static func spectra(_ records: [RunRecord], _ styles: [RunStyle]) -> ChartFigure {
        var panels: [PanelSpec] = []
        let blockMarkers: [MarkerShape] = [.circle, .square, .triangle, .diamond]
        for (record, style) in zip(records, styles) {
            let spectrum = record.topForwardSlot.flatMap { record.lastProbe?.layer($0)?.spectrum }
            var p = PanelSpec(title: "\(record.displayName) (\(record.cellLabel))")
            p.equalAspect = true
            p.x = AxisSpec(title: "Re λ", include: [-1.08, 1.08], padding: 0.02)
            p.y = AxisSpec(title: "Im λ", include: [-1.08, 1.08], padding: 0.02)
            p.legend = .below
            p.emptyMessage = "no probes in this run"
            if let spectrum {
                p.marks.append(.circle(CircleMark(center: (0, 0), radius: 1, color: Color(hex: 0x444444), width: 1)))
                if !spectrum.whole.eigenvalues.isEmpty {
                    p.marks.append(.scatter(ScatterMark(points: SpectrumChart.points(spectrum.whole), color: style.color.withAlpha(0.85),
                                                        size: 2.3, label: "W_{hh}, ρ = \(NumberFormat.short(spectrum.whole.spectralRadius))")))
                } else {
                    for (i, block) in spectrum.blocks.enumerated() {
                        p.marks.append(.scatter(ScatterMark(points: SpectrumChart.points(block), color: style.color.withAlpha(0.8),
                                                            shape: blockMarkers[i % blockMarkers.count], size: 2.1,
                                                            filled: i % 2 == 0, label: "\(Markup.escape(block.matrix)), ρ = \(NumberFormat.short(block.spectralRadius))")))
                    }
                    if spectrum.blocks.isEmpty { p.emptyMessage = "no eigenvalues recorded" }
                }
            }
            panels.append(p)
        }
        // All runs' singular values on one axis.
        var sv = PanelSpec(title: "Singular values of W_{hh}")
        sv.x = AxisSpec(title: "rank i (largest first)", integer: true)
        sv.y = AxisSpec(title: "σ_{i}", kind: .log10, include: [1])
        sv.legend = .below
        sv.emptyMessage = records.isEmpty ? "no runs given" : "no probes recorded"
        for (record, style) in zip(records, styles) {
            guard let spectrum = record.topForwardSlot.flatMap({ record.lastProbe?.layer($0)?.spectrum }) else { continue }
            sv.marks.append(.line(LineMark(points: Series.indexed(spectrum.whole.singularValues, from: 1), color: style.color,
                                           width: 2, dash: style.dash, label: record.displayName)))
        }
        sv.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1, color: Color(hex: 0x555555), width: 1, dash: [4, 3],
                                       label: "σ = 1")))
        panels.append(sv)
        let columns = min(4, panels.count)
        let caption = "The eigenvalues of each run's recurrent matrix at its last probe (top layer, forward) with the unit "
            + "circle; for gated cells every gate block is shown with its own marker. The last panel overlays the sorted "
            + "singular values of all runs. A simple RNN whose eigenvalues and singular values sit well inside 1 "
            + "shrinks its gradient at every step."
        let spec = FigureSpec(title: "Recurrent spectra across runs", subtitle: subtitle(records), notes: notes(records),
                              width: max(700, min(1300, Double(columns) * 300)), columns: columns, plotHeight: 250, panels: panels)
        return ChartFigure(id: "compare-spectra", title: "Spectra across runs", caption: caption, spec: spec)
    }
}
