import DiagnoseRecord
import Foundation
import Testing
@testable import TrainingCore

@Suite struct TrainingTests {
    static func options(_ cell: CellKind, steps: Int = 60, lr: Double = 1e-2) -> TrainingOptions {
        var options = TrainingOptions(model: ModelConfig(cell: cell, vocabularySize: 0, embed: 8, hidden: 16),
                                      initialization: Initialization())
        options.steps = steps
        options.batch = 4
        options.bptt = 12
        options.learningRate = lr
        options.probeEvery = 30
        options.evalEvery = 30
        return options
    }

    static let split = try! Corpus.make(text: String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 60),
                                        tokenization: .char, validFraction: 0.1)

    @Test(arguments: [CellKind.rnn, .lstm, .gru])
    func lossGoesDownOnASmallCorpus(cell: CellKind) throws {
        let record = try Trainer(options: Self.options(cell, steps: 150), corpus: Self.split)
            .run(name: "t", command: [], toolVersion: "test")
        let first = record.steps.prefix(10).map(\.loss).reduce(0, +) / 10
        let last = record.steps.suffix(10).map(\.loss).reduce(0, +) / 10
        #expect(last < 0.6 * first, "\(cell): loss \(first) -> \(last)")
        #expect(record.evaluations.last!.validLoss < record.evaluations.first!.validLoss)
        #expect(record.probes.map(\.step) == [0, 30, 60, 90, 120, 150])
        #expect(record.summary.stepsCompleted == 150)
    }

    @Test func sameSeedSameRecord() throws {
        func run() throws -> RunRecord {
            var record = try Trainer(options: Self.options(.lstm), corpus: Self.split).run(name: "t", command: [], toolVersion: "test")
            record.summary.seconds = nil
            record.summary.tokensPerSecond = nil
            return record
        }
        let a = try run(), b = try run()
        #expect(a == b)
        #expect(try RecordCoding.encode(a) == RecordCoding.encode(b))
        var other = Self.options(.lstm)
        other.seed = 1
        let c = try Trainer(options: other, corpus: Self.split).run(name: "t", command: [], toolVersion: "test")
        #expect(c.steps.first!.loss != a.steps.first!.loss)
    }

    @Test func divergenceStopsTrainingAndIsRecorded() throws {
        // A linear RNN with a huge spectral radius and no clipping overflows within a few steps.
        var options = Self.options(.rnn, steps: 200, lr: 10)
        options.model.activation = .linear
        options.initialization.spectralRadius = 8
        options.clip = 0
        options.optimizer = .sgd
        let record = try Trainer(options: options, corpus: Self.split).run(name: "t", command: [], toolVersion: "test")
        let step = try #require(record.status.divergedAtStep)
        #expect(step < 200)
        #expect(record.steps.count == step)
        #expect(!record.steps.last!.loss.isFinite || !record.steps.last!.gradientNorm.isFinite)
        // The record still encodes to valid JSON (non-finite numbers as strings) and reads back.
        let data = try RecordCoding.encode(record)
        #expect(try JSONSerialization.jsonObject(with: data) is [String: Any])
        let back = try RecordCoding.decoder().decode(RunRecord.self, from: data)
        #expect(back.status.divergedAtStep == step)
        #expect(back.probes.count == record.probes.count)
    }

    @Test func clippingCapsTheNormAndIsRecorded() throws {
        var options = Self.options(.rnn, steps: 20)
        options.clip = 1e-3
        let record = try Trainer(options: options, corpus: Self.split).run(name: "t", command: [], toolVersion: "test")
        #expect(record.steps.allSatisfy { $0.clipped })
        #expect(record.steps.allSatisfy { abs($0.clippedGradientNorm - 1e-3) < 1e-12 && $0.gradientNorm > 1e-3 })
        #expect(record.summary.clippedFraction == 1)
    }

    @Test func stopRequestEndsAfterTheCurrentStep() throws {
        var calls = 0
        let record = try Trainer(options: Self.options(.gru), corpus: Self.split)
            .run(name: "t", command: [], toolVersion: "test", shouldStop: { calls += 1; return calls >= 5 })
        #expect(record.status.interrupted)
        #expect(record.steps.count == 5)
        #expect(record.probes.last!.step == 5)
    }

    @Test func aStopRightAfterAProbeRecordsThatStepOnce() throws {
        var options = Self.options(.rnn, steps: 50)
        options.probeEvery = 5
        var calls = 0
        let record = try Trainer(options: options, corpus: Self.split)
            .run(name: "t", command: [], toolVersion: "test", shouldStop: { calls += 1; return calls >= 5 })
        #expect(record.probes.map(\.step) == [0, 5])
        // The last probe is the final one, with activations.
        #expect(record.probes.last!.layers[0].gates[0].activations != nil)
    }

    @Test func weightsMustMatchInShapeAndHoldNothingElse() throws {
        let trainer = try Trainer(options: Self.options(.rnn, steps: 1), corpus: Self.split)
        let tensors = Dictionary(uniqueKeysWithValues: trainer.modelTensors().map { ($0.name, $0) })
        let hh = tensors["rnn.weight_hh_l0"]!, ih = tensors["rnn.weight_ih_l0"]!
        var transposed = tensors
        transposed[ih.name] = SafetensorsTensor(name: ih.name, shape: [ih.shape[1], ih.shape[0]], values: ih.values)
        var flat = tensors
        flat[hh.name] = SafetensorsTensor(name: hh.name, shape: [hh.values.count], values: hh.values)
        var extra = tensors
        extra["rnn.weight_hh_l0_reverse"] = SafetensorsTensor(name: "rnn.weight_hh_l0_reverse", shape: hh.shape, values: hh.values)
        for (candidate, name) in [(transposed, ih.name), (flat, hh.name), (extra, "rnn.weight_hh_l0_reverse")] {
            #expect { try trainer.load(tensors: candidate, file: "w") } throws: { error in
                (error as? InputFileError)?.tensor == name
            }
        }
        try trainer.load(tensors: extra, file: "w", ignoreExtra: true)
    }

    @Test func savedWeightsReloadIntoTheSameModel() throws {
        let trainer = try Trainer(options: Self.options(.lstm, steps: 5), corpus: Self.split)
        _ = trainer.run(name: "t", command: [], toolVersion: "test")
        let data = try Safetensors.encode(tensors: trainer.modelTensors(), metadata: [:])
        let loaded = try Safetensors.parse(data, source: "memory")
        let fresh = try Trainer(options: Self.options(.lstm, steps: 5), corpus: Self.split)
        try fresh.load(tensors: loaded.tensors, file: "memory")
        #expect(fresh.model.parameters.array == trainer.model.parameters.array)
        #expect(loaded.tensors["rnn.weight_hh_l0"]?.shape == [64, 16])
        #expect(loaded.tensors["decoder.weight"]?.shape == [trainer.corpus.vocabularySize, 16])
    }
}
