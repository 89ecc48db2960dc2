// Small JSON helpers for the safetensors header: classifying what JSONSerialization returned,
// finding duplicate keys (which JSONSerialization silently merges), and writing JSON strings.

import Foundation

/// Namespace for the header's JSON helpers (kept out of the module's top level, which other
/// parts of TrainingCore share).
enum SafetensorsJSON {}

extension SafetensorsJSON {
    /// One JSON value as returned by JSONSerialization, sorted into the cases the validator cares about.
    enum Value {
        case string(String)
        /// A number written as an integer that fits in `Int`.
        case integer(Int)
        /// Any other number (fraction, exponent, out of range); the text is for messages.
        case otherNumber(String)
        case bool(Bool)
        case null
        case array([Any])
        case object([String: Any])
        case unknown

        init(_ value: Any) {
            if value is NSNull {
                self = .null
            } else if let text = value as? String {
                self = .string(text)
            } else if let number = value as? NSNumber {
                // The Objective-C type code tells integers, doubles and booleans apart; `as? Int`
                // alone would accept `true` and `2.0`.
                switch String(cString: number.objCType) {
                case "c", "B":
                    self = .bool(number.boolValue)
                case "q", "l", "i", "s":
                    let wide = number.int64Value
                    self = wide >= Int64(Int.min) && wide <= Int64(Int.max) ? .integer(Int(wide)) : .otherNumber("\(wide)")
                case "Q", "L", "I", "S":
                    let wide = number.uint64Value
                    self = wide <= UInt64(Int.max) ? .integer(Int(wide)) : .otherNumber("\(wide)")
                default:
                    self = .otherNumber(number.description)
                }
            } else if let array = value as? [Any] {
                self = .array(array)
            } else if let object = value as? [String: Any] {
                self = .object(object)
            } else {
                self = .unknown
            }
        }

        /// "the string \"x\"", "the number 2.5", "an array", ... for messages.
        var summary: String {
            switch self {
            case .string(let text): return "the string \(SafetensorsError.quoted(text))"
            case .integer(let n): return "the integer \(n)"
            case .otherNumber(let text): return "the number \(text.count > 40 ? String(text.prefix(37)) + "..." : text)"
            case .bool(let flag): return flag ? "true" : "false"
            case .null: return "null"
            case .array: return "an array"
            case .object: return "an object"
            case .unknown: return "an unrecognised value"
            }
        }
    }

    /// A key that occurs twice in one JSON object of the header.
    struct DuplicateKey: Equatable {
        /// Keys of the enclosing objects from the top down: [] for a top-level key, ["w"] for a
        /// field of the entry of tensor "w".
        var path: [String]
        var key: String
    }

