// The comparison charts when runs come in seed groups (runs that differ only in the seed): each
// group is drawn once, as its median with a band for the seed spread (min to max, or the
// interquartile range from five seeds), so a difference between settings can be read against the
// seed-to-seed noise.

import DiagnoseRecord
import Foundation

extension CompareCharts {
    /// At most this many eigenvalue panels in compare-spectra; beyond it the chart keeps the
    /// overlaid singular values only (each run's page has its own spectrum).
    static let maximumSpectrumPanels = 8

    static func groupedFigures(_ groups: [SeedGroup]) -> [ChartFigure] {
        let representatives = groups.map { $0.records[0] }
        let styles = runStyles(representatives)
        return [groupedLagProfiles(groups, styles), groupedTraining(groups, styles),
                spectra(Array(representatives.prefix(maximumSpectrumPanels)), Array(styles.prefix(maximumSpectrumPanels)))]
    }

    static func groupSubtitle(_ groups: [SeedGroup]) -> String {
        let runs = groups.map(\.records.count).reduce(0, +)
        let seeds = Set(groups.map(\.records.count))
        let seedText = seeds.count == 1 ? "\(seeds.first!) seeds each" : "\(seeds.min()!)–\(seeds.max()!) seeds each"
        return "\(runs) runs in \(groups.count) settings, \(seedText): lines are medians, bands the seed spread"
    }

    /// "median and min to max of 3 seeds" or "median and interquartile range of 6 seeds".
    static func spreadLabel(_ count: Int) -> String {
        count == 1 ? "one seed" : "median, band \(count >= 5 ? "interquartile range" : "min to max") of \(count) seeds"
    }

    static func groupedLagProfiles(_ groups: [SeedGroup], _ styles: [RunStyle]) -> ChartFigure {
        let moments: [ProbeMoment] = [.first, .last]
        let profiles: [[[Double]]] = moments.map { moment in
            groups.map { group in
                let series = group.records.compactMap { ProfileAtProbe($0, moment)?.hidden }
                return SeedSpread.pointwise(series).map { $0?.median ?? .nan }
            }
        }
        let spreads: [[[SeedSpread?]]] = moments.map { moment in
            groups.map { group in SeedSpread.pointwise(group.records.compactMap { ProfileAtProbe($0, moment)?.hidden }) }
        }
        let values = spreads.joined().joined().compactMap { $0 }.flatMap { [$0.lower, $0.upper, $0.median] }
        let (yDomain, _) = sharedLogDomain(values)
        let maxLag = Double(max(1, (profiles.joined().map(\.count).max() ?? 1) - 1))
        func panel(_ m: Int, title: String, axis: Bool) -> PanelSpec {
            var p = PanelSpec(title: title)
            p.x = AxisSpec(title: "lag ℓ = t − j (steps back)", include: [0, maxLag], padding: 0.01, integer: true)
            p.y = AxisSpec(title: axis ? "g(ℓ) / g(0)" : nil, kind: .log10, domain: yDomain)
            p.y.showTickLabels = axis
            p.legend = .below
            p.emptyMessage = "no run has a probe"
            p.marks.append(.rule(RuleMark(orientation: .horizontal, value: 1e-3, color: Color(hex: 0x888888), width: 1, dash: [2, 3],
                                          label: "horizon 10^{−3}", labelAtStart: true, labelBelow: true)))
            for (g, group) in groups.enumerated() {
                let spread = spreads[m][g]
                guard spread.contains(where: { $0 != nil }) else { continue }
                let xs = spread.indices.map(Double.init)
                if group.records.count > 1 {
                    p.marks.append(.band(BandMark(xs: xs, lower: spread.map { $0?.lower ?? .nan }, upper: spread.map { $0?.upper ?? .nan },
                                                  color: styles[g].color.withAlpha(0.18))))
                }
                let median = profiles[m][g]
                p.marks.append(.line(LineMark(points: Series.indexed(median), color: styles[g].color, width: 2.4, dash: styles[g].dash,
                                              label: "\(Markup.escape(group.name)) (\(spreadLabel(group.records.count)))")))
            }
            return p
        }
        let panels = [panel(0, title: "At the first probe (initialisation)", axis: true), panel(1, title: "At the last probe", axis: false)]
        let spec = FigureSpec(title: "Vanishing vs preserved gradients across settings (seed medians and spread)",
                              subtitle: groupSubtitle(groups), notes: [], width: 780, columns: 2, plotHeight: 270, panels: panels)
        return ChartFigure(id: .compareLagProfiles, title: "Gradient decay across runs", spec: spec)
    }

    static func groupedTraining(_ groups: [SeedGroup], _ styles: [RunStyle]) -> ChartFigure {
        var (loss, norm) = trainingPanels(loss: "Training loss, running mean (median over seeds, band: spread)",
                                          norm: "Global gradient norm before clipping (median over seeds)",
                                          emptyLoss: "no evaluations recorded", emptyNorm: "no training steps recorded")
        for (g, group) in groups.enumerated() {
            let style = styles[g]
            let longest = group.records.map(\.steps.count).max() ?? 0
            let window = max(1, longest / 40)
            let losses = SeedSpread.pointwise(group.records.map { Series.smoothed($0.steps.map(\.loss), window: window) })
            if longest > 0 {
                let xs = losses.indices.map { Double($0 + 1) }
                if group.records.count > 1 {
                    loss.marks.append(.band(BandMark(xs: xs, lower: losses.map { $0?.lower ?? .nan },
                                                     upper: losses.map { $0?.upper ?? .nan }, color: style.color.withAlpha(0.18))))
                }
                loss.marks.append(.line(LineMark(points: zip(xs, losses.map { $0?.median ?? .nan }).map { (x: $0.0, y: $0.1) },
                                                 color: style.color, width: 2, dash: style.dash,
                                                 label: "\(Markup.escape(group.name)) (\(spreadLabel(group.records.count)))")))
            }
            if longest > 0 {
                let series = group.records.map { Series.smoothed($0.steps.map { log($0.gradientNorm) }, window: window) }
                let median = SeedSpread.pointwise(series).map { $0.map { exp($0.median) } ?? .nan }
                norm.marks.append(.line(LineMark(points: Series.indexed(median, from: 1), color: style.color, width: 2,
                                                 dash: style.dash, label: Markup.escape(group.name))))
            }
        }
        let spec = FigureSpec(title: "Training curves across settings", subtitle: groupSubtitle(groups), notes: [],
                              width: 1000, columns: 2, plotHeight: 300, panels: [loss, norm])
        return ChartFigure(id: .compareTraining, title: "Training curves across runs", spec: spec)
    }
}
