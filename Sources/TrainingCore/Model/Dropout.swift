/// Dropout on the non-recurrent connections, as Zaremba, Sutskever and Vinyals (2014) apply it to
/// recurrent language models: on the embedding output, on the output of every layer that feeds the
/// next, and on the top layer's output before the decoder; never on h(t-1) -> h(t), so the memory
/// the probes measure is not cut. Inverted dropout: each entry is 0 with probability p and
/// 1 / (1 - p) otherwise, so the expected input of every layer is unchanged and evaluation (and
/// every probe) runs the deterministic network without rescaling.
public final class DropoutMasks {
    public let probability: Double
    public let batch: Int
    public let steps: Int
    /// masks[direction][site], time-major rows: site 0 the embedding output (T*B, E), site l + 1
    /// the output of layer l (T*B, H).
    let masks: [[FloatBuffer]]

    public init(model: LanguageModel, batch: Int, steps: Int, probability: Double) {
        precondition(probability >= 0 && probability < 1)
        self.probability = probability
        self.batch = batch
        self.steps = steps
        let rows = batch * steps, config = model.config
        masks = (0..<config.directions).map { _ in
            [FloatBuffer(count: rows * config.embed)] + (0..<config.layers).map { _ in FloatBuffer(count: rows * config.hidden) }
        }
    }

    /// Draws new masks. One serial stream of random bits, so the masks (and the training run) are
    /// the same at any thread count.
    public func resample(_ generator: inout SeededGenerator) {
        // Keep an entry when 32 random bits reach p * 2^32: two entries per 64-bit draw.
        let threshold = UInt64((probability * 4_294_967_296).rounded(.down))
        let scale = Float(1 / (1 - probability))
        for direction in masks {
            for mask in direction {
                let m = mask.pointer
                var i = 0
                while i < mask.count {
                    let bits = generator.next()
                    m[i] = bits & 0xFFFF_FFFF >= threshold ? scale : 0
                    if i + 1 < mask.count { m[i + 1] = bits >> 32 >= threshold ? scale : 0 }
                    i += 2
                }
            }
        }
    }

    /// values[i] *= mask[i] for the `count` entries of one site.
    func apply(direction: Int, site: Int, to values: UnsafeMutablePointer<Float>, count: Int, threads: ComputeThreads) {
        let m = masks[direction][site].pointer
        precondition(count <= masks[direction][site].count)
        parallelRanges(count, threads: threads, grain: 1 << 15) { range in
            for i in range { values[i] *= m[i] }
        }
    }
}
