// "What to try": the findings in a run record that call for action, each with its evidence, a
// remedy with its source, and the `diagnose` command that tests the remedy.
//
// Every rule lives in `Advice.rules`, one entry each, with its threshold named in `Advice.Threshold`.
// A rule reads the record (and the verdict's reading of its first and last probe) and either stays
// silent or returns one finding. The commands are sweeps written in the flag syntax of the sweep
// feature (comma lists and START:STOP:STEP ranges), with three seeds wherever a comparison needs
// the seed-to-seed spread, and a fresh `--output` folder so the experiment gets a report of its own.

import DiagnoseRecord
import Foundation

/// One thing a run's record says should change, and how to test the change.
struct Finding: Equatable {
    /// The rule that fired (stable: used in HTML ids and tests).
    var rule: String
    /// What the rule says (with the title the record gave it, if any).
    var text: Advice.Text
    /// The numbers that show it, as a sentence.
    var evidence: String
    /// The commands that test the remedy, each as the arguments after the program name.
    var commands: [[String]]
}

enum Advice {
    /// Every threshold a rule compares against, named once.
    enum Threshold {
        /// A simple RNN whose gradient keeps less than this share at the quoted lag at initialisation vanishes.
        static let vanishingShare = 1e-2
        /// Without a recall lag: a horizon at initialisation shorter than this many steps is short.
        static let shortHorizon = 10
        /// A simple RNN whose spectral radius at the last probe exceeds this times 1/γ expands.
        static let expandingRadius = 1.5
        /// Recall accuracy that has covered less than this share of the way from chance to 100% is
        /// "near chance" (13% against a chance of 6.2% is 7% of the way).
        static let nearChanceShare = 0.1
        /// More than this share of steps clipped is "most steps".
        static let clippedMost = 0.5
        /// An unclipped step whose gradient norm exceeds this multiple of the median norm is a spike.
        static let spikeRatio = 10.0
        /// A gate saturated in more than this share of its units at the last probe is saturated "for most
        /// units". A trained LSTM that solves the recall task has about half its gate units saturated.
        static let saturatedMost = 0.8
        /// Validation loss more than this many nats above the training loss at the last evaluation.
        static let overfitGap = 0.15
    }

    /// What a rule says whenever it fires: the problem, the chart, the remedy; only the evidence and
    /// the commands depend on the record.
    struct Text: Equatable {
        /// What is wrong, as a short sentence.
        var title: String
        /// The run chart that shows it.
        var chart: ChartID
        /// What to try.
        var remedy: String
        /// Where the remedy comes from.
        var source: String
    }

    /// One row of the table: when the rule fires and what it says.
    struct Rule {
        var id: String
        /// The condition in words, with its threshold (the README lists these).
        var when: String
        var text: Text
        /// What the record shows when the rule fires; nil when it stays silent.
        var check: (AdviceInput) -> Found?

        init(id: String, when: String, title: String, chart: ChartID, remedy: String, source: String,
             check: @escaping (AdviceInput) -> Found?) {
            (self.id, self.when, self.check) = (id, when, check)
            text = Text(title: title, chart: chart, remedy: remedy, source: source)
        }
    }

    /// What a rule found in one record.
    struct Found {
        var evidence: String
        /// The commands that test the remedy, each as the arguments after the program name.
        var commands: [[String]]
        /// A title that depends on the record, instead of the rule's.
        var title: String? = nil
    }

    /// The rules in the order the report lists their findings: what stops training first, then what
    /// stops learning, then what only slows it.
    static let rules: [Rule] = [diverged, mostStepsClipped, gradientSpikes, vanishingAtInitialisation,
                                growingAtInitialisation, expandingMap, shortCellHorizon, saturatedGates, overfitting]

    /// The findings for one run, in rule order.
    static func findings(record: RunRecord, verdict: GradientVerdict) -> [Finding] {
        let input = AdviceInput(record: record, verdict: verdict)
        return rules.compactMap { rule in
            rule.check(input).map { found in
                var text = rule.text
                if let title = found.title { text.title = title }
                return Finding(rule: rule.id, text: text, evidence: found.evidence, commands: found.commands)
            }
        }
    }

    // MARK: Rules

