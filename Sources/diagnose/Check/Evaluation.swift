// Evaluating expectations and baseline comparisons over loaded run records.

import DiagnoseRecord
import Foundation

/// A run by the name expectations use (its record's name).
struct NamedRun {
    var name: String
    var record: RunRecord
}

/// Expressions that parse but name what does not exist: flag errors (exit 64) listing what does.
struct CheckUsageError: Error, Equatable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// One expectation for one run (or, without `*`, for the runs it names).
struct ExpectationResult: Equatable {
    /// The expression with `*` replaced by the run's name.
    var text: String
    /// The expression as given.
    var expression: String
    var holds: Bool
    /// Each figure on either side with its measured value.
    var measured: [(label: String, value: Measurement)]

    static func == (a: ExpectationResult, b: ExpectationResult) -> Bool {
        a.text == b.text && a.holds == b.holds && a.measured.map(\.label) == b.measured.map(\.label)
            && a.measured.map(\.value) == b.measured.map(\.value)
    }

    var measuredText: String {
        measured.isEmpty ? "" : measured.map { "\($0.label) = \($0.value.text)" }.joined(separator: ", ")
    }
}

enum CheckEvaluator {
    /// Checks every run and figure an expectation names, before anything is measured.
    static func validate(_ expectation: Expectation, runs: [NamedRun]) throws {
        let names = runs.map(\.name)
        for operand in [expectation.left, expectation.right] {
            guard case .figure(let reference) = operand else { continue }
            let column = "--expect '\(expectation.text)' (column \(reference.runColumn + 1))"
            if case .named(let name) = reference.run, !names.contains(name) {
                throw CheckUsageError(message: "\(column): no run named '\(name)'; the runs are "
                    + names.map(FigureReference.quotedIfNeeded).joined(separator: ", ") + " (or * for every run)")
            }
            let at = "--expect '\(expectation.text)' (column \(reference.figureColumn + 1))"
            guard let figure = Figures.find(reference.figure) else {
                let guess = Figures.closest(to: reference.figure).map { " (did you mean \($0)?)" } ?? ""
                throw CheckUsageError(message: "\(at): no figure '\(reference.figure)'\(guess); the figures are "
                    + Figures.all.map(\.usage).joined(separator: ", ") + " (see diagnose check --help)")
            }
            let applies: [NamedRun]
            switch reference.run {
            case .every: applies = runs
            case .named(let name): applies = runs.filter { $0.name == name }
            }
            switch (figure.argument, reference.argument) {
            case (.none, nil): break
            case (.none, .some):
                throw CheckUsageError(message: "\(at): \(figure.name) takes no argument; write \(figure.name)")
            case (.lag, .number(let lag)?):
                guard lag >= 0, lag == lag.rounded() else {
                    throw CheckUsageError(message: "\(at): \(figure.name)(\(formatNumber(lag))): the lag must be a whole number of steps, 0 or more")
                }
                for run in applies {
                    let window = run.record.config.bptt
                    if lag >= Double(window) {
                        throw CheckUsageError(message: "\(at): \(figure.name)(\(formatNumber(lag))): run \(run.name) "
                            + "measures lags 0 to \(window - 1) (its --bptt is \(window))")
                    }
                }
            case (.lag, _):
                throw CheckUsageError(message: "\(at): \(figure.name) needs a lag in steps, e.g. \(figure.name)(8)")
            case (.gate, .name(let gate)?):
                for run in applies {
                    let gates = (run.record.summary.gateSaturation ?? [:]).keys.sorted()
                    if !gates.contains(gate) {
                        throw CheckUsageError(message: "\(at): run \(run.name) has no gate '\(gate)'; its gates are "
                            + (gates.isEmpty ? "none recorded" : gates.joined(separator: ", ")))
                    }
                }
            case (.gate, _):
                throw CheckUsageError(message: "\(at): \(figure.name) needs a gate name, e.g. \(figure.name)(forget)")
            }
        }
    }

