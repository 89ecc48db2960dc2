// The drawing surface charts use: a pixmap, a scale from layout points to pixels, a clip
// rectangle, and the fill/stroke calls that run geometry -> stroker -> rasterizer -> blend.

import Foundation

struct Canvas {
    private(set) var pixmap: Pixmap
    /// Pixels per point.
    let scale: Double
    /// Current clip in pixels; drawing outside it is discarded.
    private(set) var clip: IntRect
    private var rasterizer = Rasterizer()

    /// A canvas `width` x `height` points, `ceil(width * scale)` x `ceil(height * scale)` pixels.
    init(width: Double, height: Double, scale: Double, background: Color = .white) {
        precondition(scale > 0 && scale.isFinite, "scale must be positive")
        let w = max(1, Int((width * scale).rounded(.up))), h = max(1, Int((height * scale).rounded(.up)))
        pixmap = Pixmap(width: w, height: h, background: background)
        self.scale = scale
        clip = IntRect(x0: 0, y0: 0, x1: w, y1: h)
    }

    var fullRect: IntRect { IntRect(x0: 0, y0: 0, x1: pixmap.width, y1: pixmap.height) }

    /// Runs `body` with drawing clipped to `rect` (points, rounded outwards to whole pixels)
    /// intersected with the current clip.
    mutating func withClip(_ rect: Rect, _ body: (inout Canvas) throws -> Void) rethrows {
        let saved = clip
        clip = clip.intersection(pixelRect(rect))
        defer { clip = saved }
        try body(&self)
    }

    /// `rect` in whole pixels: the smallest pixel rectangle containing it.
    func pixelRect(_ rect: Rect) -> IntRect {
        IntRect(x0: Int((rect.minX * scale + 1e-9).rounded(.down)), y0: Int((rect.minY * scale + 1e-9).rounded(.down)),
                x1: Int((rect.maxX * scale - 1e-9).rounded(.up)), y1: Int((rect.maxY * scale - 1e-9).rounded(.up)))
    }

    /// A coordinate moved to where a line `width` points wide has its edges on pixel boundaries:
    /// pixel centres for odd pixel widths, pixel edges for even ones.
    func snap(_ value: Double, width: Double) -> Double {
        let px = value * scale
        let wpx = (width * scale).rounded()
        let odd = Int(wpx) % 2 == 1
        let snapped = odd ? (px - 0.5).rounded() + 0.5 : px.rounded()
        return snapped / scale
    }

    // MARK: Fills

    mutating func fill(_ path: Path, _ color: Color) {
        let s = scale
        rasterizer.fill(path.transformed { Point($0.x * s, $0.y * s) }, color: color, clip: clip, into: &pixmap)
    }

    mutating func fillRect(_ rect: Rect, _ color: Color) {
        var path = Path()
        path.addRect(rect)
        fill(path, color)
    }

    mutating func fillCircle(center: Point, radius: Double, _ color: Color) {
        var path = Path()
        path.addCircle(center: center, radius: radius, tolerance: 0.1 / scale)
        fill(path, color)
    }

    mutating func fillPolygon(_ points: [Point], _ color: Color) {
        var path = Path()
        path.addPolygon(points)
        fill(path, color)
    }

    // MARK: Strokes

    /// Strokes the polyline through `points`; non-finite points break it into separate pieces.
    mutating func stroke(_ points: [Point], closed: Bool = false, style: StrokeStyle, _ color: Color) {
        var pieces: [[Point]] = [[]]
        for p in points {
            if p.isFinite { pieces[pieces.count - 1].append(p) } else if !pieces[pieces.count - 1].isEmpty { pieces.append([]) }
        }
        // Lines far outside the clip (a curve leaving a log axis by decades) are cut at a margin
        // around it first: nothing to stroke or dash out there.
        if clip != fullRect || pieces.joined().contains(where: { abs($0.x) > 1e5 || abs($0.y) > 1e5 }) {
            let margin = style.width + 2
            let area = Rect(x: Double(clip.x0) / scale - margin, y: Double(clip.y0) / scale - margin,
                            width: Double(clip.x1 - clip.x0) / scale + 2 * margin,
                            height: Double(clip.y1 - clip.y0) / scale + 2 * margin)
            if !closed { pieces = pieces.flatMap { clipPolyline($0, to: area) } }
        }
        let tolerance = 0.1 / scale
        var path = Path()
        for piece in pieces where !piece.isEmpty {
            for sub in Stroker.outline(piece, closed: closed && pieces.count == 1, style: style, tolerance: tolerance).subpaths {
                path.addPolygon(sub)
            }
        }
        fill(path, color)
    }

