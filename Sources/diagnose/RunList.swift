// Many runs from one command: the flags that shape a run take a comma list (`--seed 0,1,2`) or an
// inclusive range (`--spectral-radius 0.25:2:0.25`), the runs are the product of the cells and
// every list, each run gets a folder named from what varies (`lstm-sr1.25-s2`), and `--shard K/N`
// keeps a deterministic slice of that list so a batch scheduler can spread it over machines.
//
// Everything here is pure: text in, values and names out. Nothing trains or touches files.

import ArgumentParser
import DiagnoseRecord
import Foundation

/// A number type a flag list can hold.
protocol ListNumber: Comparable, Sendable {
    init?(_ text: String)
    /// The value as the folder name and the recorded command write it.
    var text: String { get }
    /// `start + index * step`; for decimals rounded to `decimals` places so that 0.1 steps stay 0.3, not 0.30000000000000004.
    static func member(start: Self, step: Self, index: Int, decimals: Int) -> Self
    /// How many members START:STOP:STEP has, or nil when it would be more than `limit`.
    static func count(start: Self, stop: Self, step: Self, limit: Int) -> Int?
    var isPositive: Bool { get }
}

extension Int: ListNumber {
    var text: String { String(self) }
    static func member(start: Int, step: Int, index: Int, decimals: Int) -> Int { start + index * step }
    static func count(start: Int, stop: Int, step: Int, limit: Int) -> Int? {
        let (span, overflow) = stop.subtractingReportingOverflow(start)
        guard !overflow else { return nil }
        let n = span / step + 1
        return n <= limit ? n : nil
    }
    var isPositive: Bool { self > 0 }
}

extension UInt64: ListNumber {
    var text: String { String(self) }
    static func member(start: UInt64, step: UInt64, index: Int, decimals: Int) -> UInt64 { start + UInt64(index) * step }
    static func count(start: UInt64, stop: UInt64, step: UInt64, limit: Int) -> Int? {
        let n = (stop - start) / step + 1
        return n <= UInt64(limit) ? Int(n) : nil
    }
    var isPositive: Bool { self > 0 }
}

extension Double: ListNumber {
    /// Shortest text that reads back as the same value, without a trailing ".0": 1, 1.25, 0.001.
    var text: String {
        if self == rounded(), abs(self) < 1e15 { return String(Int64(self)) }
        return "\(self)"
    }
    static func member(start: Double, step: Double, index: Int, decimals: Int) -> Double {
        let scale = pow(10, Double(decimals))
        return ((start + Double(index) * step) * scale).rounded() / scale
    }
    static func count(start: Double, stop: Double, step: Double, limit: Int) -> Int? {
        // A small tolerance so that 0.25:2:0.25 includes 2 despite binary fractions.
        let n = ((stop - start) / step * (1 + 1e-12) + 1e-9).rounded(.down) + 1
        return n.isFinite && n <= Double(limit) ? Int(n) : nil
    }
    var isPositive: Bool { self > 0 }
}

/// The most values one flag may list (a range is counted before anything is allocated).
let maximumValuesPerFlag = 10_000

/// One flag's values: a single number, a comma list `0,1,2`, or an inclusive range `START:STOP:STEP`.
/// Parsing never fails inside ArgumentParser; `check(_:)` throws the message, naming the flag, from
/// `validate()`, so a bad list is a usage error (exit 64) that says what is wrong.
struct FlagList<Value: ListNumber>: ExpressibleByArgument, Sendable {
    /// The values in the order given, each once.
    private(set) var values: [Value] = []
    /// What was typed.
    let argument: String
    private var problem: String?

    init(_ value: Value) {
        values = [value]
        argument = value.text
    }

    init?(argument: String) {
        self.argument = argument
        do { values = try FlagList.parse(argument) } catch { problem = "\(error)" }
    }

    /// The first value: what single-run commands (gradcheck) and the defaults use.
    var value: Value { values[0] }
    var isList: Bool { values.count > 1 }
    var defaultValueDescription: String { argument }

    /// Throws a `ValidationError` naming `flag` when the text was not a number, list or range.
    func check(_ flag: String) throws {
        if let problem { throw ValidationError("\(flag) \(argument): \(problem)") }
    }

