import DiagnoseRecord
import Foundation
import Testing
@testable import TrainingCore

/// Dropout, epochs and the learning-rate schedule.
@Suite struct DropoutTests {
    static let cases: [ModelConfig] = [
        ModelConfig(cell: .rnn, layers: 2, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .lstm, layers: 2, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .gru, layers: 2, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .lstm, bidirectional: true, vocabularySize: 6, embed: 3, hidden: 4),
    ]

    /// One mask held fixed: the gradient of the masked network, through every mask site.
    @Test(arguments: cases)
    func backwardMatchesFiniteDifferencesWithAFixedMask(config: ModelConfig) {
        for result in GradientCheck.run(config: config, dropout: 0.4) {
            #expect(result.relativeError < GradientCheck.tolerance,
                    "\(config.cell) \(result.name): max diff \(result.maxAbsoluteDifference), relative \(result.relativeError)")
            #expect(result.analyticNorm > 0, "\(result.name) has a zero gradient")
        }
    }

    @Test func masksDropAboutPAndRescaleTheRest() {
        let model = LanguageModel(config: ModelConfig(cell: .lstm, layers: 2, vocabularySize: 5, embed: 16, hidden: 32))
        let masks = DropoutMasks(model: model, batch: 8, steps: 20, probability: 0.3)
        var generator = SeededGenerator(seed: 1)
        masks.resample(&generator)
        let values = masks.masks[0].flatMap(\.array)
        #expect(values.count == 8 * 20 * (16 + 2 * 32))
        #expect(values.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
        let dropped = Double(values.filter { $0 == 0 }.count) / Double(values.count)
        #expect(abs(dropped - 0.3) < 0.03, "dropped \(dropped)")
        let first = values
        masks.resample(&generator)
        #expect(masks.masks[0].flatMap(\.array) != first)
    }

    /// The mask on the embedding output reaches the first layer even where its input projection
    /// could be folded into the embedding (V < B x T): a mask that drops every embedded entry and
    /// keeps everything else gives the losses of a zero embedding, and no embedding gradient.
    @Test(arguments: [CellKind.rnn, .lstm])
    func theEmbeddingMaskReachesAFoldableFirstLayer(cell: CellKind) {
        let config = ModelConfig(cell: cell, vocabularySize: 5, embed: 4, hidden: 6)
        let model = LanguageModel(config: config)
        model.initialize(Initialization(seed: 2))
        var generator = SeededGenerator(seed: 4)
        let batch = 3, steps = 4
        let data = Batch.random(vocabulary: config.vocabularySize, batch: batch, steps: steps, &generator)
        let plainLosses = model.forward(data, state: nil, workspace: Workspace(model: model))
        let masks = DropoutMasks(model: model, batch: batch, steps: steps, probability: 0)
        masks.resample(&generator)
        masks.masks[0][0].zero()
        let masked = Workspace(model: model)
        masked.dropout = masks
        let maskedLosses = model.forward(data, state: nil, workspace: masked)
        let gradients = FloatBuffer(count: model.parameterCount)
        model.backward(data, workspace: masked, gradients: gradients)
        let embedding = (0..<(config.vocabularySize * config.embed)).map { gradients[model.embedding + $0] }
        #expect(embedding.allSatisfy { $0 == 0 })
        (model.parameters.pointer + model.embedding).update(repeating: 0, count: config.vocabularySize * config.embed)
        #expect(maskedLosses == model.forward(data, state: nil, workspace: Workspace(model: model)))
        #expect(maskedLosses != plainLosses)
    }

    @Test func dropoutChangesTrainingButNeverEvaluation() throws {
        let corpus = try Corpus.make(text: String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40),
                                     tokenization: .char)
        var options = TrainingTests.options(.lstm, steps: 20)
        options.evalEvery = 10
        options.probeEvery = 10
        let plain = try Trainer(options: options, corpus: corpus).run(name: "t", command: [], toolVersion: "test")
        options.dropout = 0.5
        let dropped = try Trainer(options: options, corpus: corpus).run(name: "t", command: [], toolVersion: "test")
        // The first step runs the same weights through a mask: its loss differs.
        #expect(plain.steps[0].loss != dropped.steps[0].loss)
        // The step-0 probe sees the deterministic network: identical before any update.
        #expect(plain.probes[0] == dropped.probes[0])
        #expect(dropped.config.dropout == 0.5)
    }

    /// Same seed, same bits at one and two threads, masks included (sizes large enough that the
    /// mask multiplies are split over the threads).
    @Test func trainingWithDropoutGivesTheSameBitsForAnyThreadCount() {
        func train(threads: ComputeThreads) -> [Float] {
            let model = LanguageModel(config: ModelConfig(cell: .lstm, layers: 2, vocabularySize: 300, embed: 128, hidden: 128))
            model.initialize(Initialization(seed: 3))
            let runner = StepRunner(model: model, optimizer: .sgd, learningRate: 0.5, clip: 0.25, dropout: 0.5, seed: 9,
                                    threads: threads)
            var generator = SeededGenerator(seed: 4)
            for _ in 0..<2 {
                let window = (0..<(13 * 30)).map { _ in Int32(generator.nextInt(below: 300)) }
                _ = runner.step(Batch(batch: 30, steps: 12, window: window, recall: nil))
            }
            return model.parameters.array
        }
        expectSameBitsAtOneAndTwoThreads("lstm with dropout", train)
    }
}