    mutating func line(from a: Point, to b: Point, style: StrokeStyle, _ color: Color) {
        stroke([a, b], style: style, color)
    }

    mutating func strokeRect(_ rect: Rect, style: StrokeStyle, _ color: Color) {
        stroke([Point(rect.minX, rect.minY), Point(rect.maxX, rect.minY), Point(rect.maxX, rect.maxY),
                Point(rect.minX, rect.maxY)], closed: true, style: style, color)
    }

    mutating func strokeCircle(center: Point, radius: Double, style: StrokeStyle, _ color: Color) {
        guard radius > 0 else { return }
        let n = Path.segmentCount(radius: radius * scale, sweep: 2 * .pi, tolerance: 0.1)
        let points = (0..<n).map { k -> Point in
            let a = 2 * Double.pi * Double(k) / Double(n)
            return Point(center.x + radius * cos(a), center.y + radius * sin(a))
        }
        stroke(points, closed: true, style: style, color)
    }

    // MARK: Direct pixel access

    /// Blends `color` into the pixel (x, y) with `coverage` in 0...1, respecting the clip.
    mutating func blendPixel(x: Int, y: Int, _ premultiplied: SIMD4<Float>, coverage: Float) {
        guard x >= clip.x0, x < clip.x1, y >= clip.y0, y < clip.y1 else { return }
        pixmap.blend(pixelIndex: y * pixmap.width + x, premultiplied: premultiplied, coverage: coverage)
    }

    /// Fills every pixel of `rect` (points; pixels whose centres lie inside it) with the colour of
    /// a grid cell: `column(u)` and `row(v)` name the cell for the pixel centre's position u, v in 0...1
    /// across and down the rectangle (nil: leave the pixel alone), `color(row, column)` gives its
    /// colour. No edge blending, so a value lands on exactly the pixels of its cell. Used for heatmaps
    /// and colour bars.
    mutating func paintGrid(_ rect: Rect, column: (Double) -> Int?, row: (Double) -> Int?,
                            color: (_ row: Int, _ column: Int) -> Color?) {
        let x0 = max(clip.x0, Int((rect.minX * scale - 0.5).rounded(.up)))
        let x1 = min(clip.x1, Int((rect.maxX * scale - 0.5).rounded(.up)))
        let y0 = max(clip.y0, Int((rect.minY * scale - 0.5).rounded(.up)))
        let y1 = min(clip.y1, Int((rect.maxY * scale - 0.5).rounded(.up)))
        guard x1 > x0, y1 > y0 else { return }
        let wpx = rect.width * scale, hpx = rect.height * scale
        let columns = (x0..<x1).map { x in column((Double(x) + 0.5 - rect.minX * scale) / wpx) }
        for y in y0..<y1 {
            guard let r = row((Double(y) + 0.5 - rect.minY * scale) / hpx) else { continue }
            // Neighbouring pixels mostly share a cell: look its colour up once.
            var lastColumn = Int.min, lastColor: SIMD4<Float>? = nil
            for (i, c) in columns.enumerated() {
                guard let c else { continue }
                if c != lastColumn {
                    lastColumn = c
                    lastColor = color(r, c).map(Pixmap.premultipliedFloat)
                }
                guard let p = lastColor else { continue }
                pixmap.blend(pixelIndex: y * pixmap.width + x0 + i, premultiplied: p, coverage: 1)
            }
        }
    }
}
