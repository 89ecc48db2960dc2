// Charts that put several runs side by side: the lag profiles of all runs on one axis (the
// headline picture), their training curves overlaid, and their spectra side by side. Each run is
// drawn in its cell's fixed colour; runs of the same cell are told apart by dash pattern and shade.

import DiagnoseRecord
import Foundation

public enum CompareCharts {
    /// Ids in the order `render` returns them (`.compareDepth` follows when a run has two or more layers).
    public static let ids: [ChartID] = [.compareLagProfiles, .compareTraining, .compareSpectra]

    /// The ids `render` returns for `records`.
    public static func ids(for records: [RunRecord]) -> [ChartID] {
        ids + (records.contains(where: DepthChart.applies) ? [.compareDepth] : [])
    }

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
        // Stacks add their depth profiles, one line per run (seed groups included).
        let depth = [DepthChart.comparison(records, runStyles(records))].compactMap { $0 }
        let groups = RunGroups.seedGroups(records)
        if groups.contains(where: { $0.records.count > 1 }) { return groupedFigures(groups) + depth }
        let styles = runStyles(records)
        let shown = min(records.count, maximumSpectrumPanels)
        return [lagProfiles(records, styles), training(records, styles),
                spectra(Array(records.prefix(shown)), Array(styles.prefix(shown)))] + depth
    }

    struct RunStyle {
        var color: Color
        var dash: [Double]
        var marker: MarkerShape
    }

    /// Colour by cell; the second, third ... run of the same cell gets a darker shade, a dash
    /// pattern and another marker so that it stays distinguishable without colour.
    static func runStyles(_ records: [RunRecord]) -> [RunStyle] {
        var seen: [CellKind: Int] = [:]
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

    /// The probe a lag-profile panel draws: the first one (the architecture, before training has
    /// shaped the weights) or the last one (what training made of it).
    enum ProbeMoment { case first, last }

    /// One run's top-layer forward lag profile at one probe, normalised to lag 0.
    struct ProfileAtProbe {
        var step: Int
        var layer: LayerProbe
        /// g(ℓ)/g(0) of the hidden state.
        var hidden: [Double]
        /// The same for the LSTM's cell state.
        var cell: [Double]?
        /// r(L)/r(0), r the lag profile of the recall answers only, L = corpus.recall.lag (synthetic corpus).
        var recall: (lag: Int, share: Double)?

        init?(_ record: RunRecord, _ moment: ProbeMoment) {
            guard let probe = moment == .first ? record.firstProbe : record.lastProbe,
                  let layer = probe.topForward else { return nil }
            step = probe.step
            self.layer = layer
            hidden = Series.normalized(layer.lagProfile)
            cell = layer.cellLagProfile.map(Series.normalized)
            if let lag = record.corpus.recall?.lag, let r = layer.recallLagProfile, lag > 0, lag < r.count,
               let r0 = r[0], let rL = r[lag], r0.isFinite, r0 > 0, rL.isFinite {
                recall = (lag, rL / r0)
            }
        }

        /// Every value this profile puts on the log axis (finite and positive).
        var plotted: [Double] {
            (hidden + (cell ?? []) + (recall.map { [$0.share] } ?? [])).filter { $0.isFinite && $0 > 0 }
        }
    }

    /// How many decades below its top the shared log axis may reach: enough for a clean exponential
    /// decay over a typical window, not so many that one run's 10⁻⁴⁰ flattens the others.
    static let lagProfileDecades = 14.0

    /// The y domain shared by the panels: all finite positive values, 1 and the 10⁻³ threshold, with
    /// the bottom clamped to `lagProfileDecades` below the top, padded by 3 % of the decades.
    /// Returns the domain and the clamp (values below it lie outside the picture).
    static func sharedLogDomain(_ values: [Double]) -> (domain: (lo: Double, hi: Double), floor: Double) {
        let all = (values + [1, 1e-3]).filter { $0.isFinite && $0 > 0 }
        let top = log10(all.max()!)
        let bottom = max(log10(all.min()!), top - lagProfileDecades)
        let pad = (top - bottom) * 0.03
        return ((pow(10, max(bottom - pad, -307)), pow(10, min(top + pad, 307))), pow(10, bottom))
    }

    static func stepText(_ steps: [Int]) -> String {
        let distinct = Array(Set(steps)).sorted()
        return distinct.count == 1 ? "step \(distinct[0])" : "steps " + distinct.map(String.init).joined(separator: ", ")
    }

    static func lagProfiles(_ records: [RunRecord], _ styles: [RunStyle]) -> ChartFigure {
        let firsts = records.map { ProfileAtProbe($0, .first) }
        let lasts = records.map { ProfileAtProbe($0, .last) }
        // Two panels when at least one run has a first probe distinct from its last.
        let twoPanels = zip(firsts, lasts).contains { f, l in
            guard let f, let l else { return false }
            return f.step != l.step
        }
        let values = (firsts + lasts).compactMap { $0?.plotted }.joined()
        let (yDomain, floor) = sharedLogDomain(Array(values))
        let maxLag = (firsts + lasts).compactMap { $0.map { Double(max(0, $0.hidden.count - 1)) } }.max() ?? 1
        let recallLags = Array(Set((firsts + lasts).compactMap { $0?.recall?.lag })).sorted()

        func panel(title: String, profiles: [ProfileAtProbe?], sharedAxisShown: Bool) -> PanelSpec {
            var p = PanelSpec(title: title)
            p.x = AxisSpec(title: "lag ℓ = t − j (steps back)", include: [0, maxLag], padding: 0.01, integer: true)
            p.y = AxisSpec(title: sharedAxisShown ? "g(ℓ) / g(0)" : nil, kind: .log10, domain: yDomain)
            p.y.showTickLabels = sharedAxisShown
            p.legend = .below
            p.emptyMessage = records.isEmpty ? "no runs given" : "no run has a probe"
            for lag in recallLags {
                p.marks.append(.rule(RuleMark(orientation: .vertical, value: Double(lag), color: Color(hex: 0x777777), width: 1,
                                              dash: [4, 3], label: "recall lag \(lag)", labelAtStart: true)))
            }
            p.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1e-3, color: Color(hex: 0x888888), width: 1, dash: [2, 3],
                                          label: "horizon 10^{−3}", labelAtStart: true, labelBelow: true)))
            var below: [String] = []
            var recallMarks: [Mark] = []  // drawn last, over every line
            for (run, ((record, style), profile)) in zip(zip(records, styles), profiles).enumerated() {
                guard let profile else { continue }
                // The cell is in the subtitle and the colour; the legend keeps to the numbers.
                var label = record.displayName
                if let d = profile.layer.decayPerStep, d.isFinite { label += ": ×\(NumberFormat.plain(d, decimals: 2)) per step" }
                label += profile.layer.horizon.map { ", horizon \($0)" } ?? ", no horizon"
                p.marks.append(.line(LineMark(points: Series.indexed(profile.hidden), color: style.color, width: 2.6,
                                              dash: style.dash, label: label, group: run)))
                // Direct label in the margin, level with the end of the line (inside the axis).
                if let end = profile.hidden.indices.last(where: { profile.hidden[$0].isFinite && profile.hidden[$0] > 0 }) {
                    p.marks.append(.endLabel(EndLabelMark(y: max(profile.hidden[end], yDomain.lo), text: record.displayName,
                                                          color: style.color, group: run)))
                }
                if let cell = profile.cell {
                    p.marks.append(.line(LineMark(points: Series.indexed(cell), color: style.color.withAlpha(0.8), width: 1.4,
                                                  dash: [2, 2.5], label: "\(record.displayName): cell state c", group: run)))
                }
                if let recall = profile.recall {
                    let point = [(x: Double(recall.lag), y: recall.share)]
                    recallMarks.append(.scatter(ScatterMark(points: point, color: .white, shape: .diamond, size: 5.4)))
                    recallMarks.append(.scatter(ScatterMark(points: point, color: Theme.shade(style.color, -0.1), shape: .diamond,
                                                            size: 4.0)))
                }
                let lowest = profile.plotted.min() ?? 1
                if lowest < floor * (1 - 1e-9) {
                    below.append("\(record.displayName) goes below the axis (to \(NumberFormat.short(lowest)))")
                }
            }
            p.marks += recallMarks
            if !recallLags.isEmpty {
                p.extraLegend.append(LegendEntry(label: "recall answers' gradient reaching the letter to recall",
                                                 sample: .marker(.diamond, Theme.referenceColor, filled: true)))
            }
            p.remarks = below
            return p
        }

        var panels: [PanelSpec]
        if twoPanels {
            // A run whose only probe is its last is drawn on the right alone.
            let leftProfiles = zip(firsts, lasts).map { f, l -> ProfileAtProbe? in f?.step == l?.step ? nil : f }
            let firstSteps = leftProfiles.compactMap { $0?.step }
            let lastSteps = lasts.compactMap { $0?.step }
            let atStart = firstSteps.allSatisfy { $0 == 0 } ? "At initialisation (step 0): the architecture"
                                                             : "At the first probe (\(stepText(firstSteps)))"
            var right = panel(title: "After training (\(stepText(lastSteps)))", profiles: lasts, sharedAxisShown: false)
            let single = zip(records, zip(firsts, lasts)).compactMap { r, pair in
                pair.0 != nil && pair.0?.step == pair.1?.step ? r.displayName : nil
            }
            if !single.isEmpty { right.remarks.append("one probe only, drawn here: " + single.joined(separator: ", ")) }
            panels = [panel(title: atStart, profiles: leftProfiles, sharedAxisShown: true), right]
        } else {
            let steps = lasts.compactMap { $0?.step }
            let title = steps.isEmpty ? "Lag profile g(ℓ) / g(0)" : "Lag profile g(ℓ) / g(0) at the only probe (\(stepText(steps)))"
            panels = [panel(title: title, profiles: lasts, sharedAxisShown: true)]
        }

        var figureNotes = notes(records)
        let missing = zip(records, lasts).filter { $0.1 == nil }.map { $0.0.displayName }
        if !missing.isEmpty && !records.isEmpty && missing.count < records.count {
            figureNotes.append("no probes in: " + missing.joined(separator: ", "))
        }
        let spec = FigureSpec(title: twoPanels ? "Vanishing vs preserved gradients: the architecture, then training"
                                               : "Vanishing vs preserved gradients across runs",
                              subtitle: subtitle(records), notes: figureNotes, width: twoPanels ? 780 : 640,
                              columns: panels.count, plotHeight: 270, panels: panels)
        return ChartFigure(id: .compareLagProfiles, title: "Gradient decay across runs", spec: spec)
    }

    // MARK: compare-training

    /// The two empty panels of compare-training: loss, and gradient norm on a log axis, against the step.
    static func trainingPanels(loss lossTitle: String, norm normTitle: String, emptyLoss: String,
                               emptyNorm: String) -> (loss: PanelSpec, norm: PanelSpec) {
        var loss = PanelSpec(title: lossTitle)
        loss.x = AxisSpec(title: "training step", include: [0], padding: 0.01, integer: true)
        loss.y = AxisSpec(title: "loss (nats per token)")
        loss.legend = .below
        loss.emptyMessage = emptyLoss
        var norm = PanelSpec(title: normTitle)
        norm.x = loss.x
        norm.y = AxisSpec(title: "‖∇‖_{2}", kind: .log10)
        norm.legend = .below
        norm.emptyMessage = emptyNorm
        return (loss, norm)
    }

    static func training(_ records: [RunRecord], _ styles: [RunStyle]) -> ChartFigure {
        let empty = records.isEmpty ? "no runs given" : "no training steps recorded"
        var (loss, norm) = trainingPanels(loss: "Loss (training: running mean; validation: markers)",
                                          norm: "Global gradient norm before clipping (running mean)",
                                          emptyLoss: empty, emptyNorm: empty)
        for (run, (record, style)) in zip(records, styles).enumerated() {
            let xs = record.steps.map { Double($0.step) }
            let window = max(1, record.steps.count / 40)
            if !record.steps.isEmpty {
                let smooth = Series.smoothed(record.steps.map(\.loss), window: window)
                loss.marks.append(.line(LineMark(points: zip(xs, smooth).map { (x: $0.0, y: $0.1) }, color: style.color, width: 2,
                                                 dash: style.dash, label: "\(record.displayName) train", group: run)))
                let norms = Series.smoothed(record.steps.map { log($0.gradientNorm) }, window: window).map { exp($0) }
                norm.marks.append(.line(LineMark(points: zip(xs, norms).map { (x: $0.0, y: $0.1) }, color: style.color, width: 2,
                                                 dash: style.dash, label: record.displayName, group: run)))
            }
            if !record.evaluations.isEmpty {
                loss.marks.append(.line(LineMark(points: record.evaluations.map { (x: Double($0.step), y: $0.validLoss) },
                                                 color: Theme.shade(style.color, 0.3), width: 1, dash: [3, 3],
                                                 label: "\(record.displayName) validation", marker: style.marker, markerSize: 3,
                                                 group: run)))
            }
            if let d = record.status.divergedAtStep {
                loss.marks.append(.rule(RuleMark(orientation: .vertical, value: Double(d), color: Theme.noteColor, width: 1.3,
                                                 dash: [], label: "\(record.displayName) diverged at \(d)")))
            }
        }
        let spec = FigureSpec(title: "Training curves across runs", subtitle: subtitle(records), notes: notes(records),
                              width: 1000, columns: 2, plotHeight: 300, panels: [loss, norm])
        return ChartFigure(id: .compareTraining, title: "Training curves across runs", spec: spec)
    }

    // MARK: compare-spectra

    static func spectra(_ records: [RunRecord], _ styles: [RunStyle]) -> ChartFigure {
        var panels: [PanelSpec] = []
        let blockMarkers: [MarkerShape] = [.circle, .square, .triangle, .diamond]
        for (record, style) in zip(records, styles) {
            let spectrum = record.lastProbe?.topForward?.spectrum
            var p = PanelSpec(title: "\(record.displayName) (\(record.cellLabel))")
            p.equalAspect = true
            p.x = AxisSpec(title: "Re λ", include: [-1.08, 1.08], padding: 0.02)
            p.y = AxisSpec(title: "Im λ", include: [-1.08, 1.08], padding: 0.02)
            p.legend = .below
            p.emptyMessage = "no probes in this run"
            if let spectrum {
                p.marks.append(.circle(CircleMark(center: (0, 0), radius: 1, color: Theme.axisColor, width: 1)))
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
            guard let spectrum = record.lastProbe?.topForward?.spectrum else { continue }
            sv.marks.append(.line(LineMark(points: Series.indexed(spectrum.whole.singularValues, from: 1), color: style.color,
                                           width: 2, dash: style.dash, label: record.displayName)))
        }
        sv.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1, color: Theme.referenceColor, width: 1, dash: [4, 3],
                                       label: "σ = 1")))
        panels.append(sv)
        let columns = min(4, panels.count)
        let spec = FigureSpec(title: "Recurrent spectra across runs", subtitle: subtitle(records), notes: notes(records),
                              width: max(700, min(1300, Double(columns) * 300)), columns: columns, plotHeight: 250, panels: panels)
        return ChartFigure(id: .compareSpectra, title: "Spectra across runs", spec: spec)
    }
}
