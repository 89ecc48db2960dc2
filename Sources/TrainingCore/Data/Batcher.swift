// Batches: how a split's tokens become the windows a model trains on. `Batcher` cuts a split into
// B contiguous streams read T steps at a time (the state at the end of one window starts the
// next); `Batch` is one window, time-major, read forwards or backwards. Probe batches are cut
// elsewhere: a training run's from the validation split (Trainer), an imported model's from JSON
// token ids (ProbeInput.parse) or from text (Corpus.probeBatch).

/// One window of B streams: T + 1 tokens each, time-major, row r = t * B + b (PyTorch's (T, B)
/// layout).
public struct Batch: Sendable {
    public var batch: Int
    public var steps: Int
    /// (T+1) x B tokens: inputs are rows 0..<T, next-token targets rows 1...T.
    public var window: [Int32]
    /// Same layout as `window`: true where that token is a recall answer (synthetic corpus).
    public var recall: [Bool]?

    public init(batch: Int, steps: Int, window: [Int32], recall: [Bool]?) {
        precondition(window.count == (steps + 1) * batch)
        self.batch = batch
        self.steps = steps
        self.window = window
        self.recall = recall
    }

    /// Input token of direction `direction` (0 forward, 1 backward) at its step t for stream b.
    /// The backward direction reads the window reversed and predicts the previous token.
    @inline(__always) public func input(direction: Int, t: Int, b: Int) -> Int32 {
        direction == 0 ? window[t * batch + b] : window[(steps - t) * batch + b]
    }

    @inline(__always) public func targetRow(direction: Int, t: Int) -> Int {
        direction == 0 ? t + 1 : steps - t - 1
    }

    @inline(__always) public func target(direction: Int, t: Int, b: Int) -> Int32 {
        window[targetRow(direction: direction, t: t) * batch + b]
    }
}

/// Cuts a token stream into B parallel streams and reads them in windows of T steps,
/// as the usual LM setup does: window i covers positions i*T ... i*T + T of every stream, so the
/// hidden state at the end of one window is the right start for the next.
public struct Batcher: Sendable {
    public let batch: Int
    public let steps: Int
    public let streamLength: Int
    private let tokens: TokenStore
    private let mask: [Bool]?

    public var windowCount: Int { (streamLength - 1) / steps }

    /// Tokens a split must hold for one window.
    public static func tokensNeeded(batch: Int, steps: Int) -> Int { batch * (steps + 1) }

    /// `tokens` is shared, not copied (a corpus may be hundreds of megabytes).
    public init?(tokens: TokenStore, mask: [Bool]?, batch: Int, steps: Int) {
        guard batch > 0, steps > 0, tokens.count >= Batcher.tokensNeeded(batch: batch, steps: steps) else { return nil }
        precondition(mask == nil || mask!.count == tokens.count)
        self.batch = batch
        self.steps = steps
        streamLength = tokens.count / batch
        self.tokens = tokens
        self.mask = mask
    }

    public func window(_ index: Int) -> Batch {
        precondition(index >= 0 && index < windowCount)
        let start = index * steps
        var window = [Int32](repeating: 0, count: (steps + 1) * batch)
        var recall: [Bool]? = mask == nil ? nil : [Bool](repeating: false, count: (steps + 1) * batch)
        for t in 0...steps {
            for b in 0..<batch {
                let source = b * streamLength + start + t
                window[t * batch + b] = tokens[source]
                if let mask { recall![t * batch + b] = mask[source] }
            }
        }
        return Batch(batch: batch, steps: steps, window: window, recall: recall)
    }
}