    static let diverged = Rule(
        id: "diverged", when: "training diverged (the loss or gradient became NaN or infinite)",
        title: "Training diverged.", chart: .training,
        remedy: "Lower the learning rate and clip the gradient norm, so that one large gradient cannot throw the "
            + "weights out of range.",
        source: "Pascanu, Mikolov and Bengio (2013), On the difficulty of training recurrent neural networks"
    ) { input in
        let r = input.record
        guard let step = r.status.divergedAtStep else { return nil }
        let reason = r.status.divergenceReason.map { " (\($0))" } ?? ""
        return Found(
            evidence: "The loss or gradient stopped being finite at step \(ReportFormat.integer(step))\(reason).",
            commands: [input.command(replacing: ["--lr": input.lowerLearningRates, "--clip": "0.25,1"], folder: "try-lr-clip")])
    }

    static let mostStepsClipped = Rule(
        id: "most-steps-clipped", when: "more than \(percent(Threshold.clippedMost)) of the steps were clipped",
        title: "Most steps were clipped.", chart: .training,
        remedy: "Lower the learning rate until clipping is the exception that catches spikes, not the rule.",
        source: "Pascanu, Mikolov and Bengio (2013)"
    ) { input in
        let r = input.record
        guard r.config.clip > 0, r.status.divergedAtStep == nil, let fraction = r.summary.clippedFraction,
              fraction > Threshold.clippedMost else { return nil }
        return Found(
            evidence: "\(ReportFormat.percent(fraction)) of the steps had a gradient norm above the clipping threshold "
                + "\(RunSetting.exact(r.config.clip)), so the step size was set by the threshold, not by the gradient.",
            commands: [input.command(replacing: ["--lr": input.lowerLearningRates], folder: "try-lr")])
    }

    static let gradientSpikes = Rule(
        id: "gradient-spikes",
        when: "an unclipped step's gradient norm exceeds \(Int(Threshold.spikeRatio)) times the median",
        title: "The gradient norm spikes.", chart: .training,
        remedy: "Clip the gradient norm near its typical size, so that a spike changes the direction of a step but not its length.",
        source: "Pascanu, Mikolov and Bengio (2013)"
    ) { input in
        let r = input.record
        guard r.status.divergedAtStep == nil else { return nil }
        let norms = r.steps.map(\.gradientNorm).filter(\.isFinite).sorted()
        guard norms.count >= 20 else { return nil }
        let median = norms[norms.count / 2]
        let spikes = r.steps.filter { !$0.clipped && $0.gradientNorm.isFinite && $0.gradientNorm > Threshold.spikeRatio * median }
        guard median > 0, let largest = spikes.max(by: { $0.gradientNorm < $1.gradientNorm }) else { return nil }
        let threshold = clipSuggestions(median: median)
        return Found(
            evidence: "\(spikes.count) unclipped step\(spikes.count == 1 ? "" : "s") had a gradient norm above "
                + "\(Int(Threshold.spikeRatio)) times the median \(ReportFormat.number(median)), the largest "
                + "\(ReportFormat.number(largest.gradientNorm)) at step \(ReportFormat.integer(largest.step))"
                + (r.config.clip == 0 ? "; clipping was off." : "."),
            commands: [input.command(replacing: ["--clip": threshold], folder: "try-clip")])
    }

    static let vanishingAtInitialisation = Rule(
        id: "vanishing-at-initialisation",
        when: "a simple RNN keeps less than \(ReportFormat.ratio(Threshold.vanishingShare)) of its gradient at the recall lag "
            + "(without one: a horizon under \(Threshold.shortHorizon) steps) at initialisation",
        title: "The gradient vanishes before training starts.", chart: .gradientDecay,
        remedy: "Give the gradient a path that does not shrink: a gated cell (LSTM or GRU), or recurrent weights "
            + "started at a spectral radius near 1.",
        source: "Hochreiter and Schmidhuber (1997); Cho et al. (2014); Le, Jaitly and Hinton (2015) on "
            + "recurrent weights started near the identity"
    ) { input in
        let r = input.record
        guard r.config.cell == .rnn, input.verdict.start == .initialisation, let first = input.verdict.first,
              let shortfall = input.shortfall(first, hidden: true) else { return nil }
        return Found(
            evidence: "At initialisation " + shortfall + ".",
            commands: [input.command(replacing: ["--cell": "rnn,gru,lstm"], folder: "try-cells"),
                       input.command(replacing: ["--spectral-radius": "0.9:1.1:0.1"], folder: "try-spectral-radius")])
    }