    /// Every value must satisfy `rule`; `message` says what it should be.
    func checkEach(_ flag: String, _ message: String, _ rule: (Value) -> Bool) throws {
        try check(flag)
        if let bad = values.first(where: { !rule($0) }) {
            throw ValidationError("\(flag) \(bad.text): \(message)")
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> [Value] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Value] = []
        for item in items {
            guard !item.isEmpty else { throw ParseError(description: "an empty item; write a number, a list 0,1,2 or a range START:STOP:STEP") }
            let new = item.contains(":") ? try range(item) : [try number(item)]
            for value in new where !values.contains(value) {
                values.append(value)
                guard values.count <= maximumValuesPerFlag else {
                    throw ParseError(description: "more than \(maximumValuesPerFlag) values; use a coarser STEP")
                }
            }
        }
        return values
    }

    static func number(_ item: String) throws -> Value {
        guard let value = Value(item), "\(value)" != "nan", "\(value)" != "inf", "\(value)" != "-inf" else {
            throw ParseError(description: "'\(item)' is not a number; write a number, a list 0,1,2 or a range START:STOP:STEP")
        }
        return value
    }

    static func range(_ item: String) throws -> [Value] {
        let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw ParseError(description: "a range is START:STOP:STEP with all three parts, e.g. 0.25:2:0.25")
        }
        let start = try number(parts[0]), stop = try number(parts[1]), step = try number(parts[2])
        guard step.isPositive else { throw ParseError(description: "the STEP of \(item) must be positive") }
        guard stop >= start else {
            throw ParseError(description: "the range \(item) is empty: STOP must be at least START (the range includes both ends)")
        }
        guard let count = Value.count(start: start, stop: stop, step: step, limit: maximumValuesPerFlag) else {
            throw ParseError(description: "the range \(item) has more than \(maximumValuesPerFlag) values; use a larger STEP")
        }
        let decimals = parts.map { part in part.split(separator: ".").dropFirst().first.map { $0.prefix { $0.isNumber }.count } ?? 0 }.max()!
        return (0..<count).map { Value.member(start: start, step: step, index: $0, decimals: decimals) }
    }
}

extension FlagList: ExpressibleByIntegerLiteral where Value: ExpressibleByIntegerLiteral {
    init(integerLiteral value: Value.IntegerLiteralType) { self.init(Value(integerLiteral: value)) }
}

extension FlagList: ExpressibleByFloatLiteral where Value == Double {
    init(floatLiteral value: Double) { self.init(value) }
}

/// The flags that take lists, in the order runs are nested (the seed innermost) and folder names
/// list them.
enum SweepFlag: String, CaseIterable, Sendable {
    case spectralRadius = "spectral-radius", forgetBias = "forget-bias", lag, hidden, embed, layers, lr, clip, dropout, bptt, batch, seed

    /// The flag's short tag in a folder name: `sr1.25`, `s2`.
    var tag: String {
        switch self {
        case .spectralRadius: return "sr"
        case .forgetBias: return "fb"
        case .lag: return "lag"
        case .hidden: return "h"
        case .embed: return "e"
        case .layers: return "l"
        case .lr: return "lr"
        case .clip: return "clip"
        case .dropout: return "drop"
        case .bptt: return "bptt"
        case .batch: return "b"
        case .seed: return "s"
        }
    }
}

/// One run of a plan: its folder name, its cell and the value of every listed flag.
struct PlannedRun: Equatable, Sendable {
    var name: String
    var cell: CellKind
    /// The value text of every flag that was given a list (more than one value), in `SweepFlag` order.
    var values: [SweepFlag: String]

    /// The flags that pick this run out of the plan: `--cell lstm --spectral-radius 1.25 --seed 2`.
    var flags: [String] {
        ["--cell", cell.rawValue] + SweepFlag.allCases.compactMap { flag in values[flag].map { ["--\(flag.rawValue)", $0] } }.joined()
    }
}

enum RunPlanError: Error, CustomStringConvertible, Equatable {
    case tooManyRuns(count: String, limit: Int)
    case beyondHardLimit(count: String, limit: Int)

    var description: String {
        switch self {
        case let .tooManyRuns(count, limit):
            return "this command makes \(count) runs, more than \(limit): check the lists and ranges "
                + "(--dry-run prints them), then add --yes to run them all, or split them with --shard K/N"
        case let .beyondHardLimit(count, limit):
            return "this command makes \(count) runs; at most \(limit) are supported in one command even with --yes: "
                + "use coarser ranges"
        }
    }
}

