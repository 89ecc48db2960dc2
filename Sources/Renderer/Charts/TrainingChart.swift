// training: loss and perplexity (train per step, smoothed, and validation) against step, and the
// global gradient norm before clipping on a log axis with the clip threshold and the clipped steps.

import DiagnoseRecord
import Foundation

enum TrainingChart {
    static func figure(_ record: RunRecord) -> ChartFigure {
        let color = Theme.cellColor(record.config.cell)
        let steps = record.steps
        let xs = steps.map { Double($0.step) }
        let lastStep = Double(max(record.config.steps, (steps.last?.step ?? 0) + 1))
        let window = max(1, steps.count / 40)
        let divergence = record.status.divergedAtStep

        // The three panels share the step axis; only the bottom one repeats its title.
        func stepAxis(titled: Bool = false) -> AxisSpec {
            AxisSpec(title: titled ? "training step" : nil, domain: (0, max(1, lastStep)), integer: true)
        }
        func divergenceRule(_ label: Bool) -> Mark? {
            guard let d = divergence else { return nil }
            return .rule(RuleMark(orientation: .vertical, value: Double(d), color: Theme.noteColor, width: 1.5, dash: [],
                                  label: label ? "diverged at step \(d)" : nil))
        }
        let empty = "no training steps recorded"
        // Learning-rate decays (--lr-decay): a dotted line at the first step taken with the smaller rate.
        let decaySteps = zip(steps.dropFirst(), steps).filter { $0.0.learningRate < $0.1.learningRate }.map { Double($0.0.step) }
        func decayRules(legend: Bool) -> [Mark] {
            decaySteps.enumerated().map { i, x in
                let factor = record.config.learningRateDecay.map { " × \(NumberFormat.short($0))" } ?? " lowered"
                let label = "learning rate\(factor) (\(decaySteps.count) time\(decaySteps.count == 1 ? "" : "s"))"
                return .rule(RuleMark(orientation: .vertical, value: x, color: Theme.decayColor, width: 1.2, dash: [2, 3],
                                      legendLabel: legend && i == 0 ? label : nil))
            }
        }

        // Loss.
        var loss = PanelSpec(title: "Loss (cross-entropy, nats per token)")
        loss.x = stepAxis()
        loss.y = AxisSpec(title: "loss")
        loss.emptyMessage = empty
        if !steps.isEmpty {
            let raw = steps.map(\.loss)
            if window > 1 {
                loss.marks.append(.line(LineMark(points: Array(zip(xs, raw)).map { (x: $0.0, y: $0.1) }, color: Theme.shade(color, -0.65),
                                                 width: 0.9, label: "train, every step")))
                loss.marks.append(.line(LineMark(points: Array(zip(xs, Series.smoothed(raw, window: window))).map { (x: $0.0, y: $0.1) },
                                                 color: color, width: 2.2, label: "train, mean of \(window) steps")))
            } else {
                loss.marks.append(.line(LineMark(points: Array(zip(xs, raw)).map { (x: $0.0, y: $0.1) }, color: color, width: 2,
                                                 label: "train")))
            }
        }
        let evals = record.evaluations
        if !evals.isEmpty {
            loss.marks.append(.line(LineMark(points: evals.map { (x: Double($0.step), y: $0.validLoss) }, color: Color(hex: 0x222222),
                                             width: 1.6, dash: [5, 3], label: "validation", marker: .square, markerSize: 2.6)))
        }
        loss.marks += decayRules(legend: true)
        if let rule = divergenceRule(true) { loss.marks.append(rule) }

        // Perplexity on a log axis.
        var perplexity = PanelSpec(title: "Perplexity = e^{loss}")
        perplexity.x = stepAxis()
        perplexity.y = AxisSpec(title: "perplexity", kind: .log10)
        perplexity.emptyMessage = empty
        if !steps.isEmpty {
            let smoothed = Series.smoothed(steps.map(\.loss), window: window).map { exp($0) }
            perplexity.marks.append(.line(LineMark(points: Array(zip(xs, smoothed)).map { (x: $0.0, y: $0.1) }, color: color,
                                                   width: 2.2, label: window > 1 ? "train, mean of \(window) steps" : "train")))
        }
        if !evals.isEmpty {
            perplexity.marks.append(.line(LineMark(points: evals.map { (x: Double($0.step), y: $0.validPerplexity) },
                                                   color: Color(hex: 0x222222), width: 1.6, dash: [5, 3], label: "validation",
                                                   marker: .square, markerSize: 2.6)))
        }
        perplexity.marks += decayRules(legend: false)
        if let rule = divergenceRule(false) { perplexity.marks.append(rule) }

        // Gradient norm before clipping.
        var norm = PanelSpec(title: "Global gradient norm before clipping")
        norm.x = stepAxis(titled: true)
        // Extra room at the bottom keeps the clipped-step ticks clear of the curve.
        norm.y = AxisSpec(title: "‖∇‖_{2}", kind: .log10, padding: 0.12)
        norm.emptyMessage = empty
        let clip = record.config.clip
        // A log imported from elsewhere may lack the norm (NaN).
        let normed = steps.filter(\.gradientNorm.isFinite)
        if !normed.isEmpty {
            norm.marks.append(.line(LineMark(points: normed.map { (x: Double($0.step), y: $0.gradientNorm) },
                                             color: color.withAlpha(0.75), width: 1, label: "‖∇‖ at each step")))
            let clipped = steps.filter(\.clipped).map { Double($0.step) }
            if !clipped.isEmpty {
                let share = Double(clipped.count) / Double(steps.count) * 100
                norm.marks.append(.rug(RugMark(xs: clipped, color: Color(hex: 0x333333),
                                               label: "clipped step (\(clipped.count) of \(steps.count), \(NumberFormat.short(share))%)")))
            }
        }
        if clip > 0 {
            norm.marks.append(.rule(RuleMark(orientation: .horizontal, value: clip, color: Color(hex: 0x333333), width: 1.3,
                                             dash: [6, 3], legendLabel: "clip threshold \(NumberFormat.short(clip))")))
        }
        if let rule = divergenceRule(false) { norm.marks.append(rule) }

        let spec = FigureSpec(title: "Training", subtitle: record.chartSubtitle, notes: record.statusNotes, width: 960,
                              columns: 1, plotHeight: 170, panels: [loss, perplexity, norm])
        return ChartFigure(id: .training, title: "Training curves", spec: spec)
    }
}
