// Points, rectangles and paths: the geometry stage, in whatever units the caller uses
// (layout points for charts; the canvas multiplies by its scale before rasterising).

import Foundation

public struct Point: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }

    static func + (a: Point, b: Point) -> Point { Point(a.x + b.x, a.y + b.y) }
    static func - (a: Point, b: Point) -> Point { Point(a.x - b.x, a.y - b.y) }
    static func * (a: Point, s: Double) -> Point { Point(a.x * s, a.y * s) }
    var length: Double { (x * x + y * y).squareRoot() }
    var isFinite: Bool { x.isFinite && y.isFinite }
}

/// An axis-aligned rectangle; y grows downwards as in the pixmap.
public struct Rect: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var minX: Double { x }
    public var minY: Double { y }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }

    /// The rectangle shrunk by `d` on every side (grown for negative `d`).
    public func insetBy(_ d: Double) -> Rect {
        Rect(x: x + d, y: y + d, width: max(0, width - 2 * d), height: max(0, height - 2 * d))
    }

    public func intersection(_ other: Rect) -> Rect {
        let x0 = max(minX, other.minX), y0 = max(minY, other.minY)
        let x1 = min(maxX, other.maxX), y1 = min(maxY, other.maxY)
        return Rect(x: x0, y: y0, width: max(0, x1 - x0), height: max(0, y1 - y0))
    }

    public func contains(_ p: Point) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }

    public func intersects(_ other: Rect) -> Bool {
        minX < other.maxX && other.minX < maxX && minY < other.maxY && other.minY < maxY
    }
}

/// A set of polygons (subpaths). Filling treats every subpath as closed and combines them with
/// the non-zero winding rule; curves are flattened to line segments when they are added.
public struct Path: Sendable {
    public private(set) var subpaths: [[Point]] = []

    public init() {}

    public mutating func move(to p: Point) { subpaths.append([p]) }

    public mutating func line(to p: Point) {
        if subpaths.isEmpty { subpaths.append([p]) } else { subpaths[subpaths.count - 1].append(p) }
    }

    public mutating func addPolygon(_ points: [Point]) {
        if points.count >= 2 { subpaths.append(points) }
    }

    public mutating func addRect(_ r: Rect) {
        subpaths.append([Point(r.minX, r.minY), Point(r.maxX, r.minY), Point(r.maxX, r.maxY), Point(r.minX, r.maxY)])
    }

    /// A circle flattened so that no chord strays more than `tolerance` from the true arc. The
    /// polygon's vertices sit slightly outside the circle, at r * sqrt(theta / sin theta) for chords of
    /// angle theta, so that its area is exactly pi r^2 and small dots keep their visual weight.
    public mutating func addCircle(center: Point, radius: Double, tolerance: Double = 0.1,
                                   clockwise: Bool = true) {
        guard radius > 0 else { return }
        let n = Path.segmentCount(radius: radius, sweep: 2 * .pi, tolerance: tolerance)
        let theta = 2 * Double.pi / Double(n)
        let radius = radius * (theta / sin(theta)).squareRoot()
        var points: [Point] = []
        points.reserveCapacity(n)
        for k in 0..<n {
            let a = (clockwise ? 1.0 : -1.0) * 2 * .pi * Double(k) / Double(n)
            points.append(Point(center.x + radius * cos(a), center.y + radius * sin(a)))
        }
        subpaths.append(points)
    }

    /// Chords needed for an arc of `sweep` radians: a chord of angle theta strays
    /// r (1 - cos(theta / 2)) from the arc.
    static func segmentCount(radius: Double, sweep: Double, tolerance: Double) -> Int {
        let ratio = max(-1, min(1, 1 - tolerance / max(radius, tolerance)))
        let theta = 2 * acos(ratio)
        let n = theta > 0 ? Int((abs(sweep) / theta).rounded(.up)) : 64
        return max(Int((abs(sweep) / (2 * .pi) * 8).rounded(.up)), min(n, 1024))
    }

    /// Every subpath mapped through `f` (used to go from layout points to pixels).
    func transformed(_ f: (Point) -> Point) -> Path {
        var out = Path()
        out.subpaths = subpaths.map { $0.map(f) }
        return out
    }

    var isEmpty: Bool { subpaths.allSatisfy { $0.count < 2 } }
}

/// Cuts a polyline to the parts inside `rect` (Liang-Barsky on each segment), so that lines
/// running far outside a plot cost nothing to stroke or dash. Returns the visible pieces.
func clipPolyline(_ points: [Point], to rect: Rect) -> [[Point]] {
    var pieces: [[Point]] = []
    var current: [Point] = []
    func flush() {
        if !current.isEmpty { pieces.append(current) }
        current = []
    }
    guard points.count >= 2 else { return points.isEmpty || !rect.contains(points[0]) ? [] : [points] }
    for k in 0..<(points.count - 1) {
        let a = points[k], b = points[k + 1]
        guard a.isFinite, b.isFinite else { flush(); continue }
        let d = b - a
        var t0 = 0.0, t1 = 1.0
        var visible = true
        for (p, q) in [(-d.x, a.x - rect.minX), (d.x, rect.maxX - a.x), (-d.y, a.y - rect.minY), (d.y, rect.maxY - a.y)] {
            if p == 0 {
                if q < 0 { visible = false; break }
            } else {
                let r = q / p
                if p < 0 { if r > t1 { visible = false; break } else if r > t0 { t0 = r } }
                else { if r < t0 { visible = false; break } else if r < t1 { t1 = r } }
            }
        }
        guard visible else { flush(); continue }
        let start = t0 > 0 ? a + d * t0 : a
        let end = t1 < 1 ? a + d * t1 : b
        if current.isEmpty || t0 > 0 {
            flush()
            current = [start]
        }
        current.append(end)
        if t1 < 1 { flush() }
    }
    flush()
    return pieces
}
