// Many runs as the report sees them: runs that differ only in their seed form a group (the seed
// spread of one setting), and the numeric flags that take more than one value across the groups
// are the sweep's axes. Computed from the records alone, so runs merged from several machines
// group exactly as if one command had made them.

import DiagnoseRecord
import Foundation

/// A numeric flag a sweep can vary, read from the record's config.
public enum SweepAxis: String, CaseIterable, Sendable {
    case spectralRadius, forgetBias, lag, hidden, embed, layers, learningRate, clip, dropout, bptt, batch

    /// The axis title on a chart.
    var title: String {
        switch self {
        case .spectralRadius: return "spectral radius ρ of W_{hh} at initialisation"
        case .forgetBias: return "forget-gate bias b_{f} at initialisation"
        case .lag: return "recall lag (steps)"
        case .hidden: return "hidden units H"
        case .embed: return "embedding size E"
        case .layers: return "layers"
        case .learningRate: return "learning rate"
        case .clip: return "clipping threshold"
        case .dropout: return "dropout probability"
        case .bptt: return "window T (bptt)"
        case .batch: return "batch B"
        }
    }

    /// The command-line flag that sets it.
    public var flag: String {
        switch self {
        case .spectralRadius: return "--spectral-radius"
        case .forgetBias: return "--forget-bias"
        case .learningRate: return "--lr"
        default: return "--" + rawValue
        }
    }

    /// Spread over decades: drawn on a log axis.
    var logarithmic: Bool { self == .learningRate }

    public func value(_ config: RunConfig) -> Double? {
        switch self {
        case .spectralRadius: return config.spectralRadius
        case .forgetBias: return config.cell == .lstm ? config.forgetBias : nil
        case .lag: return config.lag.map(Double.init)
        case .hidden: return Double(config.hidden)
        case .embed: return Double(config.embed)
        case .layers: return Double(config.layers)
        case .learningRate: return config.learningRate
        case .clip: return config.clip
        case .dropout: return config.dropout ?? 0
        case .bptt: return Double(config.bptt)
        case .batch: return Double(config.batch)
        }
    }
}

/// Runs that differ only in their seed.
public struct SeedGroup: Sendable {
    /// The runs, by increasing seed.
    public var records: [RunRecord]
    public var config: RunConfig { records[0].config }
    public var seeds: [UInt64] { records.map(\.config.seed) }
}

public enum RunGroups {
    /// The config with what does not change the numbers' meaning blanked: the seed and the thread count.
    static func groupKey(_ config: RunConfig) -> RunConfig {
        var key = config
        key.seed = 0
        key.threads = 0
        return key
    }

    /// Groups of runs that differ only in their seed, in the order their first run appears.
    public static func seedGroups(_ records: [RunRecord]) -> [SeedGroup] {
        var keys: [RunConfig] = []
        var members: [[RunRecord]] = []
        for record in records {
            let key = groupKey(record.config)
            if let index = keys.firstIndex(of: key) {
                members[index].append(record)
            } else {
                keys.append(key)
                members.append([record])
            }
        }
        return members.map { SeedGroup(records: $0.enumerated().sorted { a, b in
            a.element.config.seed != b.element.config.seed ? a.element.config.seed < b.element.config.seed : a.offset < b.offset
        }.map(\.element)) }
    }

    /// The axes along which the runs' values differ (two or more distinct values), in `SweepAxis` order.
    public static func sweptAxes(_ records: [RunRecord]) -> [SweepAxis] {
        SweepAxis.allCases.filter { axis in
            Set(records.compactMap { axis.value($0.config) }).count > 1
        }
    }

    /// Orders runs of one cell by their flags (every sweep axis, then the seed), ties in the order
    /// given: the report's order then does not depend on how runs were split over machines.
    static func precedes(_ a: RunConfig, _ b: RunConfig) -> Bool? {
        for axis in SweepAxis.allCases {
            let x = axis.value(a) ?? -.infinity, y = axis.value(b) ?? -.infinity
            if x != y { return x < y }
        }
        if a.activation != b.activation { return a.activation.rawValue < b.activation.rawValue }
        if a.seed != b.seed { return a.seed < b.seed }
        return nil
    }
}

extension SeedGroup {
    /// The runs' common name: their names without the seed tag (`lstm-sr1.25` for `lstm-sr1.25-s0`,
    /// `-s1`), or the first run's name followed by "…" when they do not share one.
    public var name: String {
        let stripped = records.map { record -> String in
            let tag = "-s\(record.config.seed)"
            return record.name.hasSuffix(tag) && record.name.count > tag.count ? String(record.name.dropLast(tag.count)) : record.name
        }
        if records.count == 1 { return records[0].name }
        return Set(stripped).count == 1 ? stripped[0] : records[0].name + " …"
    }
}

/// The middle and the spread of one number over a group's seeds: the median with min to max, or
/// with the interquartile range when there are five or more seeds (so one outlier does not set it).
public struct SeedSpread: Sendable, Equatable {
    public var median: Double
    public var lower: Double
    public var upper: Double
    public var count: Int
    public var interquartile: Bool { count >= 5 }

    /// The finite values' spread; nil when none is finite.
    public init?(_ values: [Double?]) {
        let sorted = values.compactMap { $0 }.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return nil }
        count = sorted.count
        median = SeedSpread.quantile(sorted, 0.5)
        if sorted.count >= 5 {
            lower = SeedSpread.quantile(sorted, 0.25)
            upper = SeedSpread.quantile(sorted, 0.75)
        } else {
            lower = sorted[0]
            upper = sorted[sorted.count - 1]
        }
    }

    /// Linear interpolation between order statistics (the common "type 7" quantile).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
        return sorted[below] + (sorted[above] - sorted[below]) * (position - Double(below))
    }

    /// "min to max" or "interquartile range": what `lower...upper` is.
    public var rangeName: String { interquartile ? "interquartile range" : "min to max" }

    /// Whether two spreads overlap: a difference of medians inside the seed-to-seed spread.
    public func overlaps(_ other: SeedSpread) -> Bool { lower <= other.upper && other.lower <= upper }

    /// Pointwise spreads of several series (shorter series end early).
    static func pointwise(_ series: [[Double]]) -> [SeedSpread?] {
        let length = series.map(\.count).max() ?? 0
        return (0..<length).map { i in SeedSpread(series.map { i < $0.count ? $0[i] : nil }) }
    }
}
