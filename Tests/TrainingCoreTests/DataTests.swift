import DiagnoseRecord
import Foundation
import Testing
@testable import TrainingCore

@Suite struct TokenizationTests {
    @Test func charactersBecomeSortedVocabulary() throws {
        let corpus = try Corpus.make(text: "abca é", validText: "ba", tokenization: .char)
        #expect(corpus.vocabulary == [" ", "a", "b", "c", "é"])
        #expect(Array(corpus.train) == [1, 2, 3, 1, 0, 4])
        #expect(corpus.train.bytesPerToken == 1)
    }

    @Test func charactersAreCodePointsWithoutStringsPerCharacter() throws {
        // "e" + combining acute is two tokens (as in Python), "\r\n" two, a 4-byte emoji one.
        let corpus = try Corpus.make(text: "e\u{301}\r\n😀é", validText: "é", tokenization: .char)
        #expect(corpus.vocabulary == ["\n", "\r", "e", "é", "\u{301}", "😀"])
        #expect(Array(corpus.train) == [2, 4, 1, 0, 5, 3])
    }

    @Test func wordsAreCappedWithUnknown() throws {
        let corpus = try Corpus.make(text: "the cat the dog the cat a", validText: "the", tokenization: .word,
                                     vocabSizeLimit: 3, endOfLine: false)
        // Two most frequent words kept (the: 3, cat: 2), the rest is <unk>.
        #expect(corpus.vocabulary == ["cat", "the", "<unk>"])
        #expect(Array(corpus.train) == [1, 0, 1, 2, 1, 0, 2])
    }

    @Test func endOfLineAtEveryLineEndAsPyTorchWordLMDoes() throws {
        // Python: for line in f: words = line.split() + ['<eos>'] (blank lines included, last line without "\n" too).
        let corpus = try Corpus.make(text: "a b\n\nb  a\r\nc", validText: "a", tokenization: .word)
        let words = corpus.train.map { corpus.vocabulary[Int($0)] }
        #expect(words == ["a", "b", "<eos>", "<eos>", "b", "a", "<eos>", "c", "<eos>"])
        let trailing = try Corpus.make(text: "a b\n", validText: "a", tokenization: .word)
        #expect(trailing.train.map { trailing.vocabulary[Int($0)] } == ["a", "b", "<eos>"])
        let off = try Corpus.make(text: "a b\nc\n", validText: "a", tokenization: .word, endOfLine: false)
        #expect(off.train.map { off.vocabulary[Int($0)] } == ["a", "b", "c"])
        #expect(!off.vocabulary.contains("<eos>"))
    }