@Suite struct ScheduleTests {
    static let corpus = try! Corpus.make(text: String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40),
                                         tokenization: .char)

    @Test func epochsAreWholePassesOverTheTrainingWindows() throws {
        var options = TrainingOptions(model: ModelConfig(cell: .rnn, vocabularySize: 0, embed: 4, hidden: 8),
                                      initialization: Initialization())
        options.batch = 4
        options.bptt = 10
        options.epochs = 3
        options.steps = 999
        let trainer = try Trainer(options: options, corpus: Self.corpus)
        // 1620 training tokens: 405 per stream, 40 windows of 10.
        #expect(Self.corpus.train.count == 1620)
        #expect(trainer.options.steps == 120)
        let record = trainer.run(name: "t", command: [], toolVersion: "test")
        #expect(record.steps.count == 120 && record.config.steps == 120 && record.config.epochs == 3)
    }

    /// With a learning rate too small to move float32 weights, the validation loss never improves
    /// after the first evaluation: the rate must fall by the factor after each later one.
    @Test func learningRateFallsAfterEveryEvaluationWithoutImprovement() throws {
        var options = TrainingTests.options(.rnn, steps: 40, lr: 1e-12)
        options.optimizer = .sgd
        options.evalEvery = 10
        options.learningRateDecay = 0.25
        let record = try Trainer(options: options, corpus: Self.corpus).run(name: "t", command: [], toolVersion: "test")
        let rates = record.steps.map(\.learningRate)
        #expect(rates[0] == 1e-12 && rates[19] == 1e-12)
        #expect(rates[20] == 1e-12 * 0.25 && rates[29] == rates[20])
        #expect(abs(rates[30] - 1e-12 * 0.0625) < 1e-24)
        #expect(record.config.learningRateDecay == 0.25)
    }

    @Test func learningRateStaysWhileValidationImproves() throws {
        var options = TrainingTests.options(.lstm, steps: 60)
        options.evalEvery = 20
        options.learningRateDecay = 0.5
        let record = try Trainer(options: options, corpus: Self.corpus).run(name: "t", command: [], toolVersion: "test")
        let losses = record.evaluations.map(\.validLoss)
        #expect(losses == losses.sorted(by: >), "validation should improve here: \(losses)")
        #expect(Set(record.steps.map(\.learningRate)) == [options.learningRate])
    }

    @Test func testSplitIsEvaluatedOnceWithTheFinalWeights() throws {
        let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40)
        let corpus = try Corpus.make(text: text, validText: String(text.prefix(400)), testText: String(text.suffix(300)) + "€",
                                     tokenization: .char)
        #expect(corpus.unknownTestTokens == 1 && corpus.vocabulary.last == "<unk>")
        let trainer = try Trainer(options: TrainingTests.options(.gru, steps: 30), corpus: corpus)
        let record = trainer.run(name: "t", command: [], toolVersion: "test")
        let test = try #require(record.summary.finalTestLoss)
        let tester = try #require(trainer.test)
        #expect(abs(test - trainer.meanLoss(over: tester).loss) < 1e-12)
        #expect(record.summary.finalTestPerplexity == Foundation.exp(test))
        #expect(record.corpus.testTokens == 301 && record.corpus.unknownTestTokens == 1)
    }
}
