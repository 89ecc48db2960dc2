// Corpora: a text file (or text in memory) checked as strict UTF-8 and cut into token ids, by
// character or word, with training, validation and test splits, the vocabulary taken from the
// training split alone, compact token storage (`TokenStore`), and typed errors (`CorpusError`)
// that name the file and its role; the command line phrases them with its flags. Also the probe
// batch cut from a text for a model trained elsewhere (`Corpus.probeBatch`). The synthetic recall
// corpus is in SyntheticCorpus.swift; windows are cut in Batcher.swift.

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

/// Which of a corpus's files a problem is in: the training text (which also holds the validation
/// split unless a separate file is given), the validation file or the test file.
public enum CorpusFileRole: String, Sendable, Equatable {
    case training, validation, test
}

/// The tokens a batch is cut from: one split of a corpus, or a whole text (`Corpus.probeBatch`).
public enum CorpusSplit: String, Sendable, Equatable {
    case training, validation, test, whole
}

/// What is wrong with a corpus: the file (its path and its role) and the numbers. The remedy
/// depends on how the caller named the file, so it is the caller's to phrase.
public enum CorpusError: Error, CustomStringConvertible, Equatable {
    case missing(path: String, role: CorpusFileRole = .training)
    case unreadable(path: String, reason: String, role: CorpusFileRole = .training)
    case isFolder(path: String, role: CorpusFileRole = .training)
    case tooLarge(path: String, bytes: Int, role: CorpusFileRole = .training)
    case empty(path: String, role: CorpusFileRole = .training)
    case notUTF8(path: String, byteOffset: Int, role: CorpusFileRole = .training)
    /// `split` holds `have` tokens where `need` (B x (T + 1)) are needed; `name` is the file's path
    /// or `SyntheticCorpus.name`.
    case tooShort(name: String, split: CorpusSplit, have: Int, need: Int, role: CorpusFileRole = .training)
    case badValidFraction(Double)
    /// A token of the text is not in a vocabulary made elsewhere, which has no `<unk>`.
    case notInVocabulary(path: String, token: String)

    /// The file the problem is in (nil for the validation fraction).
    public var role: CorpusFileRole? {
        switch self {
        case let .missing(_, role), let .unreadable(_, _, role), let .isFolder(_, role), let .tooLarge(_, _, role),
             let .empty(_, role), let .notUTF8(_, _, role), let .tooShort(_, _, _, _, role):
            return role
        case .badValidFraction: return nil
        case .notInVocabulary: return .training
        }
    }

    /// Whether the built-in synthetic corpus is too short (then only the sizes can be at fault).
    public var isSynthetic: Bool {
        if case let .tooShort(name, _, _, _, _) = self { return name == SyntheticCorpus.name }
        return false
    }

