import DiagnoseRecord
import Foundation

/// A token stream with its vocabulary, split into training and validation parts.
public struct Corpus: Sendable {
    public var name: String
    public var synthetic: Bool
    /// SHA-256 of the source bytes, hex.
    public var sha256: String
    public var vocabulary: [String]
    public var tokens: [Int32]
    /// For the synthetic corpus: true where the token is a recall answer (predictable only by memory).
    public var recallMask: [Bool]?
    /// tokens[..<trainCount] train, the rest validation.
    public var trainCount: Int
    public var tokenization: Tokenization
    /// Word tokenisation: the vocabulary cap asked for (nil for characters).
    public var vocabSizeLimit: Int?
    /// The share of the tokens, at the end, held out for validation.
    public var validFraction: Double
    /// The synthetic corpus's recall task.
    public var recall: RecallTask?

    public var vocabularySize: Int { vocabulary.count }
    public var train: ArraySlice<Int32> { tokens[..<trainCount] }
    public var valid: ArraySlice<Int32> { tokens[trainCount...] }
}

public enum CorpusError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case isFolder(path: String)
    case empty(path: String)
    case notUTF8(path: String, byteOffset: Int)
    case tooShort(name: String, split: String, have: Int, need: Int)
    case badValidFraction(Double)

    public var description: String {
        switch self {
        case let .missing(path):
            return "--corpus \(path): no such file; give the path of a UTF-8 text file, or omit --corpus to use the built-in synthetic corpus"
        case let .unreadable(path, reason):
            return "--corpus \(path): cannot be read (\(reason)); check the permissions"
        case let .isFolder(path):
            return "--corpus \(path): is a folder; give the path of a UTF-8 text file"
        case let .empty(path):
            return "--corpus \(path): the file is empty (or holds only white space); give a text file with content"
        case let .notUTF8(path, offset):
            return "--corpus \(path): not valid UTF-8 (first bad byte at offset \(offset)); convert it with `iconv -t UTF-8`"
        case let .tooShort(name, split, have, need):
            return "--corpus \(name): the \(split) split has \(have) tokens but one batch x (bptt + 1) window needs \(need); "
                + "use a longer corpus or smaller --batch / --bptt"
        case let .badValidFraction(value):
            return "--valid-fraction \(value): must lie strictly between 0 and 1 (default 0.1)"
        }
    }
}

extension Corpus {
    /// Reads and tokenises a UTF-8 text file. The last `validFraction` of the tokens is held out.
    public static func load(path: String, tokenization: Tokenization, vocabSizeLimit: Int?,
                            validFraction: Double) throws -> Corpus {
        guard validFraction > 0, validFraction < 1 else { throw CorpusError.badValidFraction(validFraction) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CorpusError.missing(path: path)
        }
        if isDirectory.boolValue { throw CorpusError.isFolder(path: path) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CorpusError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard let text = String(validatingUTF8Data: data) else {
            throw CorpusError.notUTF8(path: path, byteOffset: firstInvalidUTF8Offset(data))
        }
        guard text.contains(where: { !$0.isWhitespace }) else { throw CorpusError.empty(path: path) }
        var corpus = tokenize(text: text, tokenization: tokenization, vocabSizeLimit: vocabSizeLimit)
        corpus.name = path
        corpus.sha256 = SHA256.hex(data)
        corpus.split(validFraction: validFraction)
        return corpus
    }

    /// Holds out the last `validFraction` of the tokens for validation.
    mutating func split(validFraction: Double) {
        self.validFraction = validFraction
        trainCount = tokens.count - Int((Double(tokens.count) * validFraction).rounded())
    }

    /// Builds the vocabulary (sorted, so it does not depend on the order words appear in) and the ids.
    public static func tokenize(text: String, tokenization: Tokenization, vocabSizeLimit: Int?) -> Corpus {
        let pieces: [String]
        switch tokenization {
        case .char: pieces = text.map { String($0) }
        case .word: pieces = text.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        }
        var counts: [String: Int] = [:]
        for piece in pieces { counts[piece, default: 0] += 1 }
        var kept = Array(counts.keys)
        var unknown: String?
        if tokenization == .word, let limit = vocabSizeLimit, counts.count > limit {
            // Keep the limit - 1 most frequent words (ties broken by the word), the rest is <unk>.
            let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            kept = ranked.prefix(max(limit - 1, 0)).map(\.key)
            unknown = "<unk>"
        }
        kept.sort()
        if let unknown { kept.append(unknown) }
        var index: [String: Int32] = [:]
        for (i, piece) in kept.enumerated() { index[piece] = Int32(i) }
        let unknownID = unknown.map { index[$0]! } ?? 0
        let tokens = pieces.map { index[$0] ?? unknownID }
        return Corpus(name: "", synthetic: false, sha256: "", vocabulary: kept, tokens: tokens, recallMask: nil,
                      trainCount: tokens.count, tokenization: tokenization,
                      vocabSizeLimit: tokenization == .word ? vocabSizeLimit : nil, validFraction: 0)
    }

    static func firstInvalidUTF8Offset(_ data: Data) -> Int {
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let b = bytes[offset]
            let length: Int
            if b < 0x80 { length = 1 } else if b >> 5 == 0b110 { length = 2 } else if b >> 4 == 0b1110 { length = 3 }
            else if b >> 3 == 0b11110 { length = 4 } else { return offset }
            if offset + length > bytes.count { return offset }
            if String(bytes: bytes[offset..<(offset + length)], encoding: .utf8) == nil { return offset }
            offset += length
        }
        return offset
    }
}

extension String {
    /// Strict UTF-8 decoding: nil (instead of replacement characters) on any invalid byte.
    init?(validatingUTF8Data data: Data) {
        guard let string = String(data: data, encoding: .utf8) else { return nil }
        self = string
    }
}
