// The figure captions of the report: how to read each chart and what to compare, then the
// numbers behind it, computed from the records.
//
// A caption must stay true for any run: a simple RNN made to vanish or explode on purpose, a
// diverged run, a GRU, a real corpus, a run with no probes. So the fixed text only explains the
// picture (axes, marks, what a shape would mean) and what to compare; every statement about what
// *this* run did is a number read from its record. This is the only place captions are written:
// the charts draw pictures, and the switches below cover every `ChartID`.

import DiagnoseRecord
import Foundation

enum ReportCaptions {
    /// The caption of run chart `id` for the run `record`.
    static func run(_ id: ChartID, record: RunRecord, verdict: GradientVerdict) -> String {
        let numbers = RunNumbers(record: record, verdict: verdict)
        switch id {
        case .gradientFlow: return gradientFlow(numbers)
        case .gradientDecay: return gradientDecay(numbers)
        case .depth: return depth(record)
        case .spectrum: return spectrum(numbers)
        case .jacobianProducts: return jacobianProducts(numbers)
        case .gates: return gates(numbers)
        case .training: return training(numbers)
        case .compareLagProfiles, .compareTraining, .compareSpectra, .compareDepth, .sweep, .phase:
            return comparison(id, records: [record], verdicts: [verdict])
        }
    }

    /// The caption of comparison chart `id` over `records` (verdicts in the same order).
    static func comparison(_ id: ChartID, records: [RunRecord], verdicts: [GradientVerdict]) -> String {
        let runs = zip(records, verdicts).map { RunNumbers(record: $0.0, verdict: $0.1) }
        // Seed groups are drawn as medians with bands, one setting per line.
        let seeded = RunGroups.seedGroups(records).contains { $0.records.count > 1 }
        switch id {
        case .compareLagProfiles: return seeded ? groupedLagProfiles : compareLagProfiles(runs)
        case .compareTraining: return seeded ? groupedTraining : compareTraining(runs)
        case .compareSpectra: return seeded ? groupedSpectra : compareSpectra(runs)
        case .compareDepth: return compareDepth(records)
        case .sweep(let axis): return sweep(records, axis)
        case .phase(let across, let down): return phase(records, across, down)
        case .gradientFlow, .gradientDecay, .depth, .spectrum, .jacobianProducts, .gates, .training:
            guard let record = records.first, let verdict = verdicts.first else { return "" }
            return run(id, record: record, verdict: verdict)
        }
    }

    // MARK: Run charts

    static func gradientFlow(_ run: RunNumbers) -> String {
        var text = "Each cell is G[t][j], the mean size over the probe batch of the gradient of the loss at step t (row) "
            + "with respect to the state at step j ≤ t (column), on a logarithmic colour scale; the chart's subtitle "
            + "names the probe. The distance from the diagonal, t − j, is the lag: read a row leftwards to see how much "
            + "of the loss at t reaches earlier states. Colour that drops by decades within a few columns is a vanishing "
            + "gradient; colour that brightens away from the diagonal is a growing one."
        if run.hasCellState {
            text += " The cell-state panels show the same for the LSTM's cell state c(j), the additive path."
        }
        text += run.layerNote
        if let facts = run.horizonFacts() { text += " " + facts }
        return text
    }

    static func gradientDecay(_ run: RunNumbers) -> String {
        var text = "g(ℓ)/g(0) against the lag ℓ, on a log axis: the share of the gradient that reaches the state ℓ "
            + "steps back, one line per probe from the first (lightest) to the last (darkest). A straight line is a "
            + "constant factor per step; where a line crosses 10⁻³ is the horizon. Compare the first probe, the "
            + "architecture before training, with the last, which shows what training made of it."
        if run.hasCellState { text += " The cell-state panels show the LSTM's cell state c." }
        text += run.layerNote
        if run.isSimpleRNN {
            text += " The dotted line is the bound (γ·σ_max(W_h))^ℓ: it forces the gradient down only while γ·σ_max < 1."
        }
        if let facts = run.factorFacts() { text += " " + facts }
        if let claim = run.boundClaim() { text += " " + claim }
        return text
    }

