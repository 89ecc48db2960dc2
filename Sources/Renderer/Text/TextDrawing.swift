// Text onto the canvas: glyph coverage blended into the pixmap, horizontally (at quarter-pixel
// horizontal positions) or rotated 90 degrees counter-clockwise (reading upwards, for y-axis titles).

import Foundation

enum HorizontalAlignment { case left, center, right }
/// `middle` centres the capital letters on the anchor, which is what a tick label wants.
enum VerticalAlignment { case baseline, top, middle, bottom }

extension Canvas {
    /// Draws `line` anchored at `point` (points). For rotated text, `horizontal` applies along the
    /// reading direction (upwards) and `vertical` across it.
    mutating func draw(_ line: TextLine, at point: Point, _ horizontal: HorizontalAlignment = .left,
                       _ vertical: VerticalAlignment = .baseline, rotated: Bool = false) {
        let s = scale
        let along: Double
        switch horizontal {
        case .left: along = 0
        case .center: along = -line.widthPixels / 2
        case .right: along = -line.widthPixels
        }
        let across: Double  // how far the baseline sits below the anchor, pixels
        switch vertical {
        case .baseline: across = 0
        case .top: across = line.ascentPixels
        case .middle: across = line.capHeightPixels / 2
        case .bottom: across = -line.descentPixels
        }
        let color = Pixmap.premultipliedFloat(line.color)
        let ax = point.x * s, ay = point.y * s
        for g in line.glyphs {
            if rotated {
                // Reading upwards: the pen runs along -y, "up" for the glyph is -x.
                let penY = ay - (along + g.x)
                let baseX = ax + across - g.rise
                let oy = Int(penY.rounded()), ox = Int(baseX.rounded())
                guard let bitmap = try? g.face.bitmap(glyph: g.glyph, pixelSize: g.pixelSize, phase: 0) else { continue }
                blit(bitmap, color: color) { col, row in (ox + row - bitmap.top, oy - bitmap.left - col) }
            } else {
                let penX = ax + along + g.x
                var ix = Int(penX.rounded(.down))
                var phase = Int(((penX - Double(ix)) * Double(FontFace.subpixelPhases)).rounded())
                if phase == FontFace.subpixelPhases { phase = 0; ix += 1 }
                let baseY = Int((ay + across - g.rise).rounded())
                guard let bitmap = try? g.face.bitmap(glyph: g.glyph, pixelSize: g.pixelSize, phase: phase) else { continue }
                blit(bitmap, color: color) { col, row in (ix + bitmap.left + col, baseY - bitmap.top + row) }
            }
        }
    }

    /// Lays out and draws in one call; returns the line for callers that need its size.
    @discardableResult
    mutating func text(_ markup: String, _ style: TextStyle, at point: Point, using typesetter: Typesetter,
                       _ horizontal: HorizontalAlignment = .left, _ vertical: VerticalAlignment = .baseline,
                       rotated: Bool = false) -> TextLine {
        let line = typesetter.layout(markup, style)
        draw(line, at: point, horizontal, vertical, rotated: rotated)
        return line
    }

    private mutating func blit(_ bitmap: GlyphBitmap, color: SIMD4<Float>, _ position: (Int, Int) -> (Int, Int)) {
        guard bitmap.width > 0, bitmap.height > 0 else { return }
        for row in 0..<bitmap.height {
            for col in 0..<bitmap.width {
                let c = bitmap.coverage[row * bitmap.width + col]
                if c == 0 { continue }
                let (x, y) = position(col, row)
                blendPixel(x: x, y: y, color, coverage: Float(c) / 255)
            }
        }
    }
}
