import DiagnoseRecord
import Foundation

/// The unknown token: stands for every token the training text does not hold (and, for words,
/// those cut by the vocabulary cap).
public let unknownToken = "<unk>"
/// The end-of-line token of word tokenisation (PyTorch's word_language_model convention).
public let endOfLineToken = "<eos>"

/// A corpus as token ids: the vocabulary comes from the training split alone, so that no
/// validation or test token shapes the model; their tokens unseen in training are `<unk>`.
public struct Corpus: Sendable {
    /// The training file's name as given (or the synthetic corpus's name).
    public var name: String
    public var synthetic: Bool
    /// SHA-256 of the training file's bytes (of the whole file when validation is cut from it), hex.
    public var sha256: String
    /// Token strings by id: the training split's tokens sorted (by code point), then `<unk>` if needed.
    public var vocabulary: [String]
    public var train: TokenStore
    public var valid: TokenStore
    /// Only with a test file.
    public var test: TokenStore?
    /// Synthetic corpus: true where the token is a recall answer (predictable only by memory).
    public var trainRecall: [Bool]?
    public var validRecall: [Bool]?
    /// Validation (test) tokens represented by `<unk>`: unseen in training or cut by the cap.
    public var unknownValidTokens: Int
    public var unknownTestTokens: Int?
    /// The separate validation and test files, when given.
    public var validFile: CorpusFile?
    public var testFile: CorpusFile?
    /// Word tokenisation: whether `<eos>` ends every line.
    public var endOfLine: Bool
    public var tokenization: Tokenization = .char
    /// Word tokenisation: the vocabulary cap asked for (nil for characters).
    public var vocabSizeLimit: Int? = nil
    /// The share of the training file's tokens, at the end, held out for validation (0 with a
    /// separate validation file).
    public var validFraction: Double = 0
    /// The synthetic corpus's recall task.
    public var recall: RecallTask? = nil

    public var vocabularySize: Int { vocabulary.count }
    /// The id of `<unk>`, when the vocabulary has one.
    public var unknownID: Int32? { vocabulary.last == unknownToken ? Int32(vocabulary.count - 1) : nil }
}

/// A separate split file: its name as given and the SHA-256 of its bytes.
public struct CorpusFile: Sendable, Equatable {
    public var name: String
    public var sha256: String
}

/// Token ids in the narrowest type the vocabulary allows: 1 byte per token up to 256 symbols,
/// 2 up to 65,536, 4 beyond. A 100 MB character corpus thus takes 100 MB, not 400.
public struct TokenStore: RandomAccessCollection, Sendable, Equatable {
    enum Storage: Sendable, Equatable {
        case byte([UInt8])
        case half([UInt16])
        case word([Int32])
    }
    let storage: Storage

    /// Stores `ids` (each in 0..<vocabularySize; default: the largest id + 1) compactly.
    public init<S: Sequence>(_ ids: S, vocabularySize: Int? = nil) where S.Element == Int32 {
        let ids = Array(ids)
        let size = vocabularySize ?? Int((ids.max() ?? 0) + 1)
        var writer = TokenWriter(capacity: ids.count, vocabularySize: size)
        for id in ids { writer.append(id) }
        self = writer.finish()
    }

    init(storage: Storage) { self.storage = storage }

    /// `count` ids written in place by `fill`, which calls its argument with (position, id) for
    /// every position: no intermediate array, one allocation of the final width.
    init(count: Int, vocabularySize: Int, fill: ((Int, Int32) -> Void) -> Void) {
        func make<T: FixedWidthInteger>(_: T.Type) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                let base = buffer.baseAddress!
                fill { base[$0] = T(truncatingIfNeeded: $1) }
                initialized = count
            }
        }
        if vocabularySize <= 256 {
            storage = .byte(make(UInt8.self))
        } else if vocabularySize <= 65_536 {
            storage = .half(make(UInt16.self))
        } else {
            storage = .word(make(Int32.self))
        }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case let .byte(a): return a.count
        case let .half(a): return a.count
        case let .word(a): return a.count
        }
    }
    /// Bytes each token takes.
    public var bytesPerToken: Int {
        switch storage {
        case .byte: return 1
        case .half: return 2
        case .word: return 4
        }
    }

    @inline(__always) public subscript(position: Int) -> Int32 {
        switch storage {
        case let .byte(a): return Int32(a[position])
        case let .half(a): return Int32(a[position])
        case let .word(a): return a[position]
        }
    }
}

