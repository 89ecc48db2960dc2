import DiagnoseRecord
import Foundation
import Testing
@testable import TrainingCore

/// The record says what each module would otherwise re-derive, and records written before those
/// fields still load with the same meaning.
@Suite struct RecordVocabularyTests {
    static func syntheticRun(steps: Int = 4) throws -> (Trainer, RunRecord) {
        var options = TrainingTests.options(.lstm, steps: steps)
        options.probeEvery = 2
        options.evalEvery = 2
        let corpus = try SyntheticCorpus.make(lag: 6, symbols: 12, tokens: 4_000, validFraction: 0.2, seed: 3)
        let trainer = try Trainer(options: options, corpus: corpus)
        return (trainer, trainer.run(name: "t", command: ["--cell", "lstm"], toolVersion: "test"))
    }

    @Test func theSyntheticCorpusWritesItsRecallTask() throws {
        let (_, record) = try Self.syntheticRun()
        let recall = try #require(record.corpus.recall)
        #expect(recall.lag == 6 && recall.letters == 12)
        #expect(abs(recall.chanceAccuracy - 1.0 / 12.0) < 1e-15)
        // 6 of every 8 tokens are uniform over 12 letters; the marker and the answer are certain.
        #expect(abs(recall.lossFloor - 6.0 / 8.0 * log(12.0)) < 1e-12)
        #expect(record.config.lag == 6)
        #expect(record.config.tokenize == .char && record.config.vocabSizeLimit == nil)
        #expect(record.config.validFraction == 0.2)
        #expect(record.origin == .trained)
    }

    @Test func aTextCorpusHasNoRecallTaskAndKeepsItsTokenisation() throws {
        let text = String(repeating: "one two three two one four ", count: 80)
        let corpus = try Corpus.make(text: text, tokenization: .word, vocabSizeLimit: 3, validFraction: 0.25)
        let record = try Trainer(options: TrainingTests.options(.rnn, steps: 2), corpus: corpus)
            .run(name: "t", command: [], toolVersion: "test")
        #expect(record.corpus.recall == nil && record.config.lag == nil)
        #expect(record.config.tokenize == .word && record.config.vocabSizeLimit == 3)
        #expect(record.config.validFraction == 0.25)
    }

    @Test func loadingWeightsMakesTheRunContinued() throws {
        let (first, _) = try Self.syntheticRun(steps: 2)
        let (second, _) = try Self.syntheticRun(steps: 2)
        let tensors = Dictionary(uniqueKeysWithValues: first.modelTensors().map { ($0.name, $0) })
        try second.load(tensors: tensors, file: "out/lstm/model.safetensors")
        let record = second.run(name: "t", command: [], toolVersion: "test")
        #expect(record.origin == .continued(weights: "out/lstm/model.safetensors"))
        #expect(record.origin.weightsFile == "out/lstm/model.safetensors")
    }

    /// A record as diagnose wrote it before `origin`, `corpus.recall` and the optional words.
    static func legacyJSON(_ record: RunRecord, command: [String], config: [String: String]) throws -> Data {
        var object = try #require(try JSONSerialization.jsonObject(with: RecordCoding.encode(record)) as? [String: Any])
        object["origin"] = nil
        object["command"] = command
        var corpus = try #require(object["corpus"] as? [String: Any])
        corpus["recall"] = nil
        object["corpus"] = corpus
        var settings = try #require(object["config"] as? [String: Any])
        for (key, value) in config { settings[key] = value }
        object["config"] = settings
        return try JSONSerialization.data(withJSONObject: object)
    }

    @Test func recordsWrittenBeforeTheseFieldsStillLoad() throws {
        let (_, record) = try Self.syntheticRun(steps: 2)
        let decoder = RecordCoding.decoder()

        let trained = try decoder.decode(RunRecord.self, from: Self.legacyJSON(record, command: ["--cell", "lstm"], config: [:]))
        #expect(trained.origin == .trained)
        #expect(trained.corpus.recall == record.corpus.recall, "derived from config.lag and the vocabulary")

        let continued = try decoder.decode(RunRecord.self, from: Self.legacyJSON(
            record, command: ["--cell", "lstm", "--weights=old/model.safetensors"], config: [:]))
        #expect(continued.origin == .continued(weights: "old/model.safetensors"))

        let imported = try decoder.decode(RunRecord.self, from: Self.legacyJSON(
            record, command: ["probe", "--weights", "m.safetensors", "--tokens", "b.json"],
            config: ["optimizer": "none", "initialization": "imported", "tokenize": "ids"]))
        #expect(imported.origin == .imported(weights: "m.safetensors"))
        #expect(imported.config.optimizer == nil && imported.config.initialization == nil && imported.config.tokenize == nil)
    }

    @Test func anUnknownWordIsAnErrorNotAGuess() throws {
        let (_, record) = try Self.syntheticRun(steps: 2)
        for (key, value) in [("cell", "transformer"), ("optimizer", "rmsprop"), ("tokenize", "bytes")] {
            let data = try Self.legacyJSON(record, command: [], config: [key: value])
            #expect(throws: DecodingError.self, "\(key) \(value)") { try RecordCoding.decoder().decode(RunRecord.self, from: data) }
        }
    }

    @Test func theTopForwardLayerIsTheHighestForwardOne() throws {
        var options = TrainingTests.options(.gru, steps: 1)
        options.model.layers = 2
        options.model.bidirectional = true
        let record = try Trainer(options: options, corpus: TrainingTests.split).run(name: "t", command: [], toolVersion: "test")
        let probe = try #require(record.probes.last)
        #expect(probe.layers.map(\.direction) == [.forward, .forward, .backward, .backward])
        #expect(probe.layers.map(\.layer) == [0, 1, 0, 1])
        let top = try #require(probe.topForward)
        #expect(top.layer == 1 && top.direction == .forward)
        #expect(record.summary.decayPerStep == top.decayPerStep)
        #expect(record.summary.spectralRadiusLast == top.spectrum.whole.spectralRadius)
    }

    /// Every optional config field survives the trip through JSON.
    @Test func optionalConfigFieldsRoundTrip() throws {
        let (_, record) = try Self.syntheticRun(steps: 1)
        var config = record.config
        config.connections = .dense
        config.endOfLine = true
        config.dropout = 0.25
        config.epochs = 3
        config.learningRateDecay = 0.5
        let decoded = try JSONDecoder().decode(RunConfig.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
    }
}
