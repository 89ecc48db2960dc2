// Coverage: turns a path (in pixel coordinates) into per-pixel coverage and blends a colour
// into the pixmap with it.
//
// Method: exact-area accumulation. Every edge adds, to an accumulation buffer, the signed change
// of covered area it causes from one pixel to the next along its row; a running sum along each
// row then gives the exact area of each pixel that lies inside the path, counted with the edge
// directions (the winding number integrated over the pixel). Coverage is min(1, |sum|), which is
// the non-zero winding rule wherever a pixel is not cut by edges of differently wound regions.
//
// For an edge crossing a row with signed height d (positive downwards) and x running from xa to
// xb (xa <= xb), the area of pixel column i to the right of the edge is
//     d * f(i),  f(i) = [A(i + 1 - xa) - A(i + 1 - xb)] / (xb - xa),
// where A(s) = 0 for s <= 0, s^2 / 2 for 0 <= s <= 1, s - 1/2 for s >= 1 is the integral of
// clamp(s, 0, 1). The buffer stores d * (f(i) - f(i - 1)), so the prefix sum recovers d * f(i).

import Foundation

/// A pixel rectangle [x0, x1) x [y0, y1).
struct IntRect: Sendable, Equatable {
    var x0: Int, y0: Int, x1: Int, y1: Int
    var isEmpty: Bool { x1 <= x0 || y1 <= y0 }
    func intersection(_ o: IntRect) -> IntRect {
        IntRect(x0: max(x0, o.x0), y0: max(y0, o.y0), x1: min(x1, o.x1), y1: min(y1, o.y1))
    }
}

struct Rasterizer {
    /// Scratch buffers reused across fills; always all-zero between fills.
    private var accumulation: [Float] = []
    private var rowFirst: [Int] = []
    private var rowLast: [Int] = []

    init() {}

    /// Fills `path` (pixel coordinates) with `color` under the non-zero rule, inside `clip`.
    mutating func fill(_ path: Path, color: Color, clip: IntRect, into pixmap: inout Pixmap) {
        guard color.alpha > 0 else { return }
        // Bounding box of the finite points.
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for sub in path.subpaths where sub.count >= 2 {
            for p in sub where p.isFinite {
                minX = min(minX, p.x); maxX = max(maxX, p.x)
                minY = min(minY, p.y); maxY = max(maxY, p.y)
            }
        }
        guard minX <= maxX, minY <= maxY else { return }
        let bounds = IntRect(x0: 0, y0: 0, x1: pixmap.width, y1: pixmap.height).intersection(clip)
        // The box starts at the clip's left edge when the path extends beyond it, so edges left
        // of the box can be projected onto its left side.
        let box = IntRect(x0: Int(max(Double(bounds.x0), min(Double(bounds.x1), minX.rounded(.down)))),
                          y0: Int(max(Double(bounds.y0), min(Double(bounds.y1), minY.rounded(.down)))),
                          x1: Int(max(Double(bounds.x0), min(Double(bounds.x1), maxX.rounded(.up)))),
                          y1: Int(max(Double(bounds.y0), min(Double(bounds.y1), maxY.rounded(.up)))))
        guard !box.isEmpty else { return }
        let w = box.x1 - box.x0, h = box.y1 - box.y0, stride = w + 2
        if accumulation.count < stride * h { accumulation = [Float](repeating: 0, count: stride * h) }
        if rowFirst.count < h {
            rowFirst = [Int](repeating: Int.max, count: h)
            rowLast = [Int](repeating: Int.min, count: h)
        }

        let ox = Double(box.x0), oy = Double(box.y0)
        for sub in path.subpaths where sub.count >= 2 {
            let points = sub.filter { $0.isFinite }
            guard points.count >= 2 else { continue }
            var previous = points[points.count - 1]
            for p in points {
                addEdge(x0: previous.x - ox, y0: previous.y - oy, x1: p.x - ox, y1: p.y - oy,
                        width: Double(w), height: Double(h), stride: stride)
                previous = p
            }
        }

        let source = Pixmap.premultipliedFloat(color)
        for row in 0..<h {
            let first = rowFirst[row], last = rowLast[row]
            guard first <= last else { continue }
            rowFirst[row] = Int.max
            rowLast[row] = Int.min
            let base = row * stride
            var sum: Float = 0
            let pixelRow = (box.y0 + row) * pixmap.width + box.x0
            for col in first...last {
                sum += accumulation[base + col]
                accumulation[base + col] = 0
                guard col < w else { continue }
                let coverage = min(1, abs(sum))
                if coverage > 1.0 / 1024 {
                    pixmap.blend(pixelIndex: pixelRow + col, premultiplied: source, coverage: coverage)
                }
            }
        }
    }