    /// Finds the first key that appears twice in the same object, looking at the top-level object
    /// and the objects directly inside it. JSONSerialization keeps only the last of duplicate keys,
    /// so without this a file could name a tensor twice and different readers would disagree about it.
    ///
    /// `json` must already have been accepted by JSONSerialization: the scan relies on strings being
    /// well formed. It still never indexes out of bounds on any input.
    /// Keys are compared as Swift strings (canonical Unicode equivalence), as the dictionary does.
    static func firstDuplicateKey(in json: ArraySlice<UInt8>) -> DuplicateKey? {
        struct Frame {
            var isObject: Bool
            var expectingKey: Bool
            var keys: Set<String> = []
            var lastKey: String?
            var path: [String]
        }
        var stack: [Frame] = []
        var index = json.startIndex
        while index < json.endIndex {
            let byte = json[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var path: [String] = []
                if let parent = stack.last {
                    path = parent.path
                    if parent.isObject, let key = parent.lastKey { path.append(key) }
                }
                stack.append(Frame(isObject: byte == UInt8(ascii: "{"), expectingKey: byte == UInt8(ascii: "{"), path: path))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","):
                if !stack.isEmpty, stack[stack.count - 1].isObject { stack[stack.count - 1].expectingKey = true }
            case UInt8(ascii: "\""):
                let (text, next) = decodeJSONString(json, openingQuote: index)
                index = next
                // The frame is mutated in place, never copied: a copy of its key set per key made
                // this scan quadratic in the number of tensors.
                let depth = stack.count
                if depth > 0, stack[depth - 1].isObject, stack[depth - 1].expectingKey {
                    stack[depth - 1].expectingKey = false
                    stack[depth - 1].lastKey = text
                    // Only the top level (tensor names) and the level below (entry fields,
                    // metadata keys) matter to the reader.
                    if depth <= 2, !stack[depth - 1].keys.insert(text).inserted {
                        return DuplicateKey(path: stack[depth - 1].path, key: text)
                    }
                }
                continue
            default:
                break
            }
            index += 1
        }
        return nil
    }

    /// Decodes the JSON string literal whose opening quote is at `openingQuote`; returns its text
    /// and the index just past the closing quote (or the end of `json` if it is unterminated).
    private static func decodeJSONString(_ json: ArraySlice<UInt8>, openingQuote: Int) -> (String, Int) {
        var utf8: [UInt8] = []
        var index = openingQuote + 1
        var pendingHighSurrogate: UInt32?
        func appendScalar(_ value: UInt32) {
            let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
            utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        while index < json.endIndex {
            let byte = json[index]
            if byte == UInt8(ascii: "\"") { index += 1; break }
            if byte != UInt8(ascii: "\\") {
                if let high = pendingHighSurrogate { appendScalar(high); pendingHighSurrogate = nil }
                utf8.append(byte)
                index += 1
                continue
            }
            // An escape: backslash and at least one more byte.
            guard index + 1 < json.endIndex else { index = json.endIndex; break }
            let escape = json[index + 1]
            index += 2
            var scalar: UInt32
            switch escape {
            case UInt8(ascii: "b"): scalar = 0x08
            case UInt8(ascii: "f"): scalar = 0x0c
            case UInt8(ascii: "n"): scalar = 0x0a
            case UInt8(ascii: "r"): scalar = 0x0d
            case UInt8(ascii: "t"): scalar = 0x09
            case UInt8(ascii: "u"):
                guard index + 4 <= json.endIndex,
                      let code = UInt32(String(decoding: json[index..<index + 4], as: UTF8.self), radix: 16)
                else { scalar = 0xFFFD; break }
                index += 4
                scalar = code
            default: scalar = UInt32(escape)  // \" \\ \/
            }
            if (0xD800...0xDBFF).contains(scalar) {
                if let high = pendingHighSurrogate { appendScalar(high) }
                pendingHighSurrogate = scalar
                continue
            }
            if (0xDC00...0xDFFF).contains(scalar), let high = pendingHighSurrogate {
                scalar = 0x10000 + ((high - 0xD800) << 10) + (scalar - 0xDC00)
                pendingHighSurrogate = nil
            } else if let high = pendingHighSurrogate {
                appendScalar(high)
                pendingHighSurrogate = nil
            }
            appendScalar(scalar)
        }
        if let high = pendingHighSurrogate { appendScalar(high) }
        return (String(decoding: utf8, as: UTF8.self), index)
    }

    /// Counts the keys of the top-level object, stopping once the count exceeds `limit`: a linear
    /// byte scan run before the JSON parser, so a header naming 300,000 tensors is refused at once
    /// instead of after parsing all of them. Never indexes out of bounds on any input.
    static func topLevelKeyCount(in json: ArraySlice<UInt8>, stoppingAbove limit: Int) -> Int {
        var depth = 0, count = 0
        var index = json.startIndex
        while index < json.endIndex {
            let byte = json[index]
            if byte == UInt8(ascii: "\"") {
                // Skip the string, then look for a colon: at depth 1 that makes it a key.
                index += 1
                while index < json.endIndex, json[index] != UInt8(ascii: "\"") {
                    index += json[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                index += 1
                if depth == 1 {
                    var next = index
                    while next < json.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(json[next]) { next += 1 }
                    if next < json.endIndex, json[next] == UInt8(ascii: ":") {
                        count += 1
                        if count > limit { return count }
                    }
                }
                continue
            }
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
            if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") { depth -= 1 }
            index += 1
        }
        return count
    }
}
