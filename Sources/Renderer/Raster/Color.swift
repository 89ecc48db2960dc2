// Colours as the drawing code sees them: straight (not premultiplied) sRGB components in 0...1.
// The pixmap stores premultiplied bytes; conversion happens only where a colour meets a pixel.

import Foundation

/// An sRGB colour with straight alpha, each component in 0...1.
public struct Color: Sendable, Hashable {
    public var red: Double
    public var green: Double
    public var blue: Double
    public var alpha: Double

    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// `Color(hex: 0x0072B2)`: 24-bit sRGB, opaque.
    public init(hex: UInt32, alpha: Double = 1) {
        red = Double((hex >> 16) & 0xFF) / 255
        green = Double((hex >> 8) & 0xFF) / 255
        blue = Double(hex & 0xFF) / 255
        self.alpha = alpha
    }

    /// The same colour with alpha multiplied by `factor`.
    public func withAlpha(_ value: Double) -> Color {
        Color(red: red, green: green, blue: blue, alpha: value)
    }

    /// Linear interpolation of the sRGB components (t = 0 gives self, t = 1 gives other).
    public func mixed(with other: Color, _ t: Double) -> Color {
        Color(red: red + (other.red - red) * t, green: green + (other.green - green) * t,
              blue: blue + (other.blue - blue) * t, alpha: alpha + (other.alpha - alpha) * t)
    }

    /// Relative luminance Y = 0.2126 R + 0.7152 G + 0.0722 B of the linearised sRGB components.
    public var luminance: Double {
        0.2126 * Color.linearize(red) + 0.7152 * Color.linearize(green) + 0.0722 * Color.linearize(blue)
    }

    /// The sRGB transfer function inverted: encoded component -> linear light.
    static func linearize(_ c: Double) -> Double {
        c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
    }

    /// Linear light -> encoded sRGB component.
    static func encode(_ c: Double) -> Double {
        let v = max(0, min(1, c))
        return v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1 / 2.4) - 0.055
    }

    public static let white = Color(red: 1, green: 1, blue: 1)
    public static let black = Color(red: 0, green: 0, blue: 0)
    public static let clear = Color(red: 0, green: 0, blue: 0, alpha: 0)
}
