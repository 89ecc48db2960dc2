// The pixel buffer every drawing stage writes into.
//
// Layout: row-major, top-left origin, 4 bytes per pixel in the order R, G, B, A, with the colour
// channels PREMULTIPLIED by alpha (a pixel of 50 % red is stored 128, 0, 0, 128). Premultiplied
// source-over is one multiply-add per channel and has no special case for transparent pixels;
// `PNGCodec` converts to and from the straight alpha PNG files hold. Charts draw on an opaque
// white background, so for them premultiplied and straight bytes are identical.

import Foundation

public struct Pixmap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// width * height * 4 premultiplied RGBA bytes.
    public var bytes: [UInt8]

    /// A pixmap filled with `background` (transparent by default).
    public init(width: Int, height: Int, background: Color = .clear) {
        precondition(width > 0 && height > 0, "Pixmap size must be positive, got \(width) x \(height)")
        self.width = width
        self.height = height
        let p = Pixmap.premultiplied(background)
        if p.0 == p.1 && p.1 == p.2 && p.2 == p.3 {
            bytes = [UInt8](repeating: p.0, count: width * height * 4)
        } else {
            bytes = [UInt8](repeating: 0, count: width * height * 4)
            for i in 0..<(width * height) {
                bytes[4 * i] = p.0
                bytes[4 * i + 1] = p.1
                bytes[4 * i + 2] = p.2
                bytes[4 * i + 3] = p.3
            }
        }
    }

    /// Wraps existing premultiplied RGBA bytes.
    public init(width: Int, height: Int, premultipliedBytes: [UInt8]) {
        precondition(width > 0 && height > 0 && premultipliedBytes.count == width * height * 4,
                     "Pixmap needs width * height * 4 bytes")
        self.width = width
        self.height = height
        bytes = premultipliedBytes
    }

    /// The colour at (x, y), un-premultiplied, components rounded to bytes / 255.
    public func pixel(x: Int, y: Int) -> Color {
        let (r, g, b, a) = rgba8(x: x, y: y)
        if a == 0 { return .clear }
        let af = Double(a)
        return Color(red: Double(r) / af, green: Double(g) / af, blue: Double(b) / af, alpha: af / 255)
    }

    /// The stored (premultiplied) bytes of pixel (x, y).
    public func rgba8(x: Int, y: Int) -> (UInt8, UInt8, UInt8, UInt8) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside the pixmap")
        let i = 4 * (y * width + x)
        return (bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3])
    }

    /// Straight-alpha colour -> premultiplied bytes, rounded to nearest.
    static func premultiplied(_ c: Color) -> (UInt8, UInt8, UInt8, UInt8) {
        let a = max(0, min(1, c.alpha))
        func byte(_ v: Double) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
        return (byte(max(0, min(1, c.red)) * a), byte(max(0, min(1, c.green)) * a),
                byte(max(0, min(1, c.blue)) * a), byte(a))
    }

    /// Source-over of `color` at `coverage` (0...1) onto pixel index `i` (in pixels, not bytes).
    ///   dst = src * coverage + dst * (1 - srcAlpha * coverage), all premultiplied.
    @inline(__always)
    mutating func blend(pixelIndex i: Int, premultiplied c: SIMD4<Float>, coverage: Float) {
        let o = 4 * i
        if coverage >= 1 && c[3] >= 1 {
            bytes[o] = UInt8(c[0] * 255 + 0.5)
            bytes[o + 1] = UInt8(c[1] * 255 + 0.5)
            bytes[o + 2] = UInt8(c[2] * 255 + 0.5)
            bytes[o + 3] = 255
            return
        }
        let src = c * coverage * 255
        let keep = 1 - c[3] * coverage
        let dst = SIMD4<Float>(Float(bytes[o]), Float(bytes[o + 1]), Float(bytes[o + 2]), Float(bytes[o + 3]))
        var out = src + dst * keep + 0.5
        out.clamp(lowerBound: SIMD4(repeating: 0), upperBound: SIMD4(repeating: 255))
        bytes[o] = UInt8(out[0])
        bytes[o + 1] = UInt8(out[1])
        bytes[o + 2] = UInt8(out[2])
        bytes[o + 3] = UInt8(out[3])
    }

    /// Premultiplied float components of a straight colour, for `blend`.
    static func premultipliedFloat(_ c: Color) -> SIMD4<Float> {
        let a = Float(max(0, min(1, c.alpha)))
        return SIMD4(Float(max(0, min(1, c.red))) * a, Float(max(0, min(1, c.green))) * a,
                     Float(max(0, min(1, c.blue))) * a, a)
    }
}
