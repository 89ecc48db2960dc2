import DiagnoseRecord
import Foundation

/// One optimiser step of truncated BPTT: forward from the carried state, backward, global-norm
/// clipping, update, and the state carried (detached) into the next window. Shared by the trainer
/// and the benchmark, so the benchmark times exactly what training does.
public final class StepRunner {
    public let model: LanguageModel
    public let clip: Double
    let workspace: Workspace
    let gradients: FloatBuffer
    var optimizer: OptimizerState
    var state: RecurrentState?

    public struct Outcome {
        public var loss: Double
        public var gradientNorm: Double
        public var clipped: Bool
        public var finite: Bool { loss.isFinite && gradientNorm.isFinite }
    }

    public init(model: LanguageModel, optimizer: Optimizer, learningRate: Double, clip: Double) {
        self.model = model
        self.clip = clip
        workspace = Workspace(model: model)
        gradients = FloatBuffer(count: model.parameterCount)
        self.optimizer = OptimizerState(kind: optimizer, learningRate: learningRate)
    }

    /// Runs one step. A non-finite loss or gradient leaves the parameters untouched.
    public func step(_ batch: Batch) -> Outcome {
        let losses = model.forward(batch, state: state, workspace: workspace)
        let loss = losses.reduce(0, +) / Double(losses.count)
        gradients.zero()
        model.backward(batch, workspace: workspace, gradients: gradients)
        let gradientNorm = globalNorm(gradients)
        var outcome = Outcome(loss: loss, gradientNorm: gradientNorm, clipped: false)
        guard outcome.finite else { return outcome }
        if clip > 0 && gradientNorm > clip {
            outcome.clipped = true
            let scale = Float(clip / gradientNorm)
            let g = gradients.pointer
            parallelRanges(gradients.count, threads: Parallelism.threads, grain: 1 << 16) { range in
                for i in range { g[i] *= scale }
            }
        }
        optimizer.step(parameters: model.parameters, gradients: gradients)
        state = model.finalState(workspace)
        return outcome
    }
}
