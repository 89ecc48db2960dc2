// The name of every chart the renderer draws. Its raw value is the file stem (`gradient-flow`
// is written as `gradient-flow.png`) and the fragment of the report's figure id; the report's
// placement and captions switch over it, so a new chart cannot be drawn without being placed
// and captioned.
//
// A String-backed enum but for the sweep charts, whose names carry the swept flags: they have
// associated values, so `RawRepresentable` is spelled out instead of derived.

public enum ChartID: Hashable, Sendable {
    // One run's charts, in the order the report shows them.
    case gradientFlow, gradientDecay, depth, spectrum, jacobianProducts, gates, training
    // Charts that overlay all runs.
    case compareLagProfiles, compareTraining, compareSpectra, compareDepth
    /// One swept flag: the summary numbers against its value (`sweep-spectralRadius`).
    case sweep(SweepAxis)
    /// Two swept flags: the phase diagram, `across` then `down` (`sweep-spectralRadius-lag`).
    case phase(SweepAxis, SweepAxis)

    /// The charts that take no sweep axis.
    static let fixed: [ChartID] = [.gradientFlow, .gradientDecay, .depth, .spectrum, .jacobianProducts, .gates, .training,
                                   .compareLagProfiles, .compareTraining, .compareSpectra, .compareDepth]

    /// Drawn once for all runs rather than for each run.
    public var isComparison: Bool {
        switch self {
        case .gradientFlow, .gradientDecay, .depth, .spectrum, .jacobianProducts, .gates, .training: return false
        case .compareLagProfiles, .compareTraining, .compareSpectra, .compareDepth, .sweep, .phase: return true
        }
    }
}

extension ChartID: RawRepresentable {
    public var rawValue: String {
        switch self {
        case .gradientFlow: return "gradient-flow"
        case .gradientDecay: return "gradient-decay"
        case .depth: return "depth"
        case .spectrum: return "spectrum"
        case .jacobianProducts: return "jacobian-products"
        case .gates: return "gates"
        case .training: return "training"
        case .compareLagProfiles: return "compare-lag-profiles"
        case .compareTraining: return "compare-training"
        case .compareSpectra: return "compare-spectra"
        case .compareDepth: return "compare-depth"
        case .sweep(let axis): return "sweep-\(axis.rawValue)"
        case .phase(let across, let down): return "sweep-\(across.rawValue)-\(down.rawValue)"
        }
    }

    public init?(rawValue: String) {
        if let id = ChartID.fixed.first(where: { $0.rawValue == rawValue }) {
            self = id
            return
        }
        guard rawValue.hasPrefix("sweep-") else { return nil }
        let axes = rawValue.dropFirst("sweep-".count).split(separator: "-", omittingEmptySubsequences: false)
            .map { SweepAxis(rawValue: String($0)) }
        switch axes.count {
        case 1: guard let a = axes[0] else { return nil }; self = .sweep(a)
        case 2: guard let a = axes[0], let b = axes[1] else { return nil }; self = .phase(a, b)
        default: return nil
        }
    }
}