enum RunPlan {
    /// More runs than this need `--yes`.
    static let confirmationLimit = 100
    /// No command makes more runs than this.
    static let hardLimit = 100_000

    /// The runs: every cell times every combination of the listed values, cells outermost and the
    /// seed innermost. Folder names: `[name-]cell` (the cell is left out when a `name` is given for a
    /// single cell, as for a single run), then `tagvalue` for each flag with more than one value:
    /// `lstm-sr1.25-s2`, `wide-rnn-h128`. Throws when there are more than `confirmationLimit` runs
    /// and `confirmed` is false, or more than `hardLimit`.
    static func expand(cells: [CellKind], lists: [(SweepFlag, [String])], name: String?, confirmed: Bool) throws -> [PlannedRun] {
        let varying = SweepFlag.allCases.compactMap { flag -> (SweepFlag, [String])? in
            guard let values = lists.first(where: { $0.0 == flag })?.1, values.count > 1 else { return nil }
            return (flag, values)
        }
        var count = cells.count
        var overflow = false
        for (_, values) in varying {
            let (product, over) = count.multipliedReportingOverflow(by: values.count)
            overflow = overflow || over || product > hardLimit
            count = overflow ? hardLimit + 1 : product
        }
        let countText = overflow ? "more than \(hardLimit)" : "\(count)"
        if count > hardLimit { throw RunPlanError.beyondHardLimit(count: countText, limit: hardLimit) }
        if count > confirmationLimit && !confirmed { throw RunPlanError.tooManyRuns(count: countText, limit: confirmationLimit) }

        var combinations: [[SweepFlag: String]] = [[:]]
        for (flag, values) in varying {
            combinations = combinations.flatMap { partial in
                values.map { value in partial.merging([flag: value]) { $1 } }
            }
        }
        var runs: [PlannedRun] = []
        for cell in cells {
            for combination in combinations {
                var parts: [String] = []
                if let name { parts.append(name) }
                if name == nil || cells.count > 1 { parts.append(cell.rawValue) }
                for (flag, _) in varying { parts.append(flag.tag + combination[flag]!) }
                runs.append(PlannedRun(name: parts.joined(separator: "-"), cell: cell, values: combination))
            }
        }
        return runs
    }

    /// The K-th of N slices (K from 1): runs whose position in the whole list is K-1 modulo N.
    /// Dealt like cards, so each shard gets a share of every part of the sweep (cheap and costly
    /// values alike); together the N slices are the whole list, each run exactly once.
    static func shard(_ runs: [PlannedRun], _ shard: Shard?) -> [PlannedRun] {
        guard let shard else { return runs }
        return runs.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(\.element)
    }

    /// `argv` without the flags the plan sets per run (the flags that vary, `--cell`, `--name`) and the
    /// plan's own (`--shard`, `--yes`, `--dry-run`), then the run's own values and `--name`: the
    /// command that makes this one run alone. Flags that take one value across the plan
    /// (`--spectral-radius 3`) stay as typed. Recorded in its run.json.
    static func command(for run: PlannedRun, arguments: [String]) -> [String] {
        let valued = Set(run.values.keys.map { "--\($0.rawValue)" } + ["--cell", "--name", "--shard"])
        let bare: Set<String> = ["--yes", "--dry-run"]
        var kept: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let key = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if bare.contains(argument) {
                index += 1
            } else if valued.contains(argument) {
                index += 2
            } else if argument.contains("="), valued.contains(key) {
                index += 1
            } else {
                kept.append(argument)
                index += 1
            }
        }
        return kept + run.flags + ["--name", run.name]
    }
}

/// `--shard K/N`: the K-th (1...N) of N slices of the run list.
struct Shard: ExpressibleByArgument, Equatable, Sendable {
    var index = 1
    var count = 1
    /// What was wrong with the text, reported by `check()` from `validate()`.
    var problem: String?
    var text = ""
    static let maximumCount = 10_000

    init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    init?(argument: String) {
        text = argument
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            problem = "write K/N, the K-th of N slices, e.g. 2/3"
            return
        }
        guard n >= 1, n <= Shard.maximumCount, k >= 1, k <= n else {
            problem = "K and N must satisfy 1 <= K <= N <= \(Shard.maximumCount)"
            return
        }
        index = k
        count = n
    }

    func check() throws {
        if let problem { throw ValidationError("--shard \(text): \(problem)") }
    }
}
