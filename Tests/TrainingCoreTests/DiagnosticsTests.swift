import Foundation
import DiagnoseRecord
import Testing
@testable import TrainingCore

@Suite struct StepJacobianTests {
    /// J(0) = d s(0) / d s(-1) against central differences on the initial state, for every cell.
    @Test(arguments: [CellKind.rnn, .lstm, .gru])
    func stepJacobianMatchesFiniteDifferences(cell: CellKind) {
        let config = ModelConfig(cell: cell, vocabularySize: 5, embed: 3, hidden: 4)
        let model = LanguageModel(config: config)
        model.initialize(Initialization(seed: 3))
        let B = 2, H = 4, T = 2
        var generator = SeededGenerator(seed: 9)
        let data = Batch(batch: B, steps: T, window: (0..<((T + 1) * B)).map { _ in Int32(generator.nextInt(below: 5)) }, recall: nil)
        let h0 = (0..<(B * H)).map { _ in Float(generator.nextUnit() - 0.5) }
        let c0 = (0..<(B * H)).map { _ in Float(generator.nextUnit() - 0.5) }
        let workspace = Workspace(model: model)
        func state(_ dh: [Float], _ dc: [Float]) -> RecurrentState {
            RecurrentState(h: [FloatBuffer(zip(h0, dh).map(+))], c: cell == .lstm ? [FloatBuffer(zip(c0, dc).map(+))] : nil)
        }
        let zero = [Float](repeating: 0, count: B * H)
        model.forward(data, state: state(zero, zero), workspace: workspace)
        let layer = model.stacks[0][0]
        let analytic = model.stepJacobian(layer: layer, cache: workspace.caches[0][0], t: 0, stream: 0)
        let n = layer.stateSize
        let epsilon: Float = 1e-2
        var worst = 0.0
        for k in 0..<n {
            var outputs: [[Double]] = []
            for sign in [Float(1), -1] {
                var dh = zero, dc = zero
                if k < H { dh[k] = sign * epsilon } else { dc[k - H] = sign * epsilon }
                model.forward(data, state: state(dh, dc), workspace: workspace)
                let cache = workspace.caches[0][0]
                var s = (0..<H).map { Double(cache.hRow(0, hidden: H)[$0]) }
                if cell == .lstm { s += (0..<H).map { Double(cache.cRow(0, hidden: H)[$0]) } }
                outputs.append(s)
            }
            for i in 0..<n {
                let numeric = (outputs[0][i] - outputs[1][i]) / (2 * Double(epsilon))
                worst = max(worst, abs(numeric - analytic[i, k]))
            }
        }
        #expect(worst < 1e-3, "\(cell): worst |J - J_fd| = \(worst)")
    }
}

@Suite struct LagProfileTests {
    @Test func geometricDecayIsRecovered() {
        let T = 20
        let g = (0..<T).map { t in (0...t).map { j in 2 * pow(0.5, Double(t - j)) } }
        let profile = LagProfile(gradientFlow: g)
        #expect(abs(profile.values[3] - 2 * 0.125) < 1e-12)
        #expect(abs(profile.decayPerStep! - 0.5) < 1e-9)
        // 0.5^10 = 9.8e-4 is the first ratio below 1e-3.
        #expect(profile.horizon == 10)
    }

    @Test func flatProfileHasNoHorizon() {
        let g = (0..<8).map { t in [Double](repeating: 1, count: t + 1) }
        let profile = LagProfile(gradientFlow: g)
        #expect(profile.horizon == nil)
        #expect(abs(profile.decayPerStep! - 1) < 1e-12)
    }

    @Test func nonFiniteValuesDoNotCrash() {
        let g: [[Double]] = [[.nan], [.infinity, .nan], [0, 0, 0]]
        let profile = LagProfile(gradientFlow: g)
        #expect(profile.values.count == 3)
        #expect(profile.horizon == nil)
    }
}

@Suite struct LinearRNNTheoryTests {
    /// The lecture's sigma(x) = x case: dh(t)/dh(j) = W_h^l, so with W_h rescaled to spectral radius
    /// 0.5 the lag profile must fall roughly like 0.5^l.
    @Test func linearRNNDecaysWithTheSpectralRadius() {
        let config = ModelConfig(cell: .rnn, activation: .linear, vocabularySize: 8, embed: 8, hidden: 32)
        let model = LanguageModel(config: config)
        model.initialize(Initialization(inputWeights: .orthogonal, spectralRadius: 0.5, seed: 1))
        let spectrum = model.spectrum(of: model.stacks[0][0])
        #expect(abs(spectrum.whole.spectralRadius - 0.5) < 1e-4)
        #expect(spectrum.vanishingGuaranteed == true)
        var generator = SeededGenerator(seed: 2)
        let B = 8, T = 24
        let data = Batch(batch: B, steps: T, window: (0..<((T + 1) * B)).map { _ in Int32(generator.nextInt(below: 8)) }, recall: nil)
        let workspace = Workspace(model: model)
        let record = model.probe(data, step: 0, keepActivations: false, workspace: workspace)
        let decay = record.layers[0].decayPerStep!
        #expect(decay > 0.4 && decay < 0.6, "decay per step \(decay)")
        #expect(record.layers[0].horizon != nil)
    }

    @Test func spectralRadiusAboveOneGrows() {
        let config = ModelConfig(cell: .rnn, activation: .linear, vocabularySize: 8, embed: 8, hidden: 32)
        let model = LanguageModel(config: config)
        model.initialize(Initialization(spectralRadius: 1.5, seed: 1))
        var generator = SeededGenerator(seed: 2)
        let B = 4, T = 16
        let data = Batch(batch: B, steps: T, window: (0..<((T + 1) * B)).map { _ in Int32(generator.nextInt(below: 8)) }, recall: nil)
        let record = model.probe(data, step: 0, keepActivations: true, workspace: Workspace(model: model))
        #expect(record.layers[0].decayPerStep! > 1.2)
        #expect(record.layers[0].horizon == nil)
        #expect(record.layers[0].gates[0].activations?.count == T)
    }
}
