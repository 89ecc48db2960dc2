// Stroking: turns a polyline into the outline of a line of some width, a path the rasterizer
// fills with the non-zero rule.
//
// Each side of the line is the polyline offset by half the width along the segment normals.
// At a vertex the outer side gets the join (round arc, miter point or bevel); the inner side goes
// through the vertex itself, which leaves small overlapping triangles inside the line whose
// winding adds up instead of cancelling, so the fill is solid however short the segments are.

import Foundation

enum Stroker {
    /// The outline of `points` stroked with `style` (dashing is applied first).
    static func outline(_ points: [Point], closed: Bool, style: StrokeStyle, tolerance: Double = 0.1) -> Path {
        var path = Path()
        guard style.width > 0, style.width.isFinite else { return path }
        if !style.dash.isEmpty {
            for piece in Dasher.split(points, closed: closed, pattern: style.dash, phase: style.dashPhase) {
                append(piece, closed: false, style: style, tolerance: tolerance, to: &path)
            }
        } else {
            append(points, closed: closed, style: style, tolerance: tolerance, to: &path)
        }
        return path
    }

    private static func append(_ raw: [Point], closed: Bool, style: StrokeStyle, tolerance: Double,
                               to path: inout Path) {
        // Drop repeated points: they have no direction.
        var points: [Point] = []
        points.reserveCapacity(raw.count)
        for p in raw where p.isFinite {
            if let last = points.last, (p - last).length < 1e-9 { continue }
            points.append(p)
        }
        if closed, points.count > 2, let first = points.first, let last = points.last,
           (first - last).length < 1e-9 {
            points.removeLast()
        }
        let hw = style.width / 2
        guard points.count >= 2 else {
            // A lone point: a dot for round and square caps, nothing for butt caps.
            if let p = points.first ?? raw.first(where: { $0.isFinite }) {
                switch style.cap {
                case .round: path.addCircle(center: p, radius: hw, tolerance: tolerance)
                case .square: path.addRect(Rect(x: p.x - hw, y: p.y - hw, width: style.width, height: style.width))
                case .butt: break
                }
            }
            return
        }

        let closedLoop = closed && points.count > 2
        let n = points.count
        let segmentCount = closedLoop ? n : n - 1
        var directions: [Point] = []
        directions.reserveCapacity(segmentCount)
        for i in 0..<segmentCount {
            let d = points[(i + 1) % n] - points[i]
            directions.append(d * (1 / d.length))
        }
        func normal(_ u: Point) -> Point { Point(-u.y, u.x) }

        if closedLoop {
            var left: [Point] = [], right: [Point] = []
            for k in 0..<n {
                let incoming = directions[(k + segmentCount - 1) % segmentCount], outgoing = directions[k]
                join(at: points[k], incoming, outgoing, side: 1, hw: hw, style: style, tolerance: tolerance, into: &left)
                join(at: points[k], incoming, outgoing, side: -1, hw: hw, style: style, tolerance: tolerance,
                     into: &right)
            }
            path.addPolygon(left)
            path.addPolygon(right.reversed())
            return
        }

        var left: [Point] = [points[0] + normal(directions[0]) * hw]
        var right: [Point] = [points[0] - normal(directions[0]) * hw]
        for k in 1..<(n - 1) {
            join(at: points[k], directions[k - 1], directions[k], side: 1, hw: hw, style: style,
                 tolerance: tolerance, into: &left)
            join(at: points[k], directions[k - 1], directions[k], side: -1, hw: hw, style: style,
                 tolerance: tolerance, into: &right)
        }
        let uEnd = directions[segmentCount - 1], uStart = directions[0]
        left.append(points[n - 1] + normal(uEnd) * hw)
        right.append(points[n - 1] - normal(uEnd) * hw)

        var outline = left
        cap(at: points[n - 1], direction: uEnd, hw: hw, style: style, tolerance: tolerance, into: &outline)
        outline.append(contentsOf: right.reversed())
        cap(at: points[0], direction: uStart * -1, hw: hw, style: style, tolerance: tolerance, into: &outline)
        path.addPolygon(outline)
    }

    /// Points of one side of the line around vertex `p`, where the direction turns from `u1` to `u2`.
    /// `side` +1 is the side of the normal (-u.y, u.x), -1 the other.
    private static func join(at p: Point, _ u1: Point, _ u2: Point, side: Double, hw: Double, style: StrokeStyle,
                             tolerance: Double, into out: inout [Point]) {
        let n1 = Point(-u1.y, u1.x) * side, n2 = Point(-u2.y, u2.x) * side
        let a = p + n1 * hw, b = p + n2 * hw
        let cross = u1.x * u2.y - u1.y * u2.x
        let dot = u1.x * u2.x + u1.y * u2.y
        if abs(cross) < 1e-9 && dot > 0 {
            out.append(a)
            return
        }
        // The side the line turns towards is the inner one: cross > 0 turns towards +normal.
        let outer = abs(cross) < 1e-9 ? side > 0 : cross * side < 0
        guard outer else {
            out.append(a)
            out.append(p)
            out.append(b)
            return
        }
        switch style.join {
        case .bevel:
            out.append(a)
            out.append(b)
        case .miter:
            // The miter tip lies hw / cos(theta / 2) from p along the bisector of the two normals.
            let bisector = n1 + n2
            let length = bisector.length
            let cosHalf = length / 2
            if length > 1e-9, 1 / cosHalf <= style.miterLimit {
                out.append(a)
                out.append(p + bisector * (hw / (cosHalf * length)))
                out.append(b)
            } else {
                out.append(a)
                out.append(b)
            }
        case .round:
            arc(center: p, radius: hw, from: n1, to: n2, via: u1, tolerance: tolerance, into: &out)
        }
    }

    /// Caps the end at `p` where the line leaves in `direction`; continues from the side of the
    /// normal (+) to the other side.
    private static func cap(at p: Point, direction u: Point, hw: Double, style: StrokeStyle, tolerance: Double,
                            into out: inout [Point]) {
        let n = Point(-u.y, u.x)
        switch style.cap {
        case .butt:
            break
        case .square:
            out.append(p + n * hw + u * hw)
            out.append(p - n * hw + u * hw)
        case .round:
            arc(center: p, radius: hw, from: n, to: n * -1, via: u, tolerance: tolerance, into: &out)
        }
    }

    /// Arc of `radius` around `center` from unit direction `from` to `to`, turning the way that
    /// passes `via` (needed when the two are opposite). Includes both end points.
    private static func arc(center: Point, radius: Double, from: Point, to: Point, via: Point, tolerance: Double,
                            into out: inout [Point]) {
        let a0 = atan2(from.y, from.x)
        var sweep = atan2(to.y, to.x) - a0
        while sweep > .pi { sweep -= 2 * .pi }
        while sweep < -.pi { sweep += 2 * .pi }
        // Check the midpoint heads along `via`; otherwise go the long way round.
        let mid = a0 + sweep / 2
        if cos(mid) * via.x + sin(mid) * via.y < 0 { sweep += sweep > 0 ? -2 * .pi : 2 * .pi }
        // Caps and joins are small arcs whose chords would visibly thin them: flatten 4x finer.
        let steps = max(1, Path.segmentCount(radius: radius, sweep: sweep, tolerance: tolerance / 4))
        for k in 0...steps {
            let angle = a0 + sweep * Double(k) / Double(steps)
            out.append(Point(center.x + radius * cos(angle), center.y + radius * sin(angle)))
        }
    }
}