    static func depth(_ record: RunRecord) -> String {
        let probes = record.probes.filter { ($0.depth?.first?.gradient.count ?? 0) > 1 }
        guard probes.last?.depth?.first != nil else { return "No depth probe was recorded for this run." }
        let wiring = record.config.connections ?? .plain
        var text = "Each cell on the left is the size of the gradient of the probe batch's mean loss J with respect to layer "
            + "l's hidden state at step t: every path counted, through the recurrence, the layers above"
            + (wiring == .plain ? "" : " and the skip connections") + ". On the right, its mean over t relative to the top "
            + "layer, on a logarithmic axis: a line that falls steeply towards layer 0 is a gradient vanishing through depth."
        let wiringText: String
        switch wiring {
        case .plain: wiringText = "plain (each layer reads the one below)"
        case .residual: wiringText = "residual (each layer's output adds the one below)"
        case .dense: wiringText = "dense (each layer reads the embedding and every layer below)"
        }
        text += " This \(record.config.layers)-layer stack is \(wiringText)."
        if let first = probes.first?.firstLayerShare, let last = probes.last?.firstLayerShare, first.isFinite, last.isFinite {
            text += " The bottom layer receives \(NumberFormat.short(first)) of the top layer's gradient at initialisation"
            text += probes.count > 1 ? " and \(NumberFormat.short(last)) at the last probe." : "."
        }
        return text
    }

    static func spectrum(_ run: RunNumbers) -> String {
        var text = "Eigenvalues λ of the recurrent weights W_h in the complex plane against the unit circle, at the "
            + "first and the last probe (the legend tells them apart), and the singular values σ_i, largest first. "
            + "The spectral radius ρ = max |λ| sets the long-run rate of W_h's powers; σ_max bounds how much one step "
            + "can stretch any direction."
        if run.isSimpleRNN {
            text += " Each step Jacobian diag(σ′)·W_h has norm at most γ·σ_max (γ is the activation's largest slope), "
                + "so γ·σ_max < 1 forces the gradient to vanish; above 1 it may vanish or grow, depending on the "
                + "activations: check the gradient-decay chart."
        } else {
            text += " For a gated cell these are its gate blocks; how much state, and gradient, is carried is decided "
                + "by the gates' values as well as these weights, so read them together with the gradient-decay and gates charts."
        }
        if let claim = run.boundClaim() { text += " " + claim }
        return text
    }

    static func jacobianProducts(_ run: RunNumbers) -> String {
        let state = run.record.config.cell == .lstm ? "the (h, c) state" : "the hidden state"
        var text = "Left: the leading singular values σ_i of the product of the first ℓ step Jacobians ∂s_t/∂s_(t−1) of "
            + "\(state) along the probe batch's first sequence (log axis): how much a change at its start can still "
            + "move the state ℓ steps later. Right: the same as rates per step, (1/ℓ)·log σ_i (finite-time Lyapunov "
            + "exponents): below 0 shrinks, above 0 grows. The first and the last probe are drawn; the gradient flows "
            + "back through the transposes of the same products, so compare σ₁ with the gradient-decay chart."
        if let facts = run.lyapunovFacts() { text += " " + facts }
        return text
    }

    static func gates(_ run: RunNumbers) -> String {
        var text = "Top: every unit's value (rows) at every step of the probe text (columns), at the probe the chart "
            + "names. Bottom: the share of saturated values at each probe (sigmoid below 0.1 or above 0.9, |tanh| above "
            + "0.9, relu exactly 0)."
        if run.record.config.cell == .rnn || run.gateNames == ["activation"] {
            switch run.record.config.activation {
            case .relu:
                text += " A simple RNN has no gates: this is its relu activation h; a unit at exactly 0 passes no gradient."
            case .linear:
                text += " A simple RNN has no gates: this is its linear activation h, whose slope is 1 everywhere, so nothing saturates."
            case .tanh:
                text += " A simple RNN has no gates: this is its tanh activation h; where |h| > 0.9 the slope is below "
                    + "0.19, so little gradient passes through that unit."
            }
        } else {
            text += " Sigmoid gates run from 0 (shut) to 1 (open)."
            switch run.record.config.cell {
            case .lstm:
                text += " The forget gate f is the factor by which the cell state, and its gradient, is kept at each "
                    + "step (c(t) = f ⊙ c(t−1) + i ⊙ g): near 1 the cell keeps its content, near 0 it forgets it."
            case .gru:
                text += " The update gate z is the factor by which the hidden state, and its direct gradient, is kept "
                    + "at each step (h(t) = (1 − z) ⊙ n + z ⊙ h(t−1)): near 1 the unit keeps its value, near 0 it is overwritten."
            case .rnn:
                break
            }
        }
        return text
    }

