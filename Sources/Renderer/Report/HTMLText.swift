// Text that goes into the HTML report: escaping, link paths and shell quoting.
//
// Every string that comes from the user or the corpus (run names, file names, the command line,
// probe tokens, corpus names, chart titles that quote them) passes through `escape` before it
// reaches the page, so `<script>`, quotes and `&` always render as text.

import Foundation

enum HTMLText {
    /// Escapes the five characters that can end an element, an attribute or an entity:
    /// `&` `<` `>` `"` `'`. Safe both in element content and in quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters other than tab and newline are invisible at best; show them as U+FFFD.
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A relative link to `file` inside the run folder `directory` (a relative POSIX path such as
    /// `lstm` or `../ci/job-1/lstm`, or `.`), percent-encoded per segment and HTML-escaped, ready
    /// for an `href` attribute.
    static func href(directory: String, file: String? = nil) -> String {
        var segments = directory.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        segments.removeAll { $0 == "." }
        if let file { segments.append(file) }
        if segments.isEmpty { return "./" }
        let encoded = segments.map { segment in
            segment == ".." ? segment : percentEncode(segment)
        }
        return escape(encoded.joined(separator: "/") + (file == nil ? "/" : ""))
    }

    /// Percent-encodes everything outside the unreserved set of RFC 3986, so a folder named
    /// `a b#c?` or `x:y` (which would read as a URL scheme) stays a relative path.
    static func percentEncode(_ segment: String) -> String {
        var out = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// One argument as a POSIX shell reads it back: bare when it holds only safe characters,
    /// otherwise in single quotes with each `'` written as `'\''`.
    static func shellQuote(_ argument: String) -> String {
        if argument.isEmpty { return "''" }
        let safe = argument.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "-", "_", ".", "/", ",", ":", "=", "+", "@", "%": return true
            default: return false
            }
        }
        if safe { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The whole command line, program first, ready to paste into a shell.
    static func commandLine(program: String, arguments: [String]) -> String {
        ([program] + arguments).map(shellQuote).joined(separator: " ")
    }

    /// A string usable as an HTML id fragment: ASCII letters, digits and `-` only.
    static func identifier(_ text: String) -> String {
        var out = ""
        var lastWasDash = false
        for scalar in text.lowercased().unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9":
                out.unicodeScalars.append(scalar)
                lastWasDash = false
            default:
                if !lastWasDash && !out.isEmpty { out += "-" }
                lastWasDash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "x" : out
    }
}
