// Numbers as people read them in the report: 1.2e-6, 0.97, 12,345 tokens/s, 3.4%, 2 min 05 s.
//
// Everything here is locale-independent (the report must be the same bytes on every machine)
// and total: NaN prints as "n/a", an infinity as "diverged", a missing value as an em dash.

import Foundation

enum ReportFormat {
    static let missing = "—"

    /// Text for a value that is not a finite number, or nil when it is finite.
    static func nonFinite(_ x: Double) -> String? {
        if x.isNaN { return "n/a" }
        if x.isInfinite { return "diverged" }
        return nil
    }

    /// A general quantity with `digits` significant digits: scientific below 1e-3, grouped
    /// integers from 1,000 up, plain decimals in between (0.971, 10.4, 123).
    static func number(_ value: Double?, digits: Int = 3) -> String {
        guard let x = value else { return missing }
        if let text = nonFinite(x) { return text }
        if x == 0 { return "0" }
        let magnitude = abs(x)
        if magnitude < 1e-3 || magnitude >= 1e15 { return scientific(x, digits: min(digits, 2)) }
        if magnitude >= 1000 { return integer(Int(x.rounded())) }
        return String(format: "%.*g", digits, x)
    }

    /// A ratio such as g(l)/g(0), two significant digits: 1.2e-6, 0.31, 1.5, 3.5e2.
    static func ratio(_ value: Double?) -> String {
        guard let x = value else { return missing }
        if let text = nonFinite(x) { return text }
        if x == 0 { return "0" }
        let magnitude = abs(x)
        if magnitude < 1e-2 || magnitude >= 100 { return scientific(x, digits: 2) }
        return String(format: "%.2g", x)
    }

    /// `x` as `m.me-k` with `digits` significant digits and no padding in the exponent (1.2e-6, 3e+12 -> 3e12).
    static func scientific(_ x: Double, digits: Int) -> String {
        if let text = nonFinite(x) { return text }
        let raw = String(format: "%.*e", max(digits - 1, 0), x)  // "1.20e-06"
        guard let e = raw.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return raw }
        var mantissa = String(raw[..<e])
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        var exponent = String(raw[raw.index(after: e)...])
        var sign = ""
        if exponent.hasPrefix("-") { sign = "-"; exponent.removeFirst() } else if exponent.hasPrefix("+") { exponent.removeFirst() }
        while exponent.count > 1 && exponent.hasPrefix("0") { exponent.removeFirst() }
        return mantissa + "e" + sign + exponent
    }

    /// An integer with thousands separators: 12,345.
    static func integer(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(character)
        }
        return n < 0 ? "-" + out : out
    }

    /// A fraction in 0...1 as a percentage: 12%, 3.4%, 0.12%, 0%, 99.6% (never 100% unless it is).
    static func percent(_ value: Double?) -> String {
        guard let x = value else { return missing }
        if let text = nonFinite(x) { return text }
        let p = x * 100
        if p == 0 { return "0%" }
        // Just short of 100% must not round to a claim of perfection: 99.6%, 99.9%.
        if p >= 99.5 && p < 100 { return String(format: "%.1f%%", min(p, 99.9)) }
        if abs(p) >= 10 { return String(format: "%.0f%%", p) }
        if abs(p) >= 1 { return String(format: "%.1f%%", p) }
        if abs(p) >= 0.01 { return String(format: "%.2f%%", p) }
        return "<0.01%"
    }

    /// A rate rounded to an integer with separators (tokens/s), or two significant digits below 10.
    static func rate(_ value: Double?) -> String {
        guard let x = value else { return missing }
        if let text = nonFinite(x) { return text }
        if abs(x) < 10 { return String(format: "%.2g", x) }
        return integer(Int(x.rounded()))
    }

    /// A duration: 0.84 s, 12.3 s, 2 min 05 s, 1 h 02 min.
    static func duration(_ value: Double?) -> String {
        guard let seconds = value else { return missing }
        if let text = nonFinite(seconds) { return text }
        if seconds < 10 { return String(format: "%.2g s", seconds) }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
    }

    /// A multiplicative factor per step: ×0.46, ×1.5; three digits within 5% of 1 (×0.995), where
    /// two would round a slow decay to ×1.
    static func factor(_ value: Double?) -> String {
        guard let x = value else { return missing }
        if let text = nonFinite(x) { return text }
        if x != 0 && (abs(x) >= 100 || abs(x) < 1e-3) { return "×" + scientific(x, digits: 2) }
        return "×" + String(format: abs(x - 1) < 0.05 ? "%.3g" : "%.2g", x)
    }

    /// Gate names in the order the cells define them, unknown names after, by name.
    static func gateOrder(_ names: [String]) -> [String] {
        let known = ["input", "forget", "candidate", "output", "update", "reset", "activation"]
        return names.sorted { a, b in
            let ra = known.firstIndex(of: a) ?? known.count, rb = known.firstIndex(of: b) ?? known.count
            return ra != rb ? ra < rb : a < b
        }
    }
}