    @Test func vocabularyComesFromTheTrainingSplitOnly() throws {
        // "zebra" and "yak" occur only in the last 10% (the validation split).
        let text = String(repeating: "the cat sat on the mat ", count: 15) + "zebra yak the cat zebra yak the cat cat mat"
        let corpus = try Corpus.make(text: text, tokenization: .word, validFraction: 0.1, endOfLine: false)
        #expect(corpus.train.count == 90 && corpus.valid.count == 10)
        #expect(!corpus.vocabulary.contains("zebra") && !corpus.vocabulary.contains("yak"))
        #expect(corpus.vocabulary == ["cat", "mat", "on", "sat", "the", "<unk>"])
        #expect(corpus.valid.map { corpus.vocabulary[Int($0)] }
                == ["<unk>", "<unk>", "the", "cat", "<unk>", "<unk>", "the", "cat", "cat", "mat"])
        #expect(corpus.unknownValidTokens == 4)
        #expect(corpus.unknownID == 5)
        #expect(!corpus.train.contains(5))
    }

    @Test func separateValidationAndTestFilesUseTheTrainingVocabulary() throws {
        let corpus = try Corpus.make(text: "a b c a b c\n", validText: "a d\n", testText: "e a b\n", tokenization: .word)
        #expect(corpus.vocabulary == ["<eos>", "a", "b", "c", "<unk>"])
        #expect(corpus.train.count == 7)  // nothing cut from the training text
        #expect(corpus.valid.map { corpus.vocabulary[Int($0)] } == ["a", "<unk>", "<eos>"])
        #expect(corpus.test.map { $0.map { corpus.vocabulary[Int($0)] } } == ["<unk>", "a", "b", "<eos>"])
        #expect(corpus.unknownValidTokens == 1 && corpus.unknownTestTokens == 1)
    }

    @Test func literalUnknownInTheTextIsTheUnknownToken() throws {
        // PTB's files already hold <unk>: it must stay one token, not become two.
        let corpus = try Corpus.make(text: "a <unk> b <unk>", validText: "c <unk>", tokenization: .word, endOfLine: false)
        #expect(corpus.vocabulary == ["a", "b", "<unk>"])
        #expect(Array(corpus.valid) == [2, 2])
        #expect(corpus.unknownValidTokens == 2)
    }

    @Test func characterUnknownOnlyWhenNeeded() throws {
        let clean = try Corpus.make(text: "abcabc", validText: "cab", tokenization: .char)
        #expect(clean.vocabulary == ["a", "b", "c"] && clean.unknownValidTokens == 0)
        let unseen = try Corpus.make(text: "abcabc", validText: "cxbé", tokenization: .char)
        #expect(unseen.vocabulary == ["a", "b", "c", "<unk>"])
        #expect(Array(unseen.valid) == [2, 3, 1, 3])
        #expect(unseen.unknownValidTokens == 2)
    }

    @Test func tokensAreStoredAsNarrowAsTheVocabularyAllows() {
        #expect(TokenStore([0, 255] as [Int32]).bytesPerToken == 1)
        #expect(TokenStore([0, 256] as [Int32]).bytesPerToken == 2)
        #expect(TokenStore([0, 65_536] as [Int32]).bytesPerToken == 4)
        let wide = TokenStore([3, 70_000, 1] as [Int32])
        #expect(Array(wide) == [3, 70_000, 1])
    }

    @Test func probeBatchIsCutRowByRowFromTheText() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-probe-\(UUID().uuidString).txt")
        try "abcdefz".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let vocabulary = ["a", "b", "c", "d", "e", "f", unknownToken]
        let cut = try Corpus.probeBatch(path: url.path, vocabulary: vocabulary, tokenization: .char, batch: 2, steps: 2)
        // Rows "abc" and "def", time-major: a d / b e / c f.
        #expect(cut.batch.window == [0, 3, 1, 4, 2, 5])
        #expect(cut.sha256 == SHA256.hex(Data("abcdefz".utf8)))
        // "z" is not in the vocabulary: <unk> when it has one, refused when not.
        let three = try Corpus.probeBatch(path: url.path, vocabulary: vocabulary, tokenization: .char, batch: 1, steps: 6)
        #expect(three.batch.window.last == 6)
        #expect(throws: CorpusError.notInVocabulary(path: url.path, token: "z")) {
            try Corpus.probeBatch(path: url.path, vocabulary: Array(vocabulary.dropLast()), tokenization: .char, batch: 1, steps: 6)
        }
        #expect(throws: CorpusError.tooShort(name: url.path, split: .whole, have: 7, need: 8)) {
            try Corpus.probeBatch(path: url.path, vocabulary: vocabulary, tokenization: .char, batch: 2, steps: 3)
        }
    }

    @Test func piecesForAVocabularyMadeElsewhere() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-pieces-\(UUID().uuidString).txt")
        try "hello world\nbye\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try Corpus.pieces(path: url.path, tokenization: .word, endOfLine: true, limit: 10)
                == ["hello", "world", "<eos>", "bye", "<eos>"])
        #expect(try Corpus.pieces(path: url.path, tokenization: .char, endOfLine: false, limit: 3) == ["h", "e", "l"])
    }

    @Test func utf8ValidationMatchesFoundation() {
        // Overlong forms, surrogates, beyond U+10FFFF, truncated sequences: rejected at the lead byte.
        let cases: [([UInt8], Int?)] = [
            (Array("ok é 😀".utf8), nil), ([0x61, 0xC0, 0x80], 1), ([0xED, 0xA0, 0x80], 0), ([0xF4, 0x90, 0x80, 0x80], 0),
            ([0x61, 0x62, 0xE2, 0x82], 2), ([0xE0, 0x80, 0x80], 0), (Array("abcdefghij".utf8) + [0xFF], 10),
        ]
        for (bytes, bad) in cases {
            let result = bytes.withUnsafeBufferPointer { validateUTF8($0) }
            #expect(result.badOffset == bad, "\(bytes)")
            #expect((String(validating: bytes, as: UTF8.self) == nil) == (bad != nil))
        }
    }

    @Test func checksumIsSHA256() {
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func loadSplitsTheLastTenPercentForValidation() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-split-\(getpid()).txt")
        try String(repeating: "abcdefghij", count: 10).write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let corpus = try Corpus.load(path: url.path, tokenization: .char, vocabSizeLimit: nil, validFraction: 0.1)
        #expect(corpus.train.count == 90)
        #expect(corpus.valid.count == 10)
        #expect(corpus.sha256.count == 64)
    }
}