    static let growingAtInitialisation = Rule(
        id: "growing-at-initialisation", when: "a simple RNN's gradient grows with distance at initialisation",
        title: "The gradient explodes before training starts.", chart: .gradientDecay,
        remedy: "Start the recurrent weights at a spectral radius near 1, where the gradient neither vanishes nor "
            + "explodes; clipping limits the damage of an exploding gradient but does not remove it.",
        source: "Pascanu, Mikolov and Bengio (2013); Saxe, McClelland and Ganguli (2014) on orthogonal initialisation"
    ) { input in
        let r = input.record
        guard r.config.cell == .rnn, input.verdict.start == .initialisation, let first = input.verdict.first,
              first.kind == .growing else { return nil }
        var evidence = "At initialisation the gradient grows about \(ReportFormat.factor(first.decayPerStep)) per step back"
        if let radius = r.summary.spectralRadiusFirst { evidence += " (spectral radius \(ReportFormat.number(radius)))" }
        evidence += ": \(first.lag) steps back it is \(GradientReading.share(first.ratio, of: "the local one")), so the "
            + "earliest inputs dominate every update."
        return Found(
            evidence: evidence,
            commands: [input.command(replacing: ["--spectral-radius": "0.9:1.1:0.1"], folder: "try-spectral-radius")])
    }

    static let expandingMap = Rule(
        id: "expanding-map",
        when: "a simple RNN ends with spectral radius above \(ReportFormat.number(Threshold.expandingRadius))/γ and "
            + "a growing gradient or recall near chance",
        title: "The recurrent map expands instead of remembering.", chart: .spectrum,
        remedy: "Use a gated cell, whose forget or update gate can keep a state without expanding it; with a simple "
            + "RNN, a lower learning rate keeps the weights nearer where they started.",
        source: "Bengio, Simard and Frasconi (1994), Learning long-term dependencies with gradient descent is difficult"
    ) { input in
        let r = input.record
        guard r.config.cell == .rnn, r.status.divergedAtStep == nil, let radius = r.summary.spectralRadiusLast,
              radius.isFinite else { return nil }
        let gamma = r.probes.last?.topForward?.spectrum.gamma ?? 1
        guard gamma > 0, radius * gamma > Threshold.expandingRadius else { return nil }
        let growing = (input.verdict.last ?? input.verdict.first)?.kind == .growing
        let atChance = input.recallAtChance
        guard growing || atChance else { return nil }
        var evidence = "The recurrent weights end with spectral radius \(ReportFormat.number(radius))"
        evidence += gamma == 1 ? "" : " (γ = \(ReportFormat.number(gamma)))"
        if growing { evidence += " and the gradient grows with distance" }
        if atChance, let accuracy = r.summary.recallAccuracy {
            evidence += (growing ? ", " : " and ") + "recall stays near chance at \(ReportFormat.percent(accuracy))"
                + (input.chance.map { " (chance \(ReportFormat.percent($0)))" } ?? "")
        }
        evidence += ": a map that expands cannot hold a stored symbol steadily."
        return Found(
            evidence: evidence,
            commands: [input.command(replacing: ["--cell": "rnn,gru,lstm"], folder: "try-cells")])
    }

    static let shortCellHorizon = Rule(
        id: "short-cell-horizon",
        when: "an LSTM's cell state keeps less than \(ReportFormat.ratio(Threshold.vanishingShare)) of its gradient at "
            + "the recall lag (without one: a horizon under \(Threshold.shortHorizon) steps) at initialisation",
        title: "The LSTM's cell state forgets quickly.", chart: .gradientDecay,
        remedy: "Start the forget gates open: a forget-gate bias of 1 to 2 keeps the cell state, and its gradient, "
            + "for many steps from the first update on.",
        source: "Gers, Schmidhuber and Cummins (2000), Learning to forget; Jozefowicz, Zaremba and Sutskever (2015), "
            + "An empirical exploration of recurrent network architectures"
    ) { input in
        let r = input.record
        guard r.config.cell == .lstm, input.verdict.start == .initialisation, let first = input.verdict.first,
              let shortfall = input.shortfall(first, hidden: false) else { return nil }
        let bias = RunSetting.exact(r.config.forgetBias)
        return Found(
            evidence: "With forget-gate bias \(bias), at initialisation along the cell state " + shortfall + ".",
            commands: [input.command(replacing: ["--forget-bias": "0:2:1"], folder: "try-forget-bias")])
    }