/// Appends ids into the narrowest storage for a vocabulary size, without an intermediate array.
struct TokenWriter {
    private var bytes: [UInt8] = []
    private var halves: [UInt16] = []
    private var words: [Int32] = []
    private let width: Int

    init(capacity: Int, vocabularySize: Int) {
        width = vocabularySize <= 256 ? 1 : vocabularySize <= 65_536 ? 2 : 4
        switch width {
        case 1: bytes.reserveCapacity(capacity)
        case 2: halves.reserveCapacity(capacity)
        default: words.reserveCapacity(capacity)
        }
    }

    @inline(__always) mutating func append(_ id: Int32) {
        switch width {
        case 1: bytes.append(UInt8(truncatingIfNeeded: id))
        case 2: halves.append(UInt16(truncatingIfNeeded: id))
        default: words.append(id)
        }
    }

    func finish() -> TokenStore {
        switch width {
        case 1: return TokenStore(storage: .byte(bytes))
        case 2: return TokenStore(storage: .half(halves))
        default: return TokenStore(storage: .word(words))
        }
    }
}

public enum CorpusError: Error, CustomStringConvertible, Equatable {
    case missing(path: String, flag: String = "--corpus")
    case unreadable(path: String, reason: String, flag: String = "--corpus")
    case isFolder(path: String, flag: String = "--corpus")
    case tooLarge(path: String, bytes: Int, flag: String = "--corpus")
    case empty(path: String, flag: String = "--corpus")
    case notUTF8(path: String, byteOffset: Int, flag: String = "--corpus")
    case tooShort(name: String, split: String, have: Int, need: Int, flag: String = "--corpus")
    case badValidFraction(Double)

    public var description: String {
        switch self {
        case let .missing(path, flag):
            return flag == "--corpus"
                ? "--corpus \(path): no such file; give the path of a UTF-8 text file, or omit --corpus to use the built-in synthetic corpus"
                : "\(flag) \(path): no such file; give the path of a UTF-8 text file"
        case let .unreadable(path, reason, flag):
            return "\(flag) \(path): cannot be read (\(reason)); check the permissions"
        case let .isFolder(path, flag):
            return "\(flag) \(path): is a folder; give the path of a UTF-8 text file"
        case let .tooLarge(path, bytes, flag):
            return "\(flag) \(path): \(bytes) bytes is more than the \(Corpus.maximumBytes) bytes (4 GiB) a corpus file may hold; "
                + "use a part of it"
        case let .empty(path, flag):
            return "\(flag) \(path): the file is empty (or holds only white space); give a text file with content"
        case let .notUTF8(path, offset, flag):
            return "\(flag) \(path): not valid UTF-8 (first bad byte at offset \(offset)); convert it with `iconv -t UTF-8`"
        case let .tooShort(name, split, have, need, flag):
            // The built-in corpus is sized for the run, so only the flags can be at fault there.
            let source = name == SyntheticCorpus.name ? "the built-in synthetic corpus" : "\(flag) \(name)"
            let fix = split == "valid" || split == "validation" ? "raise --valid-fraction or use smaller --batch / --bptt"
                : name == SyntheticCorpus.name ? "lower --valid-fraction or use smaller --batch / --bptt"
                : "use a longer corpus or smaller --batch / --bptt"
            return "\(source): the \(split) split has \(have) tokens but one batch x (bptt + 1) window needs \(need); \(fix)"
        case let .badValidFraction(value):
            return "--valid-fraction \(value): must lie strictly between 0 and 1 (default 0.1)"
        }
    }
}

/// Where loading a large corpus has got to.
public struct CorpusLoadProgress: Sendable {
    public var file: String
    public var bytes: Int
    /// What is being done: "reading", "checking", "tokenising", "checksum".
    public var phase: String
}

extension Corpus {
    /// Files up to 4 GiB: token positions and counts then fit comfortably in every index type.
    public static let maximumBytes = 1 << 32
    /// Files from this size on report their progress while they load.
    public static let progressBytes = 16 << 20

