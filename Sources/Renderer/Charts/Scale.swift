// Axes map data values to positions (in layout points) and propose "nice" ticks.

import Foundation

enum ScaleKind: Equatable { case linear, log10 }

/// A map from the domain [lo, hi] to the output interval [start, end] (start may exceed end:
/// y axes run upwards). Log scales map log10(v) linearly; values <= 0 map to NaN, which breaks
/// lines and hides markers instead of drawing them at a wrong place.
struct Scale: Equatable {
    var kind: ScaleKind
    var lo: Double
    var hi: Double
    var start: Double = 0
    var end: Double = 1

    /// Position of `v` in the domain: 0 at lo, 1 at hi (not clamped, but limited to +-1000 so far-off
    /// points stay representable).
    func fraction(_ v: Double) -> Double {
        let f: Double
        switch kind {
        case .linear:
            // Halved so that a span like -1e308 ... 1e308 does not overflow.
            f = (0.5 * v - 0.5 * lo) / (0.5 * hi - 0.5 * lo)
        case .log10:
            guard v > 0 else { return .nan }
            f = (Foundation.log10(v) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo))
        }
        guard f.isFinite else { return f.isNaN ? .nan : (f > 0 ? 1000 : -1000) }
        return max(-1000, min(1000, f))
    }

    func map(_ v: Double) -> Double {
        guard v.isFinite else { return .nan }
        return start + (end - start) * fraction(v)
    }

    /// The value at output position `p` (inverse of `map`).
    func value(at p: Double) -> Double {
        let f = (p - start) / (end - start)
        switch kind {
        case .linear: return lo + f * (0.5 * hi - 0.5 * lo) * 2
        case .log10: return pow(10, Foundation.log10(lo) + f * (Foundation.log10(hi) - Foundation.log10(lo)))
        }
    }

    func contains(_ v: Double) -> Bool {
        let f = fraction(v)
        return f >= -1e-9 && f <= 1 + 1e-9
    }

    /// Decades spanned by a log scale.
    var decades: Double { Foundation.log10(hi) - Foundation.log10(lo) }
}

struct Tick: Equatable {
    var value: Double
    /// Markup (see `Markup`), empty for minor ticks.
    var label: String
    var major: Bool = true
}

enum Ticks {
    /// The 1-2-5 step (e.g. 0.2, 5, 1000) nearest to `span / target` on a log scale, so the tick
    /// count comes closest to `target`.
    static func niceStep(span: Double, target: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(1, target))
        let base = pow(10, floor(log10(raw)))
        return [1.0, 2, 5, 10].map { $0 * base }.min { abs(Foundation.log($0 / raw)) < abs(Foundation.log($1 / raw)) } ?? base
    }

    /// Linear ticks: multiples of a 1-2-5 step inside [lo, hi], about `target` of them.
    static func linear(lo: Double, hi: Double, target: Int, integer: Bool = false) -> [Tick] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return [] }
        var step = niceStep(span: (0.5 * hi - 0.5 * lo) * 2, target: target)
        if !step.isFinite { step = niceStep(span: 0.5 * hi - 0.5 * lo, target: max(1, target / 2)) * 2 }
        if integer { step = max(1, step.rounded()) }
        let first = (lo / step - 1e-9).rounded(.up), last = (hi / step + 1e-9).rounded(.down)
        guard first.isFinite, last.isFinite else { return [] }
        guard last >= first, last - first < 1000 else { return [] }
        var ticks: [Tick] = []
        var k = first
        while k <= last {
            var v = k * step
            if abs(v) < step * 1e-9 { v = 0 }
            ticks.append(Tick(value: v, label: NumberFormat.tick(v, step: step)))
            k += 1
        }
        return ticks
    }

    /// Log ticks: powers of ten labelled 10^k (every `stride` decades when there are many), with
    /// unlabelled minor ticks at 2..9 x 10^k when few decades are shown. A range narrower than a
    /// decade gets 1-2-5 ticks instead.
    static func log(lo: Double, hi: Double, target: Int) -> [Tick] {
        guard lo > 0, hi > lo, lo.isFinite, hi.isFinite else { return [] }
        let a = log10(lo), b = log10(hi)
        let firstDecade = Int((a - 1e-9).rounded(.up)), lastDecade = Int((b + 1e-9).rounded(.down))
        let count = lastDecade - firstDecade + 1
        if count < 2 {
            // Less than two powers of ten: 1-2-5 multiples within the range.
            var ticks: [Tick] = []
            let e0 = Int(a.rounded(.down)), e1 = Int(b.rounded(.up))
            for e in e0...e1 {
                for m in [1.0, 2, 5] {
                    let v = m * pow(10, Double(e))
                    if v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) {
                        ticks.append(Tick(value: v, label: NumberFormat.logMultiple(mantissa: m, exponent: e)))
                    }
                }
            }
            if ticks.count < 2 {
                return linear(lo: lo, hi: hi, target: target).filter { $0.value > 0 }
            }
            return ticks
        }
        var stride = 1
        for s in [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000] {
            stride = s
            if count / s <= max(2, target) { break }
        }
        var ticks: [Tick] = []
        for e in firstDecade...lastDecade where e % stride == 0 {
            ticks.append(Tick(value: pow(10, Double(e)), label: NumberFormat.powerOfTen(e)))
        }
        if stride == 1 && count <= 7 {
            for e in (firstDecade - 1)...lastDecade {
                for m in 2...9 {
                    let v = Double(m) * pow(10, Double(e))
                    if v >= lo && v <= hi { ticks.append(Tick(value: v, label: "", major: false)) }
                }
            }
        }
        return ticks
    }
}