    static func training(_ run: RunNumbers) -> String {
        let record = run.record
        var text = "Top: the training loss at every step, its running mean and the validation loss at each evaluation; "
            + "middle: the same as perplexity, exp(loss); bottom: the norm of the whole gradient before clipping, on a log axis"
        if record.config.clip > 0 {
            text += ", against the clipping threshold \(RunSetting.exact(record.config.clip)): steps above it were scaled "
                + "down to it. Compare training and validation (a widening gap is overfitting) and how often, and when, the norm hits the threshold."
        } else {
            text += record.clippingNotRecorded ? " (whether it was clipped was not logged)." : " (clipping was off)."
            text += " Compare training and validation: a widening gap is overfitting."
        }
        // Learning-rate decays are drawn as dotted lines on the loss and perplexity panels.
        let rates = record.steps.map(\.learningRate)
        let decays = zip(rates.dropFirst(), rates).filter { $0.0 < $0.1 }.count
        if decays > 0, let first = rates.first, let last = rates.last {
            let why = record.config.learningRateDecay != nil
                ? " after a validation loss that did not improve on the best so far" : ""
            text += " Dotted lines in the top two panels mark where the learning rate was lowered\(why) "
                + "(\(decays) time\(decays == 1 ? "" : "s"), from \(ReportFormat.number(first)) to \(ReportFormat.number(last)))."
        }
        var numbers: [String] = []
        if record.config.clip > 0, let clipped = record.summary.clippedFraction {
            numbers.append("\(ReportFormat.percent(clipped)) of steps clipped")
        }
        if let valid = record.summary.finalValidLoss {
            numbers.append("final validation loss \(ReportFormat.number(valid))")
        }
        if let floor = record.corpus.recall?.lossFloor {
            numbers.append("lowest possible on this corpus \(ReportFormat.number(floor)) (perplexity \(ReportFormat.number(exp(floor))))")
        }
        if let step = record.status.divergedAtStep {
            numbers.append("diverged at step \(ReportFormat.integer(step))")
        }
        if !numbers.isEmpty { text += " Here: " + numbers.joined(separator: "; ") + "." }
        return text
    }

    // MARK: Comparison charts

    /// The headline chart: two panels (first probe, last probe) when any run has a later probe, else one.
    static func compareLagProfiles(_ runs: [RunNumbers]) -> String {
        let twoPanels = runs.contains { $0.verdict.last != nil }
        var text = "g(ℓ)/g(0) of every run on a log axis (top layer, forward direction, hidden state): the share of the "
            + "gradient that reaches the state ℓ steps back. "
        if twoPanels {
            let start = GradientVerdict.allStartAtInitialisation(runs.map(\.verdict))
                ? "at initialisation, where only the architecture acts" : "at the first probe"
            text += "Left, each run \(start); right, at its last probe, after training; both panels share the "
                + "vertical axis and the run colours, so compare each run's line across them to see how training moved it. "
        } else {
            text += "Each run is drawn at its only probe. "
        }
        text += "A straight line is a constant factor per step; the dotted line at 10⁻³ marks the horizon."
        if runs.contains(where: \.hasCellState) {
            text += " Thin dotted lines in a run's colour follow the LSTM's cell state."
        }
        let recallLags = Set(runs.compactMap(\.verdict.recallLag))
        if runs.contains(where: { $0.verdict.first?.recallRatio != nil }) {
            text += " A diamond on the dashed line at the recall lag marks the share of the recall answers' gradient that "
                + "reaches the letter to be recalled."
        }
        if recallLags.count == 1, let lag = recallLags.first {
            text += " The recall task needs gradient at ℓ = \(lag)."
        }
        let lines = runs.compactMap { run -> String? in
            guard let facts = run.factorSummary() else { return nil }
            return "\(run.record.name) \(facts)"
        }
        if !lines.isEmpty {
            text += (twoPanels ? " Fitted factor per step, first → last probe: " : " Fitted factor per step: ")
                + lines.joined(separator: "; ") + "."
        }
        return text
    }

