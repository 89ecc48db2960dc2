// Colour maps (t in 0...1 -> colour) and colour scales (data value -> colour) that heatmaps and
// their colour bars share.
//
// Maps are defined by evenly spaced anchor colours and interpolated in Oklab, a perceptual space
// where straight lines keep lightness changing evenly, so the maps stay monotonic in lightness.

import Foundation

struct ColorMap: Equatable {
    let name: String
    /// 256 precomputed colours, index round(t * 255).
    private let table: [Color]

    init(name: String, anchors: [Color]) {
        precondition(anchors.count >= 2)
        self.name = name
        let labs = anchors.map(Oklab.init)
        table = (0..<256).map { i in
            let t = Double(i) / 255 * Double(labs.count - 1)
            let k = min(labs.count - 2, Int(t))
            return labs[k].mixed(with: labs[k + 1], t - Double(k)).color
        }
    }

    func color(at t: Double) -> Color {
        guard t.isFinite else { return t > 0 ? table[255] : table[0] }
        return table[Int((max(0, min(1, t)) * 255).rounded())]
    }

    /// Perceptually uniform, dark purple -> blue -> green -> yellow, readable in grey and by
    /// colour-blind readers. Anchors are the map's published colours at t = 0, 0.1, ..., 1.
    static let viridis = ColorMap(name: "viridis", anchors: [
        0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21918C, 0x22A884, 0x44BF70, 0x7AD151, 0xBDDF26, 0xFDE725,
    ].map { Color(hex: $0) })

    /// Diverging blue - near-white - red for signed values centred on zero.
    static let diverging = ColorMap(name: "blue-white-red", anchors: [
        0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B,
    ].map { Color(hex: $0) })
}

/// A data value -> colour map: the shared object between a heatmap and its colour bar.
struct ColorScale: Equatable {
    var map: ColorMap
    var kind: ScaleKind
    var lo: Double
    var hi: Double

    /// Fraction of the colour range for `v`; values outside [lo, hi] are clamped, NaN (and <= 0 on a
    /// log scale) give nil.
    func fraction(_ v: Double) -> Double? {
        if v.isNaN { return nil }
        let f: Double
        switch kind {
        case .linear:
            f = hi > lo ? (v - lo) / (hi - lo) : 0.5
        case .log10:
            if v <= 0 { return 0 }
            f = hi > lo ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) : 0.5
        }
        if f.isNaN { return v > 0 ? 1 : 0 }
        return max(0, min(1, f))
    }

    func color(_ v: Double) -> Color? { fraction(v).map(map.color(at:)) }

    /// The axis a colour bar draws for this scale (output positions set by the caller).
    var scale: Scale { Scale(kind: kind, lo: lo, hi: hi) }
}

/// Oklab coordinates (L lightness, a green-red, b blue-yellow) of an sRGB colour.
struct Oklab {
    var l: Double, a: Double, b: Double, alpha: Double

    init(l: Double, a: Double, b: Double, alpha: Double = 1) {
        self.l = l; self.a = a; self.b = b; self.alpha = alpha
    }

    init(_ c: Color) {
        let r = Color.linearize(c.red), g = Color.linearize(c.green), bl = Color.linearize(c.blue)
        let lms = (cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * bl),
                   cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * bl),
                   cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * bl))
        l = 0.2104542553 * lms.0 + 0.7936177850 * lms.1 - 0.0040720468 * lms.2
        a = 1.9779984951 * lms.0 - 2.4285922050 * lms.1 + 0.4505937099 * lms.2
        b = 0.0259040371 * lms.0 + 0.7827717662 * lms.1 - 0.8086757660 * lms.2
        alpha = c.alpha
    }

    var color: Color {
        let l3 = pow(l + 0.3963377774 * a + 0.2158037573 * b, 3)
        let m3 = pow(l - 0.1055613458 * a - 0.0638541728 * b, 3)
        let s3 = pow(l - 0.0894841775 * a - 1.2914855480 * b, 3)
        return Color(red: Color.encode(4.0767416621 * l3 - 3.3077115913 * m3 + 0.2309699292 * s3),
                     green: Color.encode(-1.2684380046 * l3 + 2.6097574011 * m3 - 0.3413193965 * s3),
                     blue: Color.encode(-0.0041960863 * l3 - 0.7034186147 * m3 + 1.7076147010 * s3),
                     alpha: alpha)
    }

    func mixed(with o: Oklab, _ t: Double) -> Oklab {
        Oklab(l: l + (o.l - l) * t, a: a + (o.a - a) * t, b: b + (o.b - b) * t, alpha: alpha + (o.alpha - alpha) * t)
    }
}