    /// Reads and tokenises a corpus. With `validPath` the validation split is that file and nothing
    /// is cut from `path`; otherwise the last `validFraction` of `path`'s tokens is held out.
    /// `testPath`, when given, is the test split. The vocabulary comes from the training split only.
    public static func load(path: String, validPath: String? = nil, testPath: String? = nil,
                            tokenization: Tokenization, vocabSizeLimit: Int?, validFraction: Double,
                            endOfLine: Bool = true,
                            progress: (CorpusLoadProgress) -> Void = { _ in }) throws -> Corpus {
        if validPath == nil { guard validFraction > 0, validFraction < 1 else { throw CorpusError.badValidFraction(validFraction) } }
        let trainData = try read(path, flag: "--corpus", progress: progress)
        let validData = try validPath.map { try read($0, flag: "--valid", progress: progress) }
        let testData = try testPath.map { try read($0, flag: "--test", progress: progress) }
        func report(_ name: String, _ data: Data, _ phase: String) {
            if data.count >= progressBytes { progress(CorpusLoadProgress(file: name, bytes: data.count, phase: phase)) }
        }
        // The checksum runs on another core while the text is tokenised.
        let checksums = ([trainData] + [validData, testData].compactMap { $0 }).map(BackgroundChecksum.init)
        var sources = [Source(name: path, flag: "--corpus", data: trainData)]
        if let validPath, let validData { sources.append(Source(name: validPath, flag: "--valid", data: validData)) }
        if let testPath, let testData { sources.append(Source(name: testPath, flag: "--test", data: testData)) }
        var corpus = try build(sources: sources, separateValid: validPath != nil, tokenization: tokenization,
                               vocabSizeLimit: vocabSizeLimit, validFraction: validFraction, endOfLine: endOfLine,
                               report: { report($0.name, $0.data, $1) })
        corpus.name = path
        for source in sources { report(source.name, source.data, "checksum") }
        corpus.sha256 = checksums[0].value
        corpus.validFile = validPath.map { CorpusFile(name: $0, sha256: checksums[1].value) }
        corpus.testFile = testPath.map { CorpusFile(name: $0, sha256: checksums[checksums.count - 1].value) }
        return corpus
    }

    /// The same from text in memory (tests, the synthetic corpus).
    public static func make(text: String, validText: String? = nil, testText: String? = nil, tokenization: Tokenization,
                            vocabSizeLimit: Int? = nil, validFraction: Double = 0.1, endOfLine: Bool = true,
                            name: String = "") throws -> Corpus {
        if validText == nil { guard validFraction > 0, validFraction < 1 else { throw CorpusError.badValidFraction(validFraction) } }
        var sources = [Source(name: name, flag: "--corpus", data: Data(text.utf8))]
        if let validText { sources.append(Source(name: "valid", flag: "--valid", data: Data(validText.utf8))) }
        if let testText { sources.append(Source(name: "test", flag: "--test", data: Data(testText.utf8))) }
        var corpus = try build(sources: sources, separateValid: validText != nil, tokenization: tokenization,
                               vocabSizeLimit: vocabSizeLimit, validFraction: validFraction, endOfLine: endOfLine,
                               report: { _, _ in })
        corpus.name = name
        corpus.sha256 = SHA256.hex(sources[0].data)
        return corpus
    }

    /// The first `limit` tokens of a file as strings (no vocabulary): how `diagnose probe` cuts a
    /// batch from text to look up in a vocabulary made elsewhere.
    public static func pieces(path: String, tokenization: Tokenization, endOfLine: Bool, limit: Int) throws -> [String] {
        let source = Source(name: path, flag: "--corpus", data: try read(path, flag: "--corpus", progress: { _ in }))
        try source.validate()
        var result: [String] = []
        source.withBytes { bytes in
            switch tokenization {
            case .char:
                forEachScalar(bytes, 0..<bytes.count) { scalar in
                    if result.count < limit { result.append(String(Unicode.Scalar(scalar)!)) }
                }
            case .word:
                forEachWord(bytes, endOfLine: endOfLine) { word in
                    if result.count < limit { result.append(word.map { String(decoding: $0, as: UTF8.self) } ?? endOfLineToken) }
                }
            }
        }
        return result
    }

    static func splitPoint(count: Int, validFraction: Double) -> Int {
        count - Int((Double(count) * validFraction).rounded())
    }

    static func read(_ path: String, flag: String, progress: (CorpusLoadProgress) -> Void) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CorpusError.missing(path: path, flag: flag)
        }
        if isDirectory.boolValue { throw CorpusError.isFolder(path: path, flag: flag) }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumBytes else { throw CorpusError.tooLarge(path: path, bytes: size, flag: flag) }
        if size >= progressBytes { progress(CorpusLoadProgress(file: path, bytes: size, phase: "reading")) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw CorpusError.unreadable(path: path, reason: error.localizedDescription, flag: flag)
        }
        // The size may have changed since it was checked: bound what was actually read.
        guard data.count <= maximumBytes else { throw CorpusError.tooLarge(path: path, bytes: data.count, flag: flag) }
        return data
    }
}