    static func compareTraining(_ runs: [RunNumbers]) -> String {
        var text = "Training loss (running mean) and validation loss of every run on one axis, and each run's gradient "
            + "norm before clipping (log axis). Compare where the losses level off, and against the lowest loss the "
            + "corpus allows when it is known."
        let finals = runs.compactMap { run -> String? in
            run.record.summary.finalValidLoss.map { "\(run.record.name) \(ReportFormat.number($0))" }
        }
        if !finals.isEmpty { text += " Final validation loss: " + finals.joined(separator: ", ") + "." }
        let floors = Set(runs.compactMap { $0.record.corpus.recall.map { ReportFormat.number($0.lossFloor) } })
        if floors.count == 1, let floor = floors.first, runs.allSatisfy({ $0.record.corpus.recall?.lossFloor != nil }) {
            text += " Lowest possible on this corpus: \(floor)."
        }
        return text
    }

    static func compareSpectra(_ runs: [RunNumbers]) -> String {
        var text = "The eigenvalues of each run's recurrent weights at its last probe with the unit circle (a gated cell "
            + "shows each gate block with its own marker), and all runs' singular values on one axis against σ = 1. "
            + "Outside the circle a direction is amplified by W_h alone; whether the gradient grows also depends on the "
            + "activation's slopes and the gates, so compare with the lag profiles."
        let radii = runs.compactMap { run -> String? in
            guard let radius = run.radiusText else { return nil }
            return "\(run.record.name) \(radius)"
        }
        if !radii.isEmpty { text += " Spectral radius, first → last probe: " + radii.joined(separator: "; ") + "." }
        return text
    }

    // Seed groups: one line per setting, so no run's own numbers.

    static let groupedLagProfiles = "For every setting, the median over its seeds of g(ℓ)/g(0), how much of the gradient survives ℓ steps "
        + "back (log axis, top layer, forward direction), with a band for the spread over the seeds (min to max; the "
        + "interquartile range from five seeds). Two settings whose bands overlap differ by no more than the seeds do."

    static let groupedTraining = "Training loss (running mean over 1/40 of the run) of every setting as the median over its seeds with a band for their spread, and the "
        + "median gradient norm before clipping (geometric running mean, log axis). Lower loss is better; bands that "
        + "overlap mean the settings are not told apart by these seeds."

    static let groupedSpectra = "The eigenvalues of each run's recurrent matrix at its last probe (top layer, forward) with the unit "
        + "circle; for gated cells every gate block is shown with its own marker. The last panel overlays the sorted "
        + "singular values of all runs. A simple RNN whose eigenvalues and singular values sit well inside 1 "
        + "shrinks its gradient at every step."

    static func compareDepth(_ records: [RunRecord]) -> String {
        var sentences: [String] = []
        for record in records where DepthChart.applies(to: record) {
            let probes = record.probes.filter { ($0.depth?.first?.profile.count ?? 0) > 1 }
            guard let a = probes.first?.firstLayerShare, let b = probes.last?.firstLayerShare else { continue }
            sentences.append("“\(DepthChart.label(record))” \(NumberFormat.short(a))" + (probes.count > 1 ? " → \(NumberFormat.short(b))" : ""))
        }
        var text = "How much of the top layer's gradient reaches each layer below it, for every run with two or more "
            + "layers: the mean over steps of ‖∂J/∂h_{l}(t)‖ relative to the top layer, on a logarithmic axis, at "
            + "initialisation and after training. A line falling towards layer 0 is a gradient vanishing through depth; "
            + "a skip connection keeps it flat or lets it grow, since every layer's gradient also reaches the ones below directly."
        if !sentences.isEmpty {
            text += " Share reaching layer 0 (first → last probe): " + sentences.joined(separator: "; ") + "."
        }
        return text
    }

    // MARK: Sweep charts

    static func sweep(_ records: [RunRecord], _ axis: SweepAxis) -> String {
        var text = "How the summary numbers change as \(axis.flag) is swept: one line per cell, each point the median over "
            + "the seeds of that setting with a band for their spread (min to max; the interquartile range from five seeds). "
            + "Solid lines are at initialisation, dashed at the end of training."
        if axis == .spectralRadius {
            text += " For a linear RNN the gradient is multiplied by W_h at every step, so the fitted factor per step should "
                + "follow the dashed diagonal factor = ρ; below ρ = 1 the gradient vanishes, above it explodes."
        }
        // The factor at initialisation against the swept value, per line.
        let facts = SweepCharts.lines(records).compactMap { line -> String? in
            let points = SweepCharts.series(line.records, axis, { $0.summary.decayPerStepFirst })
            guard points.count >= 2 else { return nil }
            let text = points.map { "\(NumberFormat.plain($0.x, decimals: 2)) → ×\(NumberFormat.plain($0.spread.median, decimals: 2))" }
            return "\(line.label): " + text.joined(separator: ", ")
        }
        if !facts.isEmpty { text += " Fitted factor per step at initialisation: " + facts.joined(separator: "; ") + "." }
        return text
    }

