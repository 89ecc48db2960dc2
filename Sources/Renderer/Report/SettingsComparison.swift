// Which settings differ between the runs of one report.
//
// A report may merge runs made with different data or flags (runs downloaded from separate CI
// jobs, a sweep over learning rates). They are still shown side by side, but the reader must see
// first what besides the cell differs. The cell itself is what the report compares, so it is not
// listed; a setting that does not apply to a cell (the forget-gate bias of a simple RNN) is compared
// only among the runs it applies to.

import DiagnoseRecord
import Foundation

struct RunSetting: Sendable {
    /// The `RunConfig` property this row reads, or a `corpus.`/`tool.` path for the others.
    var field: String
    var label: String
    var value: @Sendable (RunRecord) -> String
    var applies: @Sendable (RunRecord) -> Bool = { _ in true }

    /// Every compared setting, in the order the table lists them. `field` names cover every
    /// stored property of `RunConfig` (a test checks this, so a new flag cannot be forgotten).
    static let all: [RunSetting] = [
        RunSetting(field: "cell", label: "cell", value: { $0.config.cell.rawValue }),
        RunSetting(field: "activation", label: "activation", value: { $0.config.activation.rawValue }),
        RunSetting(field: "layers", label: "layers", value: { String($0.config.layers) }),
        RunSetting(field: "bidirectional", label: "bidirectional", value: { $0.config.bidirectional ? "yes" : "no" }),
        RunSetting(field: "hidden", label: "hidden units", value: { ReportFormat.integer($0.config.hidden) }),
        RunSetting(field: "embed", label: "embedding size", value: { ReportFormat.integer($0.config.embed) }),
        RunSetting(field: "batch", label: "batch", value: { ReportFormat.integer($0.config.batch) }),
        RunSetting(field: "bptt", label: "steps per window (bptt)", value: { ReportFormat.integer($0.config.bptt) }),
        RunSetting(field: "steps", label: "training steps", value: { ReportFormat.integer($0.config.steps) }),
        RunSetting(field: "optimizer", label: "optimizer", value: { $0.config.optimizer?.rawValue ?? "none (imported)" }),
        RunSetting(field: "learningRate", label: "learning rate", value: { exact($0.config.learningRate) }),
        RunSetting(field: "clip", label: "clipping threshold",
                   value: { $0.config.clip == 0 ? "off" : exact($0.config.clip) }),
        RunSetting(field: "seed", label: "seed", value: { String($0.config.seed) }),
        RunSetting(field: "initialization", label: "initialization", value: { $0.config.initialization?.rawValue ?? "imported" }),
        RunSetting(field: "spectralRadius", label: "initial spectral radius",
                   value: { $0.config.spectralRadius.map(exact) ?? "as initialised" }),
        RunSetting(field: "forgetBias", label: "forget-gate bias", value: { exact($0.config.forgetBias) },
                   applies: { $0.config.cell == .lstm }),
        RunSetting(field: "connections", label: "layer connections",
                   value: { ($0.config.connections ?? .plain).rawValue }, applies: { $0.config.layers > 1 }),
        RunSetting(field: "probeEvery", label: "probe every", value: { ReportFormat.integer($0.config.probeEvery) }),
        RunSetting(field: "evalEvery", label: "evaluate every", value: { ReportFormat.integer($0.config.evalEvery) }),
        RunSetting(field: "tokenize", label: "tokens", value: { $0.config.tokenize?.rawValue ?? "token ids" }),
        RunSetting(field: "vocabSizeLimit", label: "vocabulary limit",
                   value: { $0.config.vocabSizeLimit.map(ReportFormat.integer) ?? "none" }),
        RunSetting(field: "validFraction", label: "validation fraction",
                   value: { $0.corpus.validFile == nil ? exact($0.config.validFraction) : "separate file" }),
        RunSetting(field: "endOfLine", label: "<eos> at line ends", value: { $0.config.endOfLine == false ? "no" : "yes" },
                   applies: { $0.config.tokenize == .word }),
        RunSetting(field: "dropout", label: "dropout", value: { exact($0.config.dropout ?? 0) }),
        RunSetting(field: "epochs", label: "epochs", value: { $0.config.epochs.map(String.init) ?? "—" }),
        RunSetting(field: "learningRateDecay", label: "learning-rate decay",
                   value: { $0.config.learningRateDecay.map(exact) ?? "off" }),
        RunSetting(field: "lag", label: "recall lag", value: { $0.config.lag.map(String.init) ?? "—" },
                   applies: { $0.corpus.synthetic }),
        RunSetting(field: "threads", label: "threads", value: { String($0.config.threads) }),
        RunSetting(field: "corpus.name", label: "corpus", value: { $0.corpus.name }),
        RunSetting(field: "corpus.sha256", label: "corpus SHA-256", value: { $0.corpus.sha256 }),
        RunSetting(field: "corpus.validSha256", label: "validation file SHA-256", value: { $0.corpus.validSha256 ?? "—" }),
        RunSetting(field: "corpus.testSha256", label: "test file SHA-256", value: { $0.corpus.testSha256 ?? "—" }),
        RunSetting(field: "tool.version", label: "tool version", value: { $0.tool.name + " " + $0.tool.version }),
    ]

    /// Settings left out of the comparison: the cell is the variable the report is about.
    static let notCompared: Set<String> = ["cell"]

    /// A number written with all the digits needed to tell two settings apart (0.001, 3e-4).
    static func exact(_ x: Double) -> String {
        if let text = ReportFormat.nonFinite(x) { return text }
        var text = "\(x)"  // shortest round-trip form
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}

struct DifferingSetting: Equatable {
    var label: String
    /// One value per run, in run order; "—" where the setting does not apply.
    var values: [String]
}

enum SettingsComparison {
    /// The settings whose values differ among the runs they apply to, in `RunSetting.all` order.
    /// Empty for fewer than two runs or when only the cell differs.
    static func differing(_ records: [RunRecord]) -> [DifferingSetting] {
        guard records.count >= 2 else { return [] }
        var rows: [DifferingSetting] = []
        for setting in RunSetting.all where !RunSetting.notCompared.contains(setting.field) {
            let values = records.map { setting.applies($0) ? setting.value($0) : nil }
            let distinct = Set(values.compactMap { $0 })
            if distinct.count > 1 {
                rows.append(DifferingSetting(label: setting.label, values: values.map { $0 ?? ReportFormat.missing }))
            }
        }
        return rows
    }
}
