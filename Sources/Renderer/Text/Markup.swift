// A tiny markup for chart labels: `10^{-3}` raises "-3", `σ_{max}` lowers "max".
// A `^` or `_` not followed by `{` is an ordinary character; a missing `}` closes at the end;
// a backslash makes the next character literal (`Markup.escape` does that for text from a record).

import Foundation

struct MarkupSpan: Equatable {
    enum Position: Equatable { case normal, raised, lowered }
    var text: String
    var position: Position
}

enum Markup {
    static func parse(_ source: String) -> [MarkupSpan] {
        var spans: [MarkupSpan] = []
        var current = ""
        let chars = Array(source)
        var i = 0
        func flush(_ position: MarkupSpan.Position) {
            if !current.isEmpty { spans.append(MarkupSpan(text: current, position: position)) }
            current = ""
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count {
                current.append(chars[i + 1])
                i += 2
            } else if (c == "^" || c == "_"), i + 1 < chars.count, chars[i + 1] == "{" {
                flush(.normal)
                var j = i + 2
                while j < chars.count, chars[j] != "}" {
                    if chars[j] == "\\", j + 1 < chars.count { j += 1 }
                    current.append(chars[j])
                    j += 1
                }
                flush(c == "^" ? .raised : .lowered)
                i = j + 1
            } else {
                current.append(c)
                i += 1
            }
        }
        flush(.normal)
        return spans
    }

    /// `text` with every markup character made literal: for names and text that come from a record.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "^" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// The text without markup (for tests and alt text).
    static func plain(_ source: String) -> String { parse(source).map(\.text).joined() }
}