    /// Clips one edge to the box [0, width] x [0, height] (local pixels) and accumulates it.
    /// Parts above or below the box are dropped; parts left or right of it are projected onto its
    /// sides, where they still change the winding (the right side only for the hidden column w, which
    /// keeps every row's running sum returning to zero after its last edge).
    private mutating func addEdge(x0: Double, y0: Double, x1: Double, y1: Double,
                                  width: Double, height: Double, stride: Int) {
        guard y0 != y1 else { return }
        // Clip in y.
        var ax = x0, ay = y0, bx = x1, by = y1
        let top = min(ay, by), bottom = max(ay, by)
        if bottom <= 0 || top >= height { return }
        let slope = (bx - ax) / (by - ay)
        if ay < 0 { ax += slope * (0 - ay); ay = 0 }
        if by < 0 { bx += slope * (0 - by); by = 0 }
        if ay > height { ax += slope * (height - ay); ay = height }
        if by > height { bx += slope * (height - by); by = height }
        guard ay != by else { return }
        // Split at x = 0 and x = width.
        var cuts: [(Double, Double)] = [(ax, ay)]
        let dx = bx - ax
        if dx != 0 {
            var ts: [Double] = []
            for edge in [0.0, width] {
                let t = (edge - ax) / dx
                if t > 0 && t < 1 { ts.append(t) }
            }
            ts.sort()
            for t in ts { cuts.append((ax + dx * t, ay + (by - ay) * t)) }
        }
        cuts.append((bx, by))
        for k in 0..<(cuts.count - 1) {
            let (px, py) = cuts[k], (qx, qy) = cuts[k + 1]
            let mid = (px + qx) / 2
            if mid >= width {
                accumulateLine(x0: width, y0: py, x1: width, y1: qy, stride: stride)
            } else if mid <= 0 {
                accumulateLine(x0: 0, y0: py, x1: 0, y1: qy, stride: stride)
            } else {
                accumulateLine(x0: min(max(px, 0), width), y0: py, x1: min(max(qx, 0), width), y1: qy,
                               stride: stride)
            }
        }
    }

    /// Integral of clamp(s, 0, 1) from -infinity to s.
    @inline(__always)
    private static func rampIntegral(_ s: Double) -> Double {
        s <= 0 ? 0 : (s >= 1 ? s - 0.5 : 0.5 * s * s)
    }

    /// Adds one edge lying inside the box to the accumulation buffer, row by row.
    private mutating func accumulateLine(x0: Double, y0: Double, x1: Double, y1: Double, stride: Int) {
        guard y0 != y1 else { return }
        let direction: Double = y1 > y0 ? 1 : -1
        let (sx, sy, ex, ey) = y1 > y0 ? (x0, y0, x1, y1) : (x1, y1, x0, y0)
        let dxdy = (ex - sx) / (ey - sy)
        var row = Int(sy.rounded(.down))
        let lastRow = Int(ey.rounded(.up)) - 1
        var x = sx
        while row <= lastRow {
            let rowTop = max(sy, Double(row)), rowBottom = min(ey, Double(row + 1))
            let dy = rowBottom - rowTop
            if dy <= 0 { row += 1; continue }
            let xNext = row == lastRow ? ex : x + dxdy * dy
            let d = dy * direction
            let xa = min(x, xNext), xb = max(x, xNext)
            let base = row * stride
            let first = Int(xa.rounded(.down))
            let last: Int
            if xb - xa < 1e-9 {
                let xm = (xa + xb) / 2
                let i = Int(xm.rounded(.down))
                let f = Double(i + 1) - xm
                accumulation[base + i] += Float(d * f)
                accumulation[base + i + 1] += Float(d * (1 - f))
                last = i + 1
            } else {
                last = Int(xb.rounded(.down)) + 1
                let inverse = 1 / (xb - xa)
                var previous = 0.0
                for i in first...last {
                    let s = Double(i + 1)
                    let f = (Rasterizer.rampIntegral(s - xa) - Rasterizer.rampIntegral(s - xb)) * inverse
                    accumulation[base + i] += Float(d * (f - previous))
                    previous = f
                }
            }
            if first < rowFirst[row] { rowFirst[row] = first }
            if last > rowLast[row] { rowLast[row] = last }
            x = xNext
            row += 1
        }
    }
}
