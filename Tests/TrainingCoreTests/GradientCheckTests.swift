import DiagnoseRecord
import Testing
@testable import TrainingCore

@Suite struct GradientCheckTests {
    static let cases: [ModelConfig] = [
        ModelConfig(cell: .rnn, activation: .tanh, vocabularySize: 7, embed: 4, hidden: 5),
        ModelConfig(cell: .rnn, activation: .relu, vocabularySize: 7, embed: 4, hidden: 5),
        ModelConfig(cell: .rnn, activation: .linear, vocabularySize: 7, embed: 4, hidden: 5),
        ModelConfig(cell: .lstm, vocabularySize: 7, embed: 4, hidden: 5),
        ModelConfig(cell: .gru, vocabularySize: 7, embed: 4, hidden: 5),
        ModelConfig(cell: .rnn, layers: 2, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .lstm, layers: 2, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .gru, layers: 2, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .rnn, bidirectional: true, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .lstm, layers: 2, bidirectional: true, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .gru, bidirectional: true, vocabularySize: 6, embed: 3, hidden: 4),
        // More words than the B x T = 10 input rows: the first layer's input projection is not
        // folded into the embedding (above, it is).
        ModelConfig(cell: .lstm, vocabularySize: 12, embed: 4, hidden: 5),
        ModelConfig(cell: .rnn, bidirectional: true, vocabularySize: 12, embed: 3, hidden: 4),
    ] + skipCases

    /// Residual and dense stacks of every cell, three layers so that a skip crosses a whole layer;
    /// E != H so that a dense concatenation is sliced at the right columns.
    static let skipCases: [ModelConfig] = LayerConnections.allCases.filter { $0 != .plain }.flatMap { wiring in
        CellKind.allCases.map { cell in
            ModelConfig(cell: cell, layers: 3, bidirectional: cell == .lstm, vocabularySize: 6, embed: 3, hidden: 4,
                        connections: wiring)
        }
    }

    @Test(arguments: cases)
    func backwardMatchesFiniteDifferences(config: ModelConfig) {
        let results = GradientCheck.run(config: config)
        #expect(results.count == LanguageModel(config: config).layout.entries.count)
        for result in results {
            #expect(result.relativeError < GradientCheck.tolerance,
                    "\(config.cell) \(result.name): max diff \(result.maxAbsoluteDifference), relative \(result.relativeError)")
            // A gradient check of an all-zero gradient proves nothing.
            #expect(result.analyticNorm > 0, "\(result.name) has a zero gradient")
        }
    }

    @Test func aWrongGradientIsCaught() {
        // Sanity of the check itself: one wrong entry of the analytic gradient fails that tensor,
        // and only that tensor.
        let config = ModelConfig(cell: .lstm, vocabularySize: 5, embed: 3, hidden: 3)
        let good = GradientCheck.run(config: config)
        #expect(good.allSatisfy { $0.relativeError <= GradientCheck.tolerance })
        let bad = GradientCheck.run(config: config, corrupting: ("rnn.weight_hh_l0", 7, 0.05))
        for result in bad {
            if result.name == "rnn.weight_hh_l0" {
                #expect(result.relativeError > GradientCheck.tolerance, "the corrupted tensor must fail")
                #expect(abs(result.maxAbsoluteDifference - 0.05) < 0.01)
            } else {
                #expect(result.relativeError <= GradientCheck.tolerance, "\(result.name)")
            }
        }
    }

    /// The first layer's input projection folded into the embedding (V < B x T) is the same function
    /// as the projection of the gathered rows: the same loss bits, and gradients equal up to the
    /// rounding of another summation order. All-ones dropout masks (p = 0) force the unfolded path.
    @Test(arguments: [
        ModelConfig(cell: .rnn, layers: 2, vocabularySize: 7, embed: 6, hidden: 5),
        ModelConfig(cell: .lstm, bidirectional: true, vocabularySize: 7, embed: 6, hidden: 5),
    ])
    func foldedFirstLayerMatchesTheUnfoldedOne(config: ModelConfig) {
        let model = LanguageModel(config: config)
        model.initialize(Initialization(seed: 3))
        var generator = SeededGenerator(seed: 5)
        let batch = 4, steps = 6
        let data = Batch.random(vocabulary: config.vocabularySize, batch: batch, steps: steps, &generator)
        func pass(keepingEverything: Bool) -> (losses: [Double], gradients: [Float], folded: Bool) {
            let workspace = Workspace(model: model)
            if keepingEverything {
                let masks = DropoutMasks(model: model, batch: batch, steps: steps, probability: 0)
                masks.resample(&generator)
                workspace.dropout = masks
            }
            let losses = model.forward(data, state: nil, workspace: workspace)
            let gradients = FloatBuffer(count: model.parameterCount)
            model.backward(data, workspace: workspace, gradients: gradients)
            return (losses, gradients.array, workspace.caches.allSatisfy { $0[0].folded != nil })
        }
        let folded = pass(keepingEverything: false), unfolded = pass(keepingEverything: true)
        #expect(folded.folded && !unfolded.folded)
        #expect(folded.losses == unfolded.losses)
        for entry in model.layout.entries {
            let a = folded.gradients[entry.range], b = unfolded.gradients[entry.range]
            let scale = b.map { abs($0) }.max()!
            let difference = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(scale > 0, "\(entry.name) has a zero gradient")
            #expect(difference <= 1e-6 * scale, "\(config.cell) \(entry.name): max diff \(difference) of \(scale)")
        }
    }
}