/// SHA-256 of some bytes, computed on a background thread from the moment it is made.
final class BackgroundChecksum: @unchecked Sendable {
    private var result = ""
    private let group = DispatchGroup()

    init(_ data: Data) {
        DispatchQueue.global().async(group: group) { self.result = SHA256.hex(data) }
    }

    /// Waits for the digest (hex).
    var value: String {
        group.wait()
        return result
    }
}

// MARK: - Tokenising bytes

/// One input file (or text) and the flag that named it, for error messages.
struct Source {
    var name: String
    var flag: String
    var data: Data

    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { raw in try body(raw.bindMemory(to: UInt8.self)) }
    }

    /// Strict UTF-8 and not blank; returns the number of scalars.
    @discardableResult
    func validate() throws -> Int {
        let result = withBytes { validateUTF8($0) }
        if let bad = result.badOffset { throw CorpusError.notUTF8(path: name, byteOffset: bad, flag: flag) }
        guard result.hasContent else { throw CorpusError.empty(path: name, flag: flag) }
        return result.scalars
    }
}

/// A span of one source's bytes: the whole file, or the training or validation part of it.
private struct Span {
    var source: Int
    var bytes: Range<Int>
}

extension Corpus {
    /// Validates every source, splits, builds the vocabulary from the training split and encodes
    /// every split with it. `sources`: training file, then validation file (if `separateValid`),
    /// then test file (if any).
    static func build(sources: [Source], separateValid: Bool, tokenization: Tokenization, vocabSizeLimit: Int?,
                      validFraction: Double, endOfLine: Bool, report: (Source, String) -> Void) throws -> Corpus {
        var scalars: [Int] = []
        for source in sources {
            report(source, "checking")
            scalars.append(try source.validate())
        }
        for source in sources { report(source, "tokenising") }
        let testIndex = sources.count > (separateValid ? 2 : 1) ? sources.count - 1 : nil
        var corpus: Corpus
        switch tokenization {
        case .char:
            corpus = try buildCharacters(sources: sources, scalars: scalars, separateValid: separateValid,
                                         testIndex: testIndex, validFraction: validFraction)
        case .word:
            corpus = try buildWords(sources: sources, separateValid: separateValid, testIndex: testIndex,
                                    vocabSizeLimit: vocabSizeLimit, validFraction: validFraction, endOfLine: endOfLine)
        }
        corpus.tokenization = tokenization
        corpus.vocabSizeLimit = tokenization == .word ? vocabSizeLimit : nil
        corpus.validFraction = separateValid ? 0 : validFraction
        return corpus
    }

    /// Characters: three passes over the bytes, never a `String` per character.
    private static func buildCharacters(sources: [Source], scalars: [Int], separateValid: Bool, testIndex: Int?,
                                        validFraction: Double) throws -> Corpus {
        // The spans of each split; without a validation file, the split falls at a scalar count.
        let train: Span, valid: Span
        if separateValid {
            train = Span(source: 0, bytes: 0..<sources[0].data.count)
            valid = Span(source: 1, bytes: 0..<sources[1].data.count)
        } else {
            let cut = splitPoint(count: scalars[0], validFraction: validFraction)
            let offset = sources[0].withBytes { byteOffset(ofScalar: cut, in: $0) }
            train = Span(source: 0, bytes: 0..<offset)
            valid = Span(source: 0, bytes: offset..<sources[0].data.count)
        }
        let test = testIndex.map { Span(source: $0, bytes: 0..<sources[$0].data.count) }
        // Which code points the training split holds: they, in order, are the vocabulary.
        var seen = [Bool](repeating: false, count: 0x11_0000)
        seen.withUnsafeMutableBufferPointer { seen in
            sources[train.source].withBytes { bytes in forEachScalar(bytes, train.bytes) { seen[Int($0)] = true } }
        }
        var ids = [Int32](repeating: -1, count: 0x11_0000)
        var vocabulary: [String] = []
        for scalar in seen.indices where seen[scalar] {
            ids[scalar] = Int32(vocabulary.count)
            vocabulary.append(String(Unicode.Scalar(UInt32(scalar))!))
        }
        // Room for <unk> in the id width, in case another split needs it.
        let width = vocabulary.count + 1
        let unknown = Int32(vocabulary.count)
        func encode(_ span: Span) -> (TokenStore, unknown: Int) {
            var unseen = 0
            let store = sources[span.source].withBytes { bytes in
                ids.withUnsafeBufferPointer { ids in
                    TokenStore(count: countScalars(bytes, span.bytes), vocabularySize: width) { out in
                        var k = 0
                        forEachScalar(bytes, span.bytes) { scalar in
                            let id = ids[Int(scalar)]
                            if id < 0 { unseen += 1; out(k, unknown) } else { out(k, id) }
                            k += 1
                        }
                    }
                }
            }
            return (store, unseen)
        }
        let trainTokens = encode(train).0
        let (validTokens, validUnknown) = encode(valid)
        let testResult = test.map(encode)
        if validUnknown + (testResult?.unknown ?? 0) > 0 { vocabulary.append(unknownToken) }
        return Corpus(name: "", synthetic: false, sha256: "", vocabulary: vocabulary, train: trainTokens, valid: validTokens,
                      test: testResult?.0, trainRecall: nil, validRecall: nil, unknownValidTokens: validUnknown,
                      unknownTestTokens: testResult?.unknown, validFile: nil, testFile: nil, endOfLine: false)
    }

