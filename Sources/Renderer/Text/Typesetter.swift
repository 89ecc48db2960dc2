// Layout of one line of text: glyphs, their pen positions and the line's measurements, computed
// before anything is drawn so that chart margins can be derived from real text sizes.

import Foundation

/// A glyph placed on a line, in pixels relative to the line's origin (left end of the baseline).
struct PlacedGlyph {
    unowned let face: FontFace
    var glyph: UInt32
    var x: Double
    /// Baseline shift, pixels, positive upwards (superscripts).
    var rise: Double
    var pixelSize: Double
}

/// A laid-out line. Pixel measurements plus the scale to report them in points.
struct TextLine {
    var glyphs: [PlacedGlyph]
    var color: Color
    /// Advance width, pixels.
    var widthPixels: Double
    /// Above and below the baseline, pixels (the font's ascent and descent, including raised spans).
    var ascentPixels: Double
    var descentPixels: Double
    /// Height of capital letters above the baseline, pixels; used to centre text on a tick.
    var capHeightPixels: Double
    var scale: Double

    var width: Double { widthPixels / scale }
    var ascent: Double { ascentPixels / scale }
    var descent: Double { descentPixels / scale }
    var height: Double { ascent + descent }
    var capHeight: Double { capHeightPixels / scale }
}

/// Owns the font faces (and so their glyph caches) for one rendering call.
final class Typesetter {
    let regular: FontFace
    let bold: FontFace
    let mono: FontFace
    let scale: Double

    /// Superscripts and subscripts: 70 % size, raised 0.38 em or lowered 0.14 em.
    static let scriptScale = 0.7
    static let superscriptRise = 0.38
    static let subscriptDrop = 0.14
    /// DejaVu Sans capitals are 0.73 em tall.
    static let capHeightEm = 0.73

    init(fonts: FontFiles, scale: Double) throws {
        regular = try FontFace(path: fonts.regular)
        bold = fonts.bold == fonts.regular ? regular : try FontFace(path: fonts.bold)
        mono = fonts.mono == fonts.regular ? regular : try FontFace(path: fonts.mono)
        self.scale = scale
    }

    convenience init(options: RenderOptions) throws {
        try self.init(fonts: FontLocator.locate(override: options.fontPath), scale: options.scale)
    }

    private func face(for style: TextStyle) -> FontFace {
        if style.family == .mono { return mono }
        return style.weight == .bold ? bold : regular
    }

    /// No line on a chart shows more glyphs than this (the widest chart is far narrower), so text
    /// from a record (a run name, a probe token) costs bounded time however long it is.
    static let maxGlyphs = 1000

    /// Lays out `markup` (see `Markup`) in `style`, at most `maxGlyphs` glyphs. Characters the face
    /// lacks come from the regular face when it has them.
    func layout(_ markup: String, _ style: TextStyle) -> TextLine {
        let main = face(for: style)
        let em = style.size * scale
        var glyphs: [PlacedGlyph] = []
        var pen = 0.0
        var ascent = 0.0, descent = 0.0
        var previous: (FontFace, UInt32, Double)? = nil
        let source = markup.utf8.count > 4 * Typesetter.maxGlyphs ? String(markup.prefix(4 * Typesetter.maxGlyphs)) : markup
        spans: for span in Markup.parse(source) {
            let size: Double, rise: Double
            switch span.position {
            case .normal: size = em; rise = 0
            case .raised: size = em * Typesetter.scriptScale; rise = em * Typesetter.superscriptRise
            case .lowered: size = em * Typesetter.scriptScale; rise = -em * Typesetter.subscriptDrop
            }
            let metrics = main.verticalMetrics(pixelSize: size)
            ascent = max(ascent, metrics.ascent + rise)
            descent = max(descent, metrics.descent - rise)
            for scalar in span.text.unicodeScalars {
                if glyphs.count >= Typesetter.maxGlyphs { break spans }
                let scalar = Typesetter.displayable(scalar)
                var face = main
                var index = face.glyphIndex(scalar)
                if index == 0, regular.glyphIndex(scalar) != 0 {
                    face = regular
                    index = regular.glyphIndex(scalar)
                }
                if let (pf, pg, ps) = previous, pf === face, ps == size {
                    pen += face.kerning(pg, index, pixelSize: size)
                }
                glyphs.append(PlacedGlyph(face: face, glyph: index, x: pen, rise: rise, pixelSize: size))
                pen += (try? face.advance(glyph: index, pixelSize: size)) ?? size * 0.6
                previous = (face, index, size)
            }
        }
        if glyphs.isEmpty {
            let metrics = main.verticalMetrics(pixelSize: em)
            ascent = metrics.ascent
            descent = metrics.descent
        }
        return TextLine(glyphs: glyphs, color: style.color, widthPixels: pen, ascentPixels: ascent,
                        descentPixels: descent, capHeightPixels: em * Typesetter.capHeightEm, scale: scale)
    }

    /// Width in points of `markup` in `style`.
    func width(_ markup: String, _ style: TextStyle) -> Double { layout(markup, style).width }

    /// Control characters would draw as boxes: show tab and newline as visible symbols.
    static func displayable(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0x0A: return "\u{21B5}"  // ↵
        case 0x09: return "\u{2192}"  // →
        case 0x0D: return "\u{240D}"
        case 0x00...0x1F, 0x7F: return "\u{FFFD}"
        default: return scalar
        }
    }

    /// Shortens `markup`-free `text` with a trailing ellipsis until it fits `maxWidth` points: the
    /// longest fitting prefix by binary search (O(n log n) in the text's length; the width of a
    /// prefix never decreases as it grows), from at most `maxGlyphs` characters.
    func fitting(_ text: String, _ style: TextStyle, maxWidth: Double) -> String {
        if text.count <= Typesetter.maxGlyphs, width(text, style) <= maxWidth { return text }
        let chars = Array(text.prefix(Typesetter.maxGlyphs))
        func candidate(_ n: Int) -> String { String(chars[..<n]) + "…" }
        var low = 0, high = chars.count - (text.count > chars.count ? 0 : 1)  // longest prefix to try
        guard width(candidate(0), style) <= maxWidth else { return "" }
        while low < high {
            let mid = (low + high + 1) / 2
            if width(candidate(mid), style) <= maxWidth { low = mid } else { high = mid - 1 }
        }
        return candidate(low)
    }
}