    static let saturatedGates = Rule(
        id: "saturated-gates",
        when: "a gate (other than an LSTM's forget or a GRU's update gate) is saturated in more than "
            + "\(percent(Threshold.saturatedMost)) of its units at the last probe",
        title: "The gates are saturated for most units.", chart: .gates,
        remedy: "Lower the learning rate, so that pre-activations do not grow into the flat ends of the nonlinearity.",
        source: "Glorot and Bengio (2010), Understanding the difficulty of training deep feedforward neural networks"
    ) { input in
        let r = input.record
        guard r.status.divergedAtStep == nil, let gates = r.probes.last?.topForward?.gates else { return nil }
        // A forget (update) gate held open is how a gated cell remembers: saturation there is not a fault.
        let keeping: Set<String> = ["forget", "update"]
        let saturated = gates.filter { !keeping.contains($0.name) && $0.saturated.isFinite && $0.saturated > Threshold.saturatedMost }
        guard !saturated.isEmpty else { return nil }
        let list = saturated.map { "\($0.name) \(ReportFormat.percent($0.saturated))" }.joined(separator: ", ")
        return Found(
            evidence: "At the last probe the share of saturated units is \(list); a saturated unit passes almost no "
                + "gradient to its inputs.",
            commands: [input.command(replacing: ["--lr": input.lowerLearningRates], folder: "try-lr")],
            title: r.config.cell == .rnn ? "The \(r.config.activation) units are saturated for most units." : nil)
    }

    static let overfitting = Rule(
        id: "overfitting",
        when: "the validation loss ends more than \(ReportFormat.number(Threshold.overfitGap)) nats above the training loss",
        title: "Validation loss is far above training loss.", chart: .training,
        remedy: "Regularise: a smaller model, fewer steps, or dropout on the non-recurrent connections.",
        source: "Zaremba, Sutskever and Vinyals (2014), Recurrent neural network regularization"
    ) { input in
        let r = input.record
        guard r.status.divergedAtStep == nil, let last = r.evaluations.last, last.validLoss.isFinite, last.trainLoss.isFinite,
              last.validLoss - last.trainLoss > Threshold.overfitGap else { return nil }
        return Found(
            evidence: "At step \(ReportFormat.integer(last.step)) the validation loss is \(ReportFormat.number(last.validLoss)) "
                + "nats against \(ReportFormat.number(last.trainLoss)) on training windows: the model memorises the training text.",
            commands: [input.command(replacing: ["--hidden": input.smallerHidden], folder: "try-hidden")])
    }

    // MARK: Helpers

    static func percent(_ fraction: Double) -> String { ReportFormat.percent(fraction) }

    /// Whether a synthetic run's recall accuracy is near chance; false without recall data.
    static func nearChance(_ record: RunRecord) -> Bool {
        guard let accuracy = record.summary.recallAccuracy, accuracy.isFinite,
              let chance = record.corpus.recall?.chanceAccuracy, chance < 1 else { return false }
        return (accuracy - chance) / (1 - chance) < Threshold.nearChanceShare
    }

    /// Clip thresholds to try around the median gradient norm: half, one and two medians, rounded to 2 digits.
    static func clipSuggestions(median: Double) -> String {
        [0.5, 1, 2].map { sweepNumber($0 * median) }.joined(separator: ",")
    }

    /// A number for a flag: 2 significant digits, no exponent for ordinary sizes.
    static func sweepNumber(_ x: Double) -> String {
        guard x.isFinite, x > 0 else { return "0" }
        let digits = max(0, 1 - Int(floor(log10(x))))
        var text = String(format: "%.\(digits)f", x)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}

/// What a rule reads: the record, the verdict's readings, and the pieces every command shares.
struct AdviceInput {
    let record: RunRecord
    let verdict: GradientVerdict

    var chance: Double? { record.corpus.recall?.chanceAccuracy }