    /// The expectation measured on the runs: one result per run for `*`, else one.
    static func evaluate(_ expectation: Expectation, runs: [NamedRun]) -> [ExpectationResult] {
        let byName = Dictionary(runs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let targets: [NamedRun?] = expectation.usesEveryRun ? runs.map { $0 } : [nil]
        return targets.map { every in
            var measured: [(label: String, value: Measurement)] = []
            func value(_ operand: Operand) -> Double? {
                switch operand {
                case .number(let number): return number
                case .figure(let reference):
                    let found: NamedRun?
                    switch reference.run {
                    case .every: found = every
                    case .named(let name): found = byName[name]
                    }
                    // `validate` refused unknown runs and figures before any was evaluated.
                    guard let run = found, let figure = Figures.find(reference.figure) else { return nil }
                    let measurement = figure.measure(run.record, reference.argument)
                    let label = reference.label(run: run.name)
                    if !measured.contains(where: { $0.label == label }) { measured.append((label, measurement)) }
                    return measurement.value.map { reference.factor * $0 }
                }
            }
            let a = value(expectation.left), b = value(expectation.right)
            let holds = a.flatMap { a in b.map { b in expectation.comparator.holds(a, b) } } ?? false
            var text = expectation.text
            if let every {
                text = render(expectation, run: every.name)
            }
            return ExpectationResult(text: text, expression: expectation.text, holds: holds, measured: measured)
        }
    }

    /// The expression with `*` replaced by a run's name.
    static func render(_ expectation: Expectation, run name: String) -> String {
        func side(_ operand: Operand) -> String {
            switch operand {
            case .number(let value): return formatNumber(value)
            case .figure(let reference):
                if case .named(let named) = reference.run { return reference.expression(run: named) }
                return reference.expression(run: name)
            }
        }
        return "\(side(expectation.left)) \(expectation.comparator.rawValue) \(side(expectation.right))"
    }
}

// MARK: - Baselines

/// One figure of one run against the same run's baseline.
struct BaselineResult: Equatable {
    var run: String
    var figure: String
    var current: Measurement
    var baseline: Measurement
    /// Relative change, decades, or the plain difference for exact figures; nil when neither has it.
    var change: Double?
    var scale: Figure.Scale
    var holds: Bool

    var changeText: String {
        guard let change else { return "" }
        if change == 0 { return "unchanged" }
        switch scale {
        case .relative:
            return change.isFinite ? String(format: "%+.1f%%", change * 100) : (change > 0 ? "+inf" : "-inf")
        case .decades:
            return change.isFinite ? String(format: "%+.2f decades", change) : (change > 0 ? "+inf decades" : "-inf decades")
        case .exact:
            return change > 0 ? "+" + formatMeasured(change) : formatMeasured(change)
        }
    }
}

enum BaselineComparison {
    /// The lag the gradient-at-lag figures are compared at: the recall lag on the synthetic corpus,
    /// else 8 steps, inside both windows.
    static func lag(_ current: RunRecord, _ baseline: RunRecord) -> Int {
        let window = min(current.config.bptt, baseline.config.bptt)
        return max(0, min(current.config.lag ?? 8, window - 1))
    }

    /// Every baseline figure of `current` against `baseline`. A figure fails when it moved in its
    /// worse direction (both directions for `.either`) by more than `tolerance`: relative change
    /// (new - old) / |old|, or log10(new / old) for figures on a log scale; exact figures fail on
    /// any worse change. Equal values, including equal infinities and NaN against NaN, are unchanged.
    static func compare(_ current: NamedRun, with baseline: RunRecord, tolerance: Double) -> [BaselineResult] {
        let lag = FigureArgument.number(Double(lag(current.record, baseline)))
        return Figures.all.filter(\.inBaseline).map { figure in
            let argument: FigureArgument? = figure.argument == .lag ? lag : nil
            let now = figure.measure(current.record, argument)
            let before = figure.measure(baseline, argument)
            let label = figure.name + (argument.map { "(\($0))" } ?? "")
            let change = self.change(now.value, before.value, scale: figure.scale)
            var holds = true
            if before.value != nil, now.value == nil {
                holds = false
            } else if let change {
                let limit = figure.scale == .exact ? 0 : tolerance
                switch figure.worse {
                case .higher: holds = !(change > limit)
                case .lower: holds = !(change < -limit)
                case .either: holds = !(abs(change) > limit)
                }
            }
            return BaselineResult(run: current.name, figure: label, current: now, baseline: before, change: change,
                                  scale: figure.scale, holds: holds)
        }
    }

    static func change(_ new: Double?, _ old: Double?, scale: Figure.Scale) -> Double? {
        guard let new, let old else { return nil }
        if new == old || (new.isNaN && old.isNaN) { return 0 }
        if new.isNaN || old.isNaN { return .infinity }
        switch scale {
        case .exact:
            return new - old
        case .relative:
            guard new.isFinite, old.isFinite, old != 0 else { return new > old ? .infinity : -.infinity }
            return (new - old) / abs(old)
        case .decades:
            guard new.isFinite, old.isFinite, new > 0, old > 0 else { return new > old ? .infinity : -.infinity }
            return log10(new / old)
        }
    }
}