    /// Words: each split becomes provisional ids (in order of first appearance), the training
    /// split's counts choose the vocabulary, then every split is re-encoded with it.
    private static func buildWords(sources: [Source], separateValid: Bool, testIndex: Int?, vocabSizeLimit: Int?,
                                   validFraction: Double, endOfLine: Bool) throws -> Corpus {
        var index: [String: Int32] = [:]
        var words: [String] = []
        func provisional(_ source: Source) -> [Int32] {
            var out: [Int32] = []
            source.withBytes { bytes in
                forEachWord(bytes, endOfLine: endOfLine) { word in
                    let key = word.map { String(decoding: $0, as: UTF8.self) } ?? endOfLineToken
                    if let id = index[key] { out.append(id); return }
                    let id = Int32(words.count)
                    index[key] = id
                    words.append(key)
                    out.append(id)
                }
            }
            return out
        }
        let first = provisional(sources[0])
        guard !first.isEmpty else { throw CorpusError.empty(path: sources[0].name, flag: sources[0].flag) }
        let trainIDs: ArraySlice<Int32>, validIDs: ArraySlice<Int32>
        if separateValid {
            trainIDs = first[...]
            validIDs = provisional(sources[1])[...]
            guard !validIDs.isEmpty else { throw CorpusError.empty(path: sources[1].name, flag: sources[1].flag) }
        } else {
            let cut = splitPoint(count: first.count, validFraction: validFraction)
            trainIDs = first[..<cut]
            validIDs = first[cut...]
        }
        let testIDs = testIndex.map { provisional(sources[$0]) }
        if let testIDs, testIDs.isEmpty { throw CorpusError.empty(path: sources[testIndex!].name, flag: "--test") }

        var counts = [Int](repeating: 0, count: words.count)
        for id in trainIDs { counts[Int(id)] += 1 }
        let literalUnknown = index[unknownToken].map { counts[Int($0)] > 0 } ?? false
        var kept = words.indices.filter { counts[$0] > 0 && words[$0] != unknownToken }
        var needUnknown = literalUnknown
        if let limit = vocabSizeLimit, kept.count + (literalUnknown ? 1 : 0) > limit {
            // Keep the limit - 1 most frequent (ties broken by the word), the rest is <unk>.
            kept.sort { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : words[$0].utf8.lexicographicallyPrecedes(words[$1].utf8) }
            kept = Array(kept.prefix(max(limit - 1, 0)))
            needUnknown = true
        }
        kept.sort { words[$0].utf8.lexicographicallyPrecedes(words[$1].utf8) }
        var finalID = [Int32](repeating: -1, count: words.count)
        for (i, word) in kept.enumerated() { finalID[word] = Int32(i) }
        let unknown = Int32(kept.count)
        func encode(_ ids: ArraySlice<Int32>) -> (TokenStore, unknown: Int) {
            var writer = TokenWriter(capacity: ids.count, vocabularySize: kept.count + 1)
            var unseen = 0
            for id in ids {
                let mapped = finalID[Int(id)]
                if mapped < 0 { unseen += 1; writer.append(unknown) } else { writer.append(mapped) }
            }
            return (writer.finish(), unseen)
        }
        let (trainTokens, trainUnknown) = encode(trainIDs)
        let (validTokens, validUnknown) = encode(validIDs)
        let testResult = testIDs.map { encode($0[...]) }
        needUnknown = needUnknown || trainUnknown + validUnknown + (testResult?.unknown ?? 0) > 0
        var vocabulary = kept.map { words[$0] }
        if needUnknown { vocabulary.append(unknownToken) }
        return Corpus(name: "", synthetic: false, sha256: "", vocabulary: vocabulary, train: trainTokens, valid: validTokens,
                      test: testResult?.0, trainRecall: nil, validRecall: nil, unknownValidTokens: validUnknown,
                      unknownTestTokens: testResult?.unknown, validFile: nil, testFile: nil, endOfLine: endOfLine)
    }
}