    public var description: String {
        switch self {
        case let .missing(path, _): return "\(path): no such file"
        case let .unreadable(path, reason, _): return "\(path): cannot be read (\(reason))"
        case let .isFolder(path, _): return "\(path): is a folder, not a text file"
        case let .tooLarge(path, bytes, _):
            return "\(path): \(bytes) bytes is more than the \(Corpus.maximumBytes) bytes (4 GiB) a corpus file may hold"
        case let .empty(path, _): return "\(path): the file is empty (or holds only white space)"
        case let .notUTF8(path, offset, _): return "\(path): not valid UTF-8 (first bad byte at offset \(offset))"
        case let .tooShort(name, split, have, need, _):
            let source = isSynthetic ? "the built-in synthetic corpus" : name
            let what = split == .whole ? "the text" : "the \(split.rawValue) split"
            return "\(source): \(what) has \(have) tokens but one batch x (bptt + 1) window needs \(need)"
        case let .badValidFraction(value):
            return "validation fraction \(value): must lie strictly between 0 and 1"
        case let .notInVocabulary(path, token):
            return "\(path): token \"\(token)\" is not in the vocabulary (and it has no \(unknownToken))"
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
        let trainData = try read(path, role: .training, progress: progress)
        let validData = try validPath.map { try read($0, role: .validation, progress: progress) }
        let testData = try testPath.map { try read($0, role: .test, progress: progress) }
        func report(_ name: String, _ data: Data, _ phase: String) {
            if data.count >= progressBytes { progress(CorpusLoadProgress(file: name, bytes: data.count, phase: phase)) }
        }
        // The checksum runs on another core while the text is tokenised.
        let checksums = ([trainData] + [validData, testData].compactMap { $0 }).map(BackgroundChecksum.init)
        var sources = [Source(name: path, role: .training, data: trainData)]
        if let validPath, let validData { sources.append(Source(name: validPath, role: .validation, data: validData)) }
        if let testPath, let testData { sources.append(Source(name: testPath, role: .test, data: testData)) }
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
        var sources = [Source(name: name, role: .training, data: Data(text.utf8))]
        if let validText { sources.append(Source(name: "valid", role: .validation, data: Data(validText.utf8))) }
        if let testText { sources.append(Source(name: "test", role: .test, data: Data(testText.utf8))) }
        var corpus = try build(sources: sources, separateValid: validText != nil, tokenization: tokenization,
                               vocabSizeLimit: vocabSizeLimit, validFraction: validFraction, endOfLine: endOfLine,
                               report: { _, _ in })
        corpus.name = name
        corpus.sha256 = SHA256.hex(sources[0].data)
        return corpus
    }

    /// The probe batch for a model trained elsewhere, cut from the start of a text file: `batch`
    /// rows of `steps + 1` consecutive tokens (row b holds tokens b(T+1) ..< (b+1)(T+1)), each looked
    /// up in `vocabulary` (index = token id); a token the vocabulary lacks becomes `<unk>` when it
    /// has one. Words end each line with `<eos>` when the vocabulary holds it (PyTorch's
    /// word_language_model convention). Returns the batch and the SHA-256 of the file's bytes.
    public static func probeBatch(path: String, vocabulary: [String], tokenization: Tokenization,
                                  batch: Int, steps: Int) throws -> (batch: Batch, sha256: String) {
        precondition(batch > 0 && steps > 0, "the caller bounds the batch")
        let source = Source(name: path, role: .training, data: try read(path, role: .training, progress: { _ in }))
        let need = batch * (steps + 1)
        let tokens = try pieces(of: source, tokenization: tokenization, endOfLine: vocabulary.contains(endOfLineToken),
                                limit: need)
        guard tokens.count == need else {
            throw CorpusError.tooShort(name: path, split: .whole, have: tokens.count, need: need)
        }
        var index: [String: Int32] = [:]
        for (id, token) in vocabulary.enumerated() where index[token] == nil { index[token] = Int32(id) }
        let unknown = index[unknownToken]
        // Row b of the text is column b of the time-major window.
        var window = [Int32](repeating: 0, count: need)
        for (position, token) in tokens.enumerated() {
            guard let id = index[token] ?? unknown else { throw CorpusError.notInVocabulary(path: path, token: token) }
            window[(position % (steps + 1)) * batch + position / (steps + 1)] = id
        }
        return (Batch(batch: batch, steps: steps, window: window, recall: nil), SHA256.hex(source.data))
    }

    /// The first `limit` tokens of a file as strings (no vocabulary).
    static func pieces(path: String, tokenization: Tokenization, endOfLine: Bool, limit: Int) throws -> [String] {
        try pieces(of: Source(name: path, role: .training, data: try read(path, role: .training, progress: { _ in })),
                   tokenization: tokenization, endOfLine: endOfLine, limit: limit)
    }

    private static func pieces(of source: Source, tokenization: Tokenization, endOfLine: Bool, limit: Int) throws -> [String] {
        try source.validate()
        var result: [String] = []
        source.withBytes { bytes in
            switch tokenization {
            case .char:
                forEachScalar(bytes, 0..<bytes.count) { scalar in
                    if result.count < limit, let character = Unicode.Scalar(scalar) { result.append(String(character)) }
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

    static func read(_ path: String, role: CorpusFileRole, progress: (CorpusLoadProgress) -> Void) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CorpusError.missing(path: path, role: role)
        }
        if isDirectory.boolValue { throw CorpusError.isFolder(path: path, role: role) }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumBytes else { throw CorpusError.tooLarge(path: path, bytes: size, role: role) }
        if size >= progressBytes { progress(CorpusLoadProgress(file: path, bytes: size, phase: "reading")) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw CorpusError.unreadable(path: path, reason: error.localizedDescription, role: role)
        }
        // The size may have changed since it was checked: bound what was actually read.
        guard data.count <= maximumBytes else { throw CorpusError.tooLarge(path: path, bytes: data.count, role: role) }
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

/// One input file (or text) and its role, for error messages.
struct Source {
    var name: String
    var role: CorpusFileRole
    var data: Data

    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { raw in try body(raw.bindMemory(to: UInt8.self)) }
    }

    /// Strict UTF-8 and not blank; returns the number of scalars.
    @discardableResult
    func validate() throws -> Int {
        let result = withBytes { validateUTF8($0) }
        if let bad = result.badOffset { throw CorpusError.notUTF8(path: name, byteOffset: bad, role: role) }
        guard result.hasContent else { throw CorpusError.empty(path: name, role: role) }
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
        guard !first.isEmpty else { throw CorpusError.empty(path: sources[0].name, role: sources[0].role) }
        let trainIDs: ArraySlice<Int32>, validIDs: ArraySlice<Int32>
        if separateValid {
            trainIDs = first[...]
            validIDs = provisional(sources[1])[...]
            guard !validIDs.isEmpty else { throw CorpusError.empty(path: sources[1].name, role: sources[1].role) }
        } else {
            let cut = splitPoint(count: first.count, validFraction: validFraction)
            trainIDs = first[..<cut]
            validIDs = first[cut...]
        }
        let testIDs = testIndex.map { provisional(sources[$0]) }
        if let testIndex, let testIDs, testIDs.isEmpty { throw CorpusError.empty(path: sources[testIndex].name, role: .test) }

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