    /// Synthetic corpus: recall accuracy near chance (see `Threshold.nearChanceShare`).
    var recallAtChance: Bool { Advice.nearChance(record) }

    /// Why the reading falls short, as a clause ("the recall answers send 7e-4 of their gradient to
    /// the letter 8 steps back"), or nil when it does not. `hidden` reads the hidden state, otherwise
    /// the LSTM's cell state.
    func shortfall(_ reading: GradientReading, hidden: Bool) -> String? {
        if reading.kind == .notFinite { return nil }
        if let recallLag = verdict.recallLag {
            let share = hidden ? (reading.recallRatio ?? reading.ratio) : reading.cellRatio
            guard let share, share.isFinite, share < Advice.Threshold.vanishingShare else { return nil }
            let back = "\(recallLag) step\(recallLag == 1 ? "" : "s") back"
            let threshold = "(the threshold is \(ReportFormat.ratio(Advice.Threshold.vanishingShare)))"
            if hidden && reading.recallRatio != nil {
                return "the recall answers send \(GradientReading.share(share, of: "their local gradient")) to the letter "
                    + "\(back) that they must repeat \(threshold)"
            }
            return "\(GradientReading.share(share, of: "the local gradient")) reaches the state \(back), "
                + "where the letter to repeat is \(threshold)"
        }
        let horizon = hidden ? reading.horizon : reading.cellHorizon
        guard let horizon, horizon < Advice.Threshold.shortHorizon else { return nil }
        return "the gradient falls below 1e-3 of its local value after \(horizon) step\(horizon == 1 ? "" : "s") "
            + "(under \(Advice.Threshold.shortHorizon))"
    }

    /// Learning rates a third and a tenth of this run's, and its own, as a comma list.
    var lowerLearningRates: String {
        let lr = record.config.learningRate
        return [lr / 10, lr / 3, lr].map(Advice.sweepNumber).joined(separator: ",")
    }

    /// Hidden sizes a quarter and a half of this run's, and its own.
    var smallerHidden: String {
        let h = record.config.hidden
        return Array(Set([max(1, h / 4), max(1, h / 2), h])).sorted().map(String.init).joined(separator: ",")
    }

    /// Flags every suggested command sets itself: they are dropped from the run's own command.
    static let replacedFlags: Set<String> = ["--cell", "--seed", "--name", "--output", "--weights"]
    /// Switches without a value that a suggested command leaves out (a sweep is worth watching).
    static let droppedSwitches: Set<String> = ["--quiet"]

    /// This run's command with `replacing` flags set to new values, the run's own cell (unless
    /// replaced), seeds 0, 1 and 2, and `--output <its output>/<folder>`.
    func command(replacing: [String: String], folder: String) -> [String] {
        var arguments = record.command
        // A run from `diagnose probe` or `report` has no training command to edit: start from the flags.
        if let first = arguments.first, !first.hasPrefix("-"), first != "train" { arguments = [] }
        var output = "output"
        var kept: [String] = []
        let dropped = AdviceInput.replacedFlags.union(replacing.keys)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if AdviceInput.droppedSwitches.contains(argument) {
                index += 1
                continue
            }
            if dropped.contains(name) {
                let value: String?
                if argument.contains("=") {
                    value = String(argument.split(separator: "=", maxSplits: 1)[1])
                    index += 1
                } else {
                    value = index + 1 < arguments.count ? arguments[index + 1] : nil
                    index += 2
                }
                if name == "--output", let value { output = value }
                continue
            }
            kept.append(argument)
            index += 1
        }
        var result = kept
        // The initial spectral radius is in the config only when a flag set it: keep it even where the
        // recorded command left it out.
        if let radius = record.config.spectralRadius, replacing["--spectral-radius"] == nil,
           !kept.contains(where: { $0 == "--spectral-radius" || $0.hasPrefix("--spectral-radius=") }) {
            result += ["--spectral-radius", RunSetting.exact(radius)]
        }
        if replacing["--cell"] == nil { result += ["--cell", record.config.cell.rawValue] }
        for flag in replacing.keys.sorted() { result += [flag, replacing[flag]!] }
        result += ["--seed", "0,1,2", "--output", output.hasSuffix("/") ? output + folder : output + "/" + folder]
        return result
    }
}
