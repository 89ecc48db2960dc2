import DiagnoseRecord

/// Everything that shapes a training run, as the command line gives it.
public struct TrainingOptions: Sendable {
    public var model: ModelConfig
    public var initialization: Initialization
    public var optimizer: Optimizer = .adam
    public var learningRate: Double = 1e-2
    /// Global-norm clipping threshold; 0 turns clipping off.
    public var clip: Double = 1
    public var steps: Int = 2000
    public var batch: Int = 16
    public var bptt: Int = 30
    public var seed: UInt64 = 0
    public var probeEvery: Int = 250
    public var evalEvery: Int = 250
    public var threads: Int = 1
    /// Dropout probability on the non-recurrent connections during training (0: none).
    public var dropout: Double = 0
    /// When set, the run lasts this many passes over the training windows and `steps` is ignored.
    public var epochs: Int? = nil
    /// When set, the learning rate is multiplied by this after every evaluation whose validation
    /// loss is not below the best so far (PyTorch's word_language_model example divides by 4).
    public var learningRateDecay: Double? = nil

    public init(model: ModelConfig, initialization: Initialization) {
        self.model = model
        self.initialization = initialization
    }

    /// Throws when options that cannot work together are set together. What needs no corpus:
    /// `Trainer` checks it first, and `--dry-run` checks it without reading any data.
    public func checkCompatible() throws(TrainingSetupError) {
        if dropout > 0 && model.connections != .plain && model.layers > 1 {
            throw .dropoutNeedsPlainStack(dropout: dropout, connections: model.connections)
        }
    }
}
