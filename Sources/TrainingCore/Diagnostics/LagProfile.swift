import Foundation

/// Figures derived from one G matrix.
public struct LagProfile: Sendable, Equatable {
    /// g(l) = mean over t >= l of G[t][t - l], l = 0..<T.
    public var values: [Double]
    /// exp of the least-squares slope of log g(l) against l: the factor the gradient keeps per step.
    public var decayPerStep: Double?
    /// The smallest lag with g(l) / g(0) < 1e-3, or nil when it stays above within the window.
    public var horizon: Int?

    public static let horizonThreshold = 1e-3

    /// g(l) over the defined entries only (nil where no entry at that lag is defined).
    public static func sparse(_ g: [[Double?]]) -> [Double?] {
        (0..<g.count).map { lag in
            let values = (lag..<g.count).compactMap { g[$0][$0 - lag] }
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
    }

    public init(gradientFlow g: [[Double]]) {
        let steps = g.count
        values = (0..<steps).map { lag in
            var sum = 0.0
            for t in lag..<steps { sum += g[t][t - lag] }
            return sum / Double(steps - lag)
        }
        let points = values.enumerated().compactMap { lag, value -> (Double, Double)? in
            value > 0 && value.isFinite ? (Double(lag), Foundation.log(value)) : nil
        }
        if points.count >= 2 {
            let meanX = points.map(\.0).reduce(0, +) / Double(points.count)
            let meanY = points.map(\.1).reduce(0, +) / Double(points.count)
            var sxy = 0.0, sxx = 0.0
            for (x, y) in points {
                sxy += (x - meanX) * (y - meanY)
                sxx += (x - meanX) * (x - meanX)
            }
            decayPerStep = sxx > 0 ? Foundation.exp(sxy / sxx) : nil
        } else {
            decayPerStep = nil
        }
        if let first = values.first, first > 0, first.isFinite {
            horizon = values.firstIndex { !($0 / first >= LagProfile.horizonThreshold) }
        } else {
            horizon = nil
        }
    }
}