    static func phase(_ records: [RunRecord], _ across: SweepAxis, _ down: SweepAxis) -> String {
        let recall = records.contains { $0.summary.recallAccuracy != nil }
        return "The phase diagram: for each cell, the \(recall ? "recall accuracy" : "validation perplexity") (median over the "
            + "seeds) for every combination of \(across.flag) (across) and \(down.flag) (down). "
            + (across == .spectralRadius ? "For the simple RNN the dashed line marks ρ = 1/γ (γ = 1 for tanh, relu and linear): "
                + "left of it the gradient is guaranteed to vanish. " : "")
            + "Bright cells are settings where the task was learned."
    }
}

/// The numbers one run's captions quote, read once from its record and verdict.
struct RunNumbers {
    let record: RunRecord
    let verdict: GradientVerdict

    var isSimpleRNN: Bool { record.config.cell == .rnn }

    /// For stacked or bidirectional models: which panel the quoted numbers describe.
    var layerNote: String {
        guard record.config.layers > 1 || record.config.bidirectional else { return "" }
        return " Each layer and direction has its own panel; the numbers quoted here describe the top layer's forward direction."
    }

    var hasCellState: Bool {
        record.config.cell == .lstm || record.probes.contains { $0.layers.contains { $0.cellLagProfile != nil } }
    }

    var gateNames: [String] { record.probes.last?.topForward?.gates.map(\.name) ?? [] }

    private var firstLayer: LayerProbe? { record.probes.first?.topForward }
    /// The last probe's layer, when the last probe is a later step than the first.
    private var lastLayer: LayerProbe? {
        guard GradientVerdict.hasLaterProbe(record) else { return nil }
        return record.probes.last?.topForward
    }

    private func step(_ probe: ProbeRecord?) -> String {
        probe.map { "step \(ReportFormat.integer($0.step))" } ?? ""
    }

    /// "a (step 0) → b (step 1,500)", or "a (step 0)" with one probe; nil when `value` has neither.
    func change(_ value: (LayerProbe) -> String?) -> String? {
        let a = firstLayer.flatMap(value), b = lastLayer.flatMap(value)
        switch (a, b) {
        case let (a?, b?): return "\(a) (\(step(record.probes.first))) → \(b) (\(step(record.probes.last)))"
        case let (a?, nil): return "\(a) (\(step(record.probes.first)))"
        case let (nil, b?): return "\(b) (\(step(record.probes.last)))"
        default: return nil
        }
    }

    /// "a (step 0) → b (step 1,500)" of a number, formatted.
    func change(_ value: (LayerProbe) -> Double) -> String? {
        change { (layer: LayerProbe) -> String? in ReportFormat.number(value(layer)) }
    }

    /// Spectral radius first → last from the summary.
    var radiusText: String? {
        let a = record.summary.spectralRadiusFirst, b = record.summary.spectralRadiusLast
        switch (a, b) {
        case let (a?, b?) where lastLayer != nil:
            return "\(ReportFormat.number(a)) → \(ReportFormat.number(b))"
        case let (a?, _): return ReportFormat.number(a)
        case let (nil, b?): return ReportFormat.number(b)
        default: return nil
        }
    }

    /// γ·σ_max(W_h) at the first and last probe (simple RNN only).
    var boundText: String? {
        guard isSimpleRNN else { return nil }
        return change { layer in
            guard let gamma = layer.spectrum.gamma, let sigma = layer.spectrum.whole.singularValues.first else { return nil }
            return ReportFormat.number(gamma * sigma)
        }
    }

    /// "Horizon: 8 steps (step 0) → beyond T = 30 (step 1,500)."
    func horizonFacts() -> String? {
        guard let first = verdict.first else { return nil }
        let firstText = "\(first.horizonText) (step \(ReportFormat.integer(first.step)))"
        guard let last = verdict.last else { return "Horizon (below 10⁻³ of the local gradient): \(firstText)." }
        return "Horizon (below 10⁻³ of the local gradient): \(firstText) → \(last.horizonText) "
            + "(step \(ReportFormat.integer(last.step)))."
    }

