import DiagnoseRecord
import Foundation
import Testing
@testable import TrainingCore

@Suite struct TokenizationTests {
    @Test func charactersBecomeSortedVocabulary() {
        let corpus = Corpus.tokenize(text: "abca é", tokenization: .char, vocabSizeLimit: nil)
        #expect(corpus.vocabulary == [" ", "a", "b", "c", "é"])
        #expect(corpus.tokens == [1, 2, 3, 1, 0, 4])
    }

    @Test func wordsAreCappedWithUnknown() {
        let corpus = Corpus.tokenize(text: "the cat the dog the cat a", tokenization: .word, vocabSizeLimit: 3)
        // Two most frequent words kept (the: 3, cat: 2), the rest is <unk>.
        #expect(corpus.vocabulary == ["cat", "the", "<unk>"])
        #expect(corpus.tokens == [1, 0, 1, 2, 1, 0, 2])
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
        #expect(corpus.trainCount == 90)
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
        let corpus = Corpus.tokenize(text: String(repeating: "ab", count: 50), tokenization: .char, vocabSizeLimit: nil)
        var split = corpus
        split.trainCount = 90
        let model = ModelConfig(cell: .rnn, vocabularySize: 2, embed: 2, hidden: 2)
        var options = TrainingOptions(model: model, initialization: Initialization())
        options.batch = 4
        options.bptt = 30
        #expect(throws: CorpusError.tooShort(name: "", split: "training", have: 90, need: 124)) {
            try Trainer(options: options, corpus: split)
        }
        #expect(CorpusError.tooShort(name: "x", split: "training", have: 90, need: 124).description.contains("124"))
    }
}

@Suite struct BatchingTests {
    @Test func streamsAreContiguousAndWindowsCarryOn() throws {
        let tokens = (0..<40).map { Int32($0) }
        let batcher = try #require(Batcher(tokens: tokens[...], mask: nil, batch: 2, steps: 3))
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
        #expect(Batcher(tokens: tokens[...], mask: nil, batch: 2, steps: 3) == nil)
        #expect(Batcher(tokens: (tokens + [0])[...], mask: nil, batch: 2, steps: 3) != nil)
    }
}

@Suite struct SyntheticCorpusTests {
    @Test func answersRepeatTheSymbolLagStepsBeforeTheMarker() throws {
        let corpus = try SyntheticCorpus.make(lag: 5, tokens: 700, validFraction: 0.1, seed: 3)
        let mask = try #require(corpus.recallMask)
        let marker = Int32(corpus.vocabulary.firstIndex(of: "#")!)
        var answers = 0
        for i in corpus.tokens.indices where mask[i] {
            #expect(corpus.tokens[i - 1] == marker)
            #expect(corpus.tokens[i] == corpus.tokens[i - 1 - 5])
            answers += 1
        }
        #expect(answers == 700 / 7)
        #expect(corpus.vocabularySize == 17)
    }

    @Test func sameSeedSameCorpusOtherSeedOther() throws {
        let a = try SyntheticCorpus.make(lag: 4, tokens: 300, validFraction: 0.1, seed: 1)
        let b = try SyntheticCorpus.make(lag: 4, tokens: 300, validFraction: 0.1, seed: 1)
        let c = try SyntheticCorpus.make(lag: 4, tokens: 300, validFraction: 0.1, seed: 2)
        #expect(a.tokens == b.tokens && a.sha256 == b.sha256)
        #expect(a.tokens != c.tokens)
    }
}
