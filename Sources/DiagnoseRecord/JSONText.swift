// JSON string literals for the files this project writes by hand (the safetensors header, the
// report's chart data): one escaper, so every writer quotes text the same way. And JSON read with
// Foundation that says why text is not JSON.

import Foundation

public enum JSONText {
    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else written as is (one spelling per string, so output is deterministic).
    /// `insideScript` also escapes `<`, `>`, `&`, U+2028 and U+2029, so the literal can sit in an
    /// HTML `<script>` element (or any JavaScript source) and never end it.
    public static func quoted(_ text: String, insideScript: Bool = false) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if let short = shortEscapes[scalar] {
                out += short
            } else if scalar.value < 0x20 || (insideScript && scriptUnsafe.contains(scalar)) {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Why `parse` refused the text: Foundation's own reason (where the parse stopped), not its
    /// generic "the data is not in the correct format"; at most 200 characters.
    public struct Invalid: Error {
        public var reason: String
    }

    public static func parse(_ data: Data) throws(Invalid) -> Any {
        do { return try JSONSerialization.jsonObject(with: data) } catch {
            let nsError = error as NSError
            let reason = nsError.userInfo[NSDebugDescriptionErrorKey] as? String ?? nsError.localizedDescription
            throw Invalid(reason: reason.count > 200 ? String(reason.prefix(197)) + "..." : reason)
        }
    }

    private static let shortEscapes: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"]
    private static let scriptUnsafe: Set<Unicode.Scalar> = ["<", ">", "&", "\u{2028}", "\u{2029}"]
}