@Suite struct CorpusErrorTests {
    func write(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-bad-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return url
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: CorpusError.missing(path: "/nonexistent/x.txt")) {
            try Corpus.load(path: "/nonexistent/x.txt", tokenization: .char, vocabSizeLimit: nil, validFraction: 0.1)
        }
    }

    @Test func emptyFileIsRejected() throws {
        let url = try write(Array("  \n ".utf8))
        #expect(throws: CorpusError.empty(path: url.path)) {
            try Corpus.load(path: url.path, tokenization: .char, vocabSizeLimit: nil, validFraction: 0.1)
        }
    }

    @Test func invalidUTF8ReportsTheOffset() throws {
        let url = try write(Array("hello".utf8) + [0xFF, 0x41])
        #expect(throws: CorpusError.notUTF8(path: url.path, byteOffset: 5)) {
            try Corpus.load(path: url.path, tokenization: .char, vocabSizeLimit: nil, validFraction: 0.1)
        }
    }

    @Test func tooShortSaysHowManyTokensAreNeeded() throws {
        let split = try Corpus.make(text: String(repeating: "ab", count: 50), tokenization: .char)
        let model = ModelConfig(cell: .rnn, vocabularySize: 2, embed: 2, hidden: 2)
        var options = TrainingOptions(model: model, initialization: Initialization())
        options.batch = 4
        options.bptt = 30
        #expect(throws: CorpusError.tooShort(name: "", split: .training, have: 90, need: 124)) {
            try Trainer(options: options, corpus: split)
        }
        #expect(CorpusError.tooShort(name: "x", split: .training, have: 90, need: 124).description.contains("124"))
    }
}

@Suite struct BatchingTests {
    @Test func streamsAreContiguousAndWindowsCarryOn() throws {
        let tokens = (0..<40).map { Int32($0) }
        let batcher = try #require(Batcher(tokens: TokenStore(tokens), mask: nil, batch: 2, steps: 3))
        #expect(batcher.streamLength == 20)
        #expect(batcher.windowCount == 6)  // (20 - 1) / 3
        let first = batcher.window(0), second = batcher.window(1)
        // Stream 0 is tokens 0..<20, stream 1 tokens 20..<40; time-major rows.
        #expect(first.input(direction: 0, t: 0, b: 0) == 0)
        #expect(first.input(direction: 0, t: 0, b: 1) == 20)
        #expect(first.target(direction: 0, t: 2, b: 1) == 23)
        // The next window starts where the previous one's inputs ended.
        #expect(second.input(direction: 0, t: 0, b: 0) == 3)
        // The backward direction reads the window reversed and predicts the previous token.
        #expect(first.input(direction: 1, t: 0, b: 0) == 3)
        #expect(first.target(direction: 1, t: 0, b: 0) == 2)
        #expect(first.target(direction: 1, t: 2, b: 0) == 0)
    }

    @Test func tooFewTokensGiveNoBatcher() {
        let tokens = [Int32](repeating: 0, count: 7)
        #expect(Batcher(tokens: TokenStore(tokens), mask: nil, batch: 2, steps: 3) == nil)
        #expect(Batcher(tokens: TokenStore(tokens + [0]), mask: nil, batch: 2, steps: 3) != nil)
    }
}

@Suite struct SyntheticCorpusTests {
    @Test func answersRepeatTheSymbolLagStepsBeforeTheMarker() throws {
        let corpus = try SyntheticCorpus.make(lag: 5, tokens: 700, validFraction: 0.1, seed: 3)
        let mask = try #require(corpus.trainRecall) + (try #require(corpus.validRecall))
        let tokens = Array(corpus.train) + Array(corpus.valid)
        let marker = Int32(corpus.vocabulary.firstIndex(of: "#")!)
        var answers = 0
        for i in tokens.indices where mask[i] {
            #expect(tokens[i - 1] == marker)
            #expect(tokens[i] == tokens[i - 1 - 5])
            answers += 1
        }
        #expect(answers == 700 / 7)
        #expect(corpus.vocabularySize == 17)
    }

    @Test func sameSeedSameCorpusOtherSeedOther() throws {
        let a = try SyntheticCorpus.make(lag: 4, tokens: 300, validFraction: 0.1, seed: 1)
        let b = try SyntheticCorpus.make(lag: 4, tokens: 300, validFraction: 0.1, seed: 1)
        let c = try SyntheticCorpus.make(lag: 4, tokens: 300, validFraction: 0.1, seed: 2)
        #expect(a.train == b.train && a.valid == b.valid && a.sha256 == b.sha256)
        #expect(a.train != c.train)
    }
}
