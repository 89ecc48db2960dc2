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
    /// Dropout probability on the non-recurrent connections (0: none) and the masks' random stream.
    public let dropout: Double
    var dropoutGenerator: SeededGenerator

    /// The learning rate of the next steps (a schedule changes it between steps); kept in double
    /// precision so the record shows the rate as given, not its float32 rounding.
    public var learningRate: Double {
        didSet { optimizer.learningRate = Float(learningRate) }
    }

    public struct Outcome {
        public var loss: Double
        public var gradientNorm: Double
        public var clipped: Bool
        public var finite: Bool { loss.isFinite && gradientNorm.isFinite }
    }

    public init(model: LanguageModel, optimizer: Optimizer, learningRate: Double, clip: Double,
                dropout: Double = 0, seed: UInt64 = 0, threads: ComputeThreads = 1) {
        self.model = model
        self.clip = clip
        self.dropout = dropout
        self.learningRate = learningRate
        dropoutGenerator = SeededGenerator(seed: seed).derived(0xD809_0007)
        workspace = Workspace(model: model, threads: threads)
        gradients = FloatBuffer(count: model.parameterCount)
        self.optimizer = OptimizerState(kind: optimizer, learningRate: learningRate)
    }

    /// Runs one step. A non-finite loss or gradient leaves the parameters untouched.
    public func step(_ batch: Batch) -> Outcome {
        if dropout > 0 {
            if workspace.dropout?.batch != batch.batch || workspace.dropout?.steps != batch.steps {
                workspace.dropout = DropoutMasks(model: model, batch: batch.batch, steps: batch.steps, probability: dropout)
            }
            workspace.dropout!.resample(&dropoutGenerator)
        }
        let losses = model.forward(batch, state: state, workspace: workspace)
        let loss = losses.reduce(0, +) / Double(losses.count)
        gradients.zero()
        model.backward(batch, workspace: workspace, gradients: gradients)
        let gradientNorm = globalNorm(gradients, threads: workspace.threads)
        var outcome = Outcome(loss: loss, gradientNorm: gradientNorm, clipped: false)
        guard outcome.finite else { return outcome }
        if clip > 0 && gradientNorm > clip {
            outcome.clipped = true
            let scale = Float(clip / gradientNorm)
            let g = gradients.pointer
            parallelRanges(gradients.count, threads: workspace.threads, grain: 1 << 16) { range in
                for i in range { g[i] *= scale }
            }
        }
        optimizer.step(parameters: model.parameters, gradients: gradients, threads: workspace.threads)
        state = model.finalState(workspace)
        return outcome
    }
}
