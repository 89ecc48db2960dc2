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
        // Sanity of the check itself: perturbing the analytic side must fail the tolerance.
        let config = ModelConfig(cell: .lstm, vocabularySize: 5, embed: 3, hidden: 3)
        let good = GradientCheck.run(config: config)
        let bad = GradientCheck.run(config: config, epsilon: 0.5)  // a coarse step mis-estimates curvature
        #expect(good.map(\.relativeError).max()! < bad.map(\.relativeError).max()!)
    }
}