enum NumberFormat {
    /// The typographic minus sign, which is as wide as a plus and reads better than a hyphen.
    static let minus = "\u{2212}"

    /// `10^{k}` with a real minus sign.
    static func powerOfTen(_ e: Int) -> String {
        if e == 0 { return "1" }
        if e == 1 { return "10" }
        return "10^{" + (e < 0 ? minus + String(-e) : String(e)) + "}"
    }

    static func logMultiple(mantissa m: Double, exponent e: Int) -> String {
        let v = m * pow(10, Double(e))
        if e >= -3 && e <= 4 { return plain(v, decimals: max(0, -e)) }
        return (m == 1 ? "" : String(Int(m)) + "×") + powerOfTen(e)
    }

    /// A tick label for a multiple of `step`: plain decimals for ordinary magnitudes,
    /// m×10^{e} for very large or very small ones.
    static func tick(_ v: Double, step: Double) -> String {
        if v == 0 { return "0" }
        let magnitude = max(abs(v), step)
        if magnitude >= 1e5 || step < 1e-4 {
            let e = Int(floor(log10(abs(v)) + 1e-9))
            var m = v / pow(10, Double(e))
            let stepDigits = max(0, Int((-log10(step / pow(10, Double(e))) + 1e-9).rounded(.up)))
            m = (m * pow(10, Double(stepDigits))).rounded() / pow(10, Double(stepDigits))
            var mText = plain(m, decimals: min(3, stepDigits))
            if mText.contains(".") {
                while mText.hasSuffix("0") { mText.removeLast() }
                if mText.hasSuffix(".") { mText.removeLast() }
            }
            return (mText == "1" ? "" : (mText == minus + "1" ? minus : mText + "×")) + powerOfTen(e)
        }
        let decimals = max(0, Int((-log10(step) - 1e-9).rounded(.up)))
        return plain(v, decimals: min(6, decimals))
    }

    /// Fixed decimals with a typographic minus; "-0" becomes "0".
    static func plain(_ v: Double, decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", v)
        if text.hasPrefix("-") {
            text.removeFirst()
            if text.allSatisfy({ $0 == "0" || $0 == "." }) { return text }
            return minus + text
        }
        return text
    }

    /// A compact value for annotations: 3 significant digits, scientific outside 1e-3 ... 1e5.
    static func short(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "∞" : minus + "∞") }
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e-3 && a < 1e5 {
            let decimals = max(0, 2 - Int(floor(log10(a))))
            var text = plain(v, decimals: decimals)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text
        }
        let e = Int(floor(log10(a)))
        let m = v / pow(10, Double(e))
        return plain(m, decimals: 2).replacingOccurrences(of: ".00", with: "") + "×" + powerOfTen(e)
    }
}