    /// "Fitted factor per step: ×0.41 (step 0) → ×0.89 (step 1,500); horizon 8 steps → beyond T = 30."
    func factorFacts() -> String? {
        guard let first = verdict.first else { return nil }
        var text = "Fitted factor per step: \(first.factorText) (step \(ReportFormat.integer(first.step)))"
        if let last = verdict.last {
            text += " → \(last.factorText) (step \(ReportFormat.integer(last.step))); horizon \(first.horizonText) → \(last.horizonText)"
        } else {
            text += "; horizon \(first.horizonText)"
        }
        if let lag = verdict.recallLag, let a = first.recallRatio {
            text += "; the recall answers' gradient at lag \(lag): \(ReportFormat.ratio(a))"
            if let b = verdict.last?.recallRatio { text += " → \(ReportFormat.ratio(b))" }
            text += " of their local one"
        }
        return text + "."
    }

    /// "×0.41 (horizon 8 steps) → ×0.89 (horizon beyond T = 30)" for the comparison caption.
    func factorSummary() -> String? {
        guard let first = verdict.first else { return nil }
        var text = "\(first.factorText) (horizon \(first.horizonText))"
        if let last = verdict.last { text += " → \(last.factorText) (horizon \(last.horizonText))" }
        return text
    }

    /// What the bound γ·σ_max(W_h) < 1 says at the first and the last probe (simple RNN only), e.g.
    /// "Here γ·σ_max is 1.1 at step 0 and 6.4 at step 1,500: at least 1 both times, so the bound forces nothing …".
    func boundClaim() -> String? {
        guard isSimpleRNN else { return nil }
        func bound(_ layer: LayerProbe?) -> Double? {
            guard let layer, let gamma = layer.spectrum.gamma, let sigma = layer.spectrum.whole.singularValues.first,
                  (gamma * sigma).isFinite else { return nil }
            return gamma * sigma
        }
        func at(_ probe: ProbeRecord?) -> String {
            probe.map { " at step \(ReportFormat.integer($0.step))" } ?? ""
        }
        let values = [(bound(firstLayer), record.probes.first), (bound(lastLayer), record.probes.last)]
            .compactMap { value, probe in value.map { ($0, probe) } }
        guard !values.isEmpty else { return nil }
        let listed = values.map { "\(ReportFormat.number($0.0))\(at($0.1))" }.joined(separator: " and ")
        let below = values.map { $0.0 < 1 }
        let times = values.count == 2 ? " both times" : ""
        if below.allSatisfy({ $0 }) {
            return "Here γ·σ_max is \(listed): below 1\(times), so the gradient must vanish at least that fast."
        }
        if below.allSatisfy({ !$0 }) {
            return "Here γ·σ_max is \(listed): at least 1\(times), so the bound forces nothing and any vanishing "
                + "comes from the activation's slopes and the directions the gradient takes."
        }
        let which = below[0] ? "at the first probe but not at the last" : "at the last probe but not at the first"
        return "Here γ·σ_max is \(listed): below 1 \(which), so the bound forces vanishing only there."
    }

    /// The leading finite-time Lyapunov exponent over the whole window at the first and last probe.
    func lyapunovFacts() -> String? {
        func exponent(_ layer: LayerProbe?) -> Double? {
            guard let value = layer?.jacobians.lyapunovExponents.last?.first, value.isFinite else { return nil }
            return value
        }
        let values = [(exponent(firstLayer), record.probes.first), (exponent(lastLayer), record.probes.last)]
            .compactMap { value, probe in value.map { ($0, probe) } }
        guard !values.isEmpty else { return nil }
        let listed = values.map { value, probe in
            let at = probe.map { " at step \(ReportFormat.integer($0.step))" } ?? ""
            return "\(ReportFormat.number(value))\(at), a factor \(ReportFormat.factor(exp(value))) per step"
        }
        return "Leading exponent over the whole sequence: " + listed.joined(separator: "; ") + "."
    }

    /// "forget 12% → 40%, input 5% → 15%" in the cells' gate order.
    func saturationChange() -> String? {
        guard let first = firstLayer else { return nil }
        let last = lastLayer
        let names = ReportFormat.gateOrder(first.gates.map(\.name))
        guard !names.isEmpty else { return nil }
        return names.map { name in
            let a = first.gates.first { $0.name == name }?.saturated
            var text = "\(name) \(ReportFormat.percent(a))"
            if let last { text += " → \(ReportFormat.percent(last.gates.first { $0.name == name }?.saturated))" }
            return text
        }.joined(separator: ", ")
    }
}
