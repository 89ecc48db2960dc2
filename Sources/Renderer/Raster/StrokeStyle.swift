// How a line is drawn: width, joins, caps and an optional dash pattern.

import Foundation

public struct StrokeStyle: Sendable, Equatable {
    public enum Join: Sendable, Equatable { case miter, round, bevel }
    public enum Cap: Sendable, Equatable { case butt, round, square }

    /// Line width, in the caller's units.
    public var width: Double
    public var join: Join
    public var cap: Cap
    /// A miter longer than `miterLimit * width / 2` from the vertex becomes a bevel.
    public var miterLimit: Double
    /// Alternating on and off lengths (empty: solid), in the caller's units.
    public var dash: [Double]
    /// How far into the dash pattern the line starts.
    public var dashPhase: Double

    public init(width: Double, join: Join = .round, cap: Cap = .butt, miterLimit: Double = 4,
                dash: [Double] = [], dashPhase: Double = 0) {
        self.width = width
        self.join = join
        self.cap = cap
        self.miterLimit = miterLimit
        self.dash = dash
        self.dashPhase = dashPhase
    }
}