// MARK: - UTF-8

/// Strict UTF-8 validation (no overlong forms, surrogates or code points beyond U+10FFFF): the
/// offset of the first byte of the first bad sequence, the number of scalars, and whether any
/// is something other than ASCII white space.
func validateUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> (badOffset: Int?, scalars: Int, hasContent: Bool) {
    let n = bytes.count
    var i = 0, scalars = 0, content = false
    while i < n {
        // Eight ASCII bytes at a time.
        if i + 8 <= n {
            let chunk = UnsafeRawPointer(bytes.baseAddress! + i).loadUnaligned(as: UInt64.self)
            if chunk & 0x8080_8080_8080_8080 == 0 {
                if !content {
                    for k in 0..<8 where !isASCIISpace(bytes[i + k]) { content = true }
                }
                i += 8
                scalars += 8
                continue
            }
        }
        let b0 = bytes[i]
        if b0 < 0x80 {
            if !content && !isASCIISpace(b0) { content = true }
            i += 1
            scalars += 1
            continue
        }
        let length: Int, low: UInt8, high: UInt8
        switch b0 {
        case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
        case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
        case 0xED: (length, low, high) = (3, 0x80, 0x9F)
        case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
        case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
        case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
        default: return (i, scalars, content)
        }
        guard i + length <= n, bytes[i + 1] >= low, bytes[i + 1] <= high else { return (i, scalars, content) }
        for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return (i, scalars, content) }
        content = true
        i += length
        scalars += 1
    }
    return (nil, scalars, content)
}

@inline(__always) func isASCIISpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

/// Calls `body` with each code point of valid UTF-8 in `range`.
@inline(__always) func forEachScalar(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (UInt32) -> Void) {
    var i = range.lowerBound
    let end = range.upperBound
    while i < end {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 {
            body(b0)
            i += 1
        } else if b0 < 0xE0 {
            body((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F))
            i += 2
        } else if b0 < 0xF0 {
            body((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F))
            i += 3
        } else {
            body((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                 | UInt32(bytes[i + 3] & 0x3F))
            i += 4
        }
    }
}

/// Code points in a range of valid UTF-8: its bytes that are not continuation bytes.
func countScalars(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
    var count = 0
    for i in range where bytes[i] & 0xC0 != 0x80 { count += 1 }
    return count
}

/// The byte offset at which code point number `n` starts (the end if there are fewer).
func byteOffset(ofScalar n: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var seen = 0
    for i in 0..<bytes.count where bytes[i] & 0xC0 != 0x80 {
        if seen == n { return i }
        seen += 1
    }
    return bytes.count
}

/// Calls `body` with each whitespace-separated word of valid UTF-8 (its bytes), and with nil for
/// `<eos>` at every line end when `endOfLine` is set: after each "\n", and after a last line that
/// has no "\n" (the lines Python's `for line in file` yields, blank ones included).
func forEachWord(_ bytes: UnsafeBufferPointer<UInt8>, endOfLine: Bool, _ body: (UnsafeBufferPointer<UInt8>?) -> Void) {
    var i = 0, start = -1
    let n = bytes.count
    func flush(_ end: Int) {
        if start >= 0 { body(UnsafeBufferPointer(rebasing: bytes[start..<end])) }
        start = -1
    }
    while i < n {
        let b0 = bytes[i]
        var length = 1
        var space: Bool
        if b0 < 0x80 {
            space = isASCIISpace(b0)
        } else {
            length = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
            var scalar: UInt32 = 0
            forEachScalar(bytes, i..<(i + length)) { scalar = $0 }
            space = Unicode.Scalar(scalar)?.properties.isWhitespace ?? false
        }
        if space {
            flush(i)
            if b0 == 0x0A && endOfLine { body(nil) }
        } else if start < 0 {
            start = i
        }
        i += length
    }
    flush(n)
    if endOfLine && n > 0 && bytes[n - 1] != 0x0A { body(nil) }
}
