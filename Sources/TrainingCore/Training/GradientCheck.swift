import Foundation

/// Compares the analytic BPTT gradient with central finite differences, tensor by tensor.
public struct GradientCheckResult: Sendable {
    /// PyTorch name of the tensor.
    public var name: String
    /// max_i |analytic_i - numeric_i|
    public var maxAbsoluteDifference: Double
    /// maxAbsoluteDifference / max(max_i |numeric_i|, 1e-3): scale-aware, robust to tiny entries.
    public var relativeError: Double
    public var analyticNorm: Double
}

public enum GradientCheck {
    /// The default tolerance on `relativeError` (float32 central differences, epsilon 1e-2).
    public static let tolerance = 1e-2

    /// Checks every parameter of a small model of `config`'s kind on random tokens, from a random
    /// non-zero initial state (so the carried-state path is exercised), through every step and layer.
    /// With `dropout` > 0, one dropout mask is drawn and held fixed, so the function differentiated
    /// is the masked network a training step computes.
    public static func run(config: ModelConfig, batch: Int = 2, steps: Int = 5, seed: UInt64 = 7,
                           epsilon: Float = 1e-2, dropout: Double = 0) -> [GradientCheckResult] {
        run(config: config, batch: batch, steps: steps, seed: seed, epsilon: epsilon, dropout: dropout, corrupting: nil)
    }

    /// The same, with `corrupting` (tensor name, index within it, amount) added to one entry of the
    /// analytic gradient first: the tests' proof that the check can fail.
    static func run(config: ModelConfig, batch: Int = 2, steps: Int = 5, seed: UInt64 = 7, epsilon: Float = 1e-2,
                    dropout: Double = 0, corrupting: (tensor: String, index: Int, amount: Float)?) -> [GradientCheckResult] {
        let model = LanguageModel(config: config)
        model.initialize(Initialization(seed: seed))
        var generator = SeededGenerator(seed: seed).derived(0xC4EC)
        let data = Batch.random(vocabulary: config.vocabularySize, batch: batch, steps: steps, &generator)
        let h = (0..<config.layers).map { _ in FloatBuffer((0..<(batch * config.hidden)).map { _ in Float(generator.nextUnit() - 0.5) }) }
        let c: [FloatBuffer]? = config.cell == .lstm
            ? (0..<config.layers).map { _ in FloatBuffer((0..<(batch * config.hidden)).map { _ in Float(generator.nextUnit() - 0.5) }) }
            : nil
        let state = RecurrentState(h: h, c: c)
        let workspace = Workspace(model: model)
        if dropout > 0 {
            workspace.dropout = DropoutMasks(model: model, batch: batch, steps: steps, probability: dropout)
            workspace.dropout!.resample(&generator)
        }
        func loss() -> Double {
            let losses = model.forward(data, state: state, workspace: workspace)
            return losses.reduce(0, +) / Double(losses.count)
        }
        _ = loss()
        let gradients = FloatBuffer(count: model.parameterCount)
        model.backward(data, workspace: workspace, gradients: gradients)
        if let corrupting, let entry = model.layout.entries.first(where: { $0.name == corrupting.tensor }) {
            gradients[entry.offset + corrupting.index] += corrupting.amount
        }
        let p = model.parameters.pointer
        return model.layout.entries.map { entry in
            var maxDiff = 0.0, maxNumeric = 0.0, norm = 0.0
            for i in entry.range {
                let saved = p[i]
                p[i] = saved + epsilon
                let plus = loss()
                p[i] = saved - epsilon
                let minus = loss()
                p[i] = saved
                let numeric = (plus - minus) / (2 * Double(epsilon))
                let analytic = Double(gradients[i])
                maxDiff = max(maxDiff, abs(numeric - analytic))
                maxNumeric = max(maxNumeric, abs(numeric))
                norm += analytic * analytic
            }
            return GradientCheckResult(name: entry.name, maxAbsoluteDifference: maxDiff,
                                       relativeError: maxDiff / max(maxNumeric, 1e-3), analyticNorm: norm.squareRoot())
        }
    }
}

extension Batch {
    /// A window of uniformly random tokens: what gradient checks and tests train on.
    static func random(vocabulary: Int, batch: Int, steps: Int, _ generator: inout SeededGenerator) -> Batch {
        let window = (0..<((steps + 1) * batch)).map { _ in Int32(generator.nextInt(below: vocabulary)) }
        return Batch(batch: batch, steps: steps, window: window, recall: nil)
    }
}
