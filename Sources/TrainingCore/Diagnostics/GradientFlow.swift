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
        // The extended batch's adjoints: dh (rows, H) is read by step j, which writes d h(j-1) into
        // dhNext; the two swap roles after every step. dc is updated in place.
        var dh = FloatBuffer(count: T * B * H), dhNext = FloatBuffer(count: T * B * H)
        let dc = FloatBuffer(count: T * B * H)
        for direction in 0..<config.directions {
            // d l_b(t) / d h_top_b(t) = (p - onehot) W_dec, per row, unscaled.
            let dLogits = logitAdjoints(batch, direction: direction, scale: 1, workspace: workspace)
            let topInjection = FloatBuffer(count: T * B * H)
            sgemm(transA: false, transB: false, m: T * B, n: H, k: V, alpha: 1, a: dLogits.pointer, lda: V,
                  b: p + decoderWeight, ldb: H, beta: 0, c: topInjection.pointer, ldc: H, threads: workspace.threads)
            // injections[j]: ((T - j) * B, H) adjoints from the layer above, rows for t = T-1 ... j.
            var injections: [FloatBuffer]? = nil
            // Dense stacks: pending[k][j] gathers what h_k(j) receives from every layer above k.
            let L = config.layers, E = config.embed
            let pending: [[FloatBuffer]]? = config.connections == .dense && L > 1
                ? (0..<(L - 1)).map { _ in (0..<T).map { FloatBuffer(count: (T - $0) * B * H) } } : nil
            let residual = config.connections == .residual
            var layerResults: [GradientFlowMatrices] = []
            for l in stride(from: L - 1, through: 0, by: -1) {
                if let pending, l < L - 1 { injections = pending[l] }
                let layer = stacks[direction][l]
                let cache = workspace.caches[direction][l]
                let isLSTM = config.cell == .lstm, gH = layer.gateRows
                var g = (0..<T).map { [Double](repeating: 0, count: $0 + 1) }
                var gc: [[Double]]? = isLSTM ? g : nil
                let focus = direction == 0 ? recallRows : nil
                var gr: [[Double?]]? = focus.map { _ in (0..<T).map { [Double?](repeating: nil, count: $0 + 1) } }
                var below: [FloatBuffer] = []
                if l > 0 { below.reserveCapacity(T) }
                let scratch = BackwardScratch()
                let recurrent = layer.packRecurrentWeights(p, transposed: false, into: &scratch.recurrentWeights)
                let dGx = FloatBuffer.ensure(&scratch.dGx, count: T * B * gH)
                let dGh = config.cell == .gru ? FloatBuffer.ensure(&scratch.dGh, count: T * B * gH) : nil
                let dcTotal = isLSTM ? FloatBuffer.ensure(&scratch.dcTotal, count: T * B * H) : nil
                // Per extended row, the sum of squares of its d h(j) and (LSTM) d c(j).
                let hSquares = FloatBuffer(count: T * B), cSquares = FloatBuffer(count: T * B)
                for j in stride(from: T - 1, through: 0, by: -1) {
                    let blocks = T - j, rows = blocks * B
                    // Rows for t > j came from step j + 1; the row block for t = j starts at zero.
                    let newBlock = dh.pointer + (blocks - 1) * B * H
                    if isLSTM { (dc.pointer + (blocks - 1) * B * H).update(repeating: 0, count: B * H) }
                    if injections != nil {
                        newBlock.update(repeating: 0, count: B * H)
                    } else {
                        newBlock.update(from: topInjection.pointer + j * B * H, count: B * H)
                    }
                    let injection = injections?[j]
                    let inputAdjoints = l > 0 ? FloatBuffer(count: rows * layer.inputSize) : nil
                    let gathered = pending.map { pending in (0..<l).map { pending[$0][j].pointer } }
                    let topRows = topInjection.pointer + j * B * H, newRows = (blocks - 1) * B
                    // The rows are independent: split them over the threads, each doing the whole
                    // step for its rows (injection, norms, the step's Jacobian, the layer below's input).
                    let dhNow = dh.pointer, dhOut = dhNext.pointer
                    layer.forEachStreamRange(batch: rows, threads: workspace.threads) { range in
                        let r0 = range.lowerBound, n = range.count
                        let dhRows = dhNow + r0 * H
                        if let e = injection?.pointer {
                            let source = e + r0 * H
                            for i in 0..<(n * H) { dhRows[i] += source[i] }
                        }
                        Elementwise.rowSumsOfSquares(dhRows, rows: n, width: H, into: hSquares.pointer + r0)
                        layer.backwardRows(params: p, cache: cache, t: j, rows: n, firstStream: r0 % B, dh: dhRows,
                                           dc: isLSTM ? dc.pointer + r0 * H : nil, dGx: dGx.pointer + r0 * gH,
                                           dGh: dGh.map { $0.pointer + r0 * gH }, dhPrev: dhOut + r0 * H,
                                           dcTotal: dcTotal.map { $0.pointer + r0 * H }, recurrent: recurrent, threads: 1)
                        if let dcTotal {
                            Elementwise.rowSumsOfSquares(dcTotal.pointer + r0 * H, rows: n, width: H,
                                                         into: cSquares.pointer + r0)
                        }
                        if let inputAdjoints {
                            // The input adjoints of this step are the next layer down's injections at j.
                            sgemm(transA: false, transB: false, m: n, n: layer.inputSize, k: gH, alpha: 1,
                                  a: dGx.pointer + r0 * gH, lda: gH, b: p + layer.weightIH, ldb: layer.inputSize,
                                  beta: 0, c: inputAdjoints.pointer + r0 * layer.inputSize, ldc: layer.inputSize)
                            if residual {
                                // y_(l-1)(j) also skips to y_l(j): add the adjoint y_l(j) received
                                // (at the top, the decoder's, for the row block t = j only).
                                let into = inputAdjoints.pointer
                                for r in r0..<(r0 + n) {
                                    let source: UnsafeMutablePointer<Float>? = injection.map { $0.pointer + r * H }
                                        ?? (r >= newRows ? topRows + (r - newRows) * H : nil)
                                    guard let source else { continue }
                                    for i in 0..<H { into[r * H + i] += source[i] }
                                }
                            }
                            if let gathered {
                                // Cut x_l = [x_0, h_0, ..., h_(l-1)]'s adjoint into the layers' parts.
                                let width = layer.inputSize
                                for r in r0..<(r0 + n) {
                                    let row = inputAdjoints.pointer + r * width + E
                                    for (k, target) in gathered.enumerated() {
                                        for i in 0..<H { target[r * H + i] += row[k * H + i] }
                                    }
                                }
                            }
                        }
                    }
                    // Record mean_b ||row|| for every t >= j.
                    for q in 0..<blocks {
                        let t = T - 1 - q
                        let squares = UnsafePointer(hSquares.pointer + q * B)
                        g[t][j] = meanOfRoots(squares, count: B)
                        if let focus {
                            gr![t][j] = meanOfRoots(squares, count: B, only: focus[(t * B)..<(t * B + B)])
                        }
                        if isLSTM { gc![t][j] = meanOfRoots(cSquares.pointer + q * B, count: B) }
                    }
                    if let inputAdjoints, pending == nil { below.append(inputAdjoints) }
                    swap(&dh, &dhNext)
                }
                injections = l > 0 && pending == nil ? below.reversed() : nil
                layerResults.append(GradientFlowMatrices(layer: l, direction: direction, hidden: g, cell: gc,
                                                         recall: gr))
            }
            results += layerResults.reversed()
        }
        return results
    }
}

/// mean_r sqrt(squares[r]) over r < count, accumulated in Double in order.
func meanOfRoots(_ squares: UnsafePointer<Float>, count: Int) -> Double {
    var total = 0.0
    for r in 0..<count { total += Double(squares[r]).squareRoot() }
    return total / Double(count)
}

/// The same over the rows where `only` is true; nil when there are none.
func meanOfRoots(_ squares: UnsafePointer<Float>, count: Int, only: ArraySlice<Bool>) -> Double? {
    var total = 0.0, kept = 0
    for (r, keep) in zip(0..<count, only) where keep {
        total += Double(squares[r]).squareRoot()
        kept += 1
    }
    return kept > 0 ? total / Double(kept) : nil
}

/// mean over rows of the L2 norm of each row: each row's squares summed in Float in order, the
/// roots accumulated in Double.
func meanRowNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int) -> Double {
    let squares = FloatBuffer(count: rows)
    Elementwise.rowSumsOfSquares(x, rows: rows, width: width, into: squares.pointer)
    return meanOfRoots(squares.pointer, count: rows)
}
