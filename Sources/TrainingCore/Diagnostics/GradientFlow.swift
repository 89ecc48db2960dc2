import Foundation

/// The gradient-flow matrices of one layer and direction.
public struct GradientFlowMatrices: Sendable {
    public var layer: Int
    public var direction: Int
    /// G[t][j] = mean_b ||d l_b(t) / d h_b(j)||_2 for j <= t (row t has t + 1 entries), where l_b(t)
    /// is example b's cross-entropy at step t (not divided by B or T) and the derivative is total:
    /// every path, through the recurrence and through the layers above.
    public var hidden: [[Double]]
    /// LSTM: the same for the cell state c(j).
    public var cell: [[Double]]?
    /// The same as `hidden`, but averaged only over the examples whose prediction at step t is a
    /// recall answer (synthetic corpus): the gradient that teaches the long-range dependency.
    /// nil where no example recalls at step t.
    public var recall: [[Double?]]?
}

extension LanguageModel {
    /// G for every layer and direction, exactly, for all pairs j <= t at once.
    ///
    /// Instead of one backward pass per loss step t, the sweep carries every pending adjoint
    /// backwards together: at step j it holds d l(t) / d h(j) for every t >= j as rows of one
    /// "extended batch" ((T - j) x B rows, newest t last), injects the new loss step's adjoint,
    /// records the norms, and pushes all rows through step j's Jacobian with one matrix multiply.
    /// Layers are swept top-down; a layer's input adjoints for every (t, j) are the injections of
    /// the layer below. Requires a `forward` of `batch` (normally from a zero state) just before.
    public func gradientFlow(_ batch: Batch, workspace: Workspace) -> [GradientFlowMatrices] {
        // Which (t, b) predict a recall answer, per direction (the forward direction only: the
        // backward LM predicts the previous token, which is never an answer it must recall).
        let recallRows: [Bool]? = batch.recall.map { mask in
            (0..<(batch.steps * batch.batch)).map { r in mask[(r / batch.batch + 1) * batch.batch + r % batch.batch] }
        }
        let B = batch.batch, T = batch.steps, H = config.hidden, V = config.vocabularySize
        let p = parameters.pointer
        var results: [GradientFlowMatrices] = []
        let dh = FloatBuffer(count: T * B * H)
        let dc = FloatBuffer(count: T * B * H)
        for direction in 0..<config.directions {
            // d l_b(t) / d h_top_b(t) = (p - onehot) W_dec, per row, unscaled.
            let dLogits = logitAdjoints(batch, direction: direction, scale: 1, workspace: workspace)
            let topInjection = FloatBuffer(count: T * B * H)
            sgemm(transA: false, transB: false, m: T * B, n: H, k: V, alpha: 1, a: dLogits.pointer, lda: V,
                  b: p + decoderWeight, ldb: H, beta: 0, c: topInjection.pointer, ldc: H, threads: Parallelism.threads)
            // injections[j]: ((T - j) * B, H) adjoints from the layer above, rows for t = T-1 ... j.
            var injections: [FloatBuffer]? = nil
            var layerResults: [GradientFlowMatrices] = []
            for l in stride(from: config.layers - 1, through: 0, by: -1) {
                let layer = stacks[direction][l]
                let cache = workspace.caches[direction][l]
                let isLSTM = config.cell == .lstm
                var g = (0..<T).map { [Double](repeating: 0, count: $0 + 1) }
                var gc: [[Double]]? = isLSTM ? g : nil
                let focus = direction == 0 ? recallRows : nil
                var gr: [[Double?]]? = focus.map { _ in (0..<T).map { [Double?](repeating: nil, count: $0 + 1) } }
                var below: [FloatBuffer] = []
                if l > 0 { below.reserveCapacity(T) }
                let scratch = BackwardScratch()
                let recurrent = layer.packRecurrentWeights(p, transposed: false, into: &scratch.recurrentWeights)
                for j in stride(from: T - 1, through: 0, by: -1) {
                    let blocks = T - j, rows = blocks * B
                    let newBlock = dh.pointer + (blocks - 1) * B * H
                    // Rows for t > j came from step j + 1 (already in dh); the row block for t = j starts at zero.
                    if j < T - 1 {
                        dh.pointer.update(from: scratch.dhPrev!.pointer, count: (blocks - 1) * B * H)
                    }
                    newBlock.update(repeating: 0, count: B * H)
                    if isLSTM { (dc.pointer + (blocks - 1) * B * H).update(repeating: 0, count: B * H) }
                    if let injections {
                        let e = injections[j].pointer
                        for i in 0..<(rows * H) { dh[i] += e[i] }
                    } else {
                        newBlock.update(from: topInjection.pointer + j * B * H, count: B * H)
                    }
                    // Record mean_b ||row|| for every t >= j.
                    for q in 0..<blocks {
                        let t = T - 1 - q
                        g[t][j] = meanRowNorm(dh.pointer + q * B * H, rows: B, width: H)
                        if let focus {
                            gr![t][j] = meanRowNorm(dh.pointer + q * B * H, rows: B, width: H,
                                                    only: focus[(t * B)..<(t * B + B)])
                        }
                    }
                    layer.backwardStep(params: p, cache: cache, t: j, rows: rows, dh: dh.pointer,
                                       dc: isLSTM ? dc.pointer : nil, scratch: scratch, recurrent: recurrent)
                    if isLSTM {
                        for q in 0..<blocks {
                            gc![T - 1 - q][j] = meanRowNorm(scratch.dcTotal!.pointer + q * B * H, rows: B, width: H)
                        }
                    }
                    if l > 0 {
                        // The input adjoints of this step are the next layer down's injections at j.
                        let e = FloatBuffer(count: rows * layer.inputSize)
                        sgemm(transA: false, transB: false, m: rows, n: layer.inputSize, k: layer.gateRows, alpha: 1,
                              a: scratch.dGx!.pointer, lda: layer.gateRows, b: p + layer.weightIH, ldb: layer.inputSize,
                              beta: 0, c: e.pointer, ldc: layer.inputSize, threads: Parallelism.threads)
                        below.append(e)
                    }
                }
                injections = l > 0 ? below.reversed() : nil
                layerResults.append(GradientFlowMatrices(layer: l, direction: direction, hidden: g, cell: gc,
                                                         recall: gr))
            }
            results += layerResults.reversed()
        }
        return results
    }
}

/// mean of the row norms over the rows where `only` is true; nil when there are none.
func meanRowNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, only: ArraySlice<Bool>) -> Double? {
    var total = 0.0, count = 0
    for (r, keep) in zip(0..<rows, only) where keep {
        var sum: Float = 0
        let row = x + r * width
        for i in 0..<width { sum += row[i] * row[i] }
        total += Double(sum).squareRoot()
        count += 1
    }
    return count > 0 ? total / Double(count) : nil
}

/// mean over rows of the L2 norm of each row, accumulated in Double.
func meanRowNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int) -> Double {
    var total = 0.0
    for r in 0..<rows {
        var sum: Float = 0
        let row = x + r * width
        for i in 0..<width { sum += row[i] * row[i] }
        total += Double(sum).squareRoot()
    }
    return total / Double(rows)
}
