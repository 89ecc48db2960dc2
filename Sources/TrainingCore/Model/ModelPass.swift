import Foundation

// Forward and backward passes of the language model over one B x T window.
// Shapes: B batch, T steps, E embedding, H hidden, V vocabulary; rows are time-major (t * B + b).

/// The recurrent state carried from one window to the next (forward direction only: the backward
/// direction of a bidirectional model starts each window from zeros, since its "previous" state
/// would come from the future). h[layer] and c[layer] are (B, H).
public struct RecurrentState {
    public var h: [FloatBuffer]
    public var c: [FloatBuffer]?
}

/// Buffers one model reuses from step to step, so the step loop does not allocate.
public final class Workspace {
    var caches: [[LayerCache]]
    /// Per direction (T*B, E): the embedded input, when it is built here (dropout or a dense stack).
    var embedded: [FloatBuffer?]
    /// Per direction (T*B, V): softmax probabilities after `forward`.
    var probabilities: [FloatBuffer?]
    /// Per direction (T*B): -log p(target) of each prediction.
    public internal(set) var rowLosses: [[Float]]
    var scratch = BackwardScratch()
    var dOutputs: FloatBuffer?
    var dInputs: FloatBuffer?
    var dLogits: FloatBuffer?
    var dGatesAll: FloatBuffer?
    var dGhAll: FloatBuffer?
    /// Residual stacks: [direction][layer] (T*B, H) y_l = h_l + y_(l-1) for l >= 1.
    /// Dense stacks: [direction][layer] (T*B, E + l H) the concatenated input of layer l >= 1.
    var skip: [[FloatBuffer?]]
    /// Dense stacks, backward: [layer] (T*B, H) the adjoint arriving at h_l from every layer above.
    var dDense: [FloatBuffer?]
    /// Dense stacks, backward: (T*B, E) the adjoint of the embedded input.
    var dEmbedded: FloatBuffer?
    /// When set, `backward` stores in `depthSquares[direction][layer]` (T*B) the squared norm of
    /// every row's total adjoint dJ/dh_l(t): the depth probe.
    public var recordsDepth = false
    public internal(set) var depthSquares: [[FloatBuffer?]]
    /// Test hook: perturb one layer's state during the next forward passes.
    public var perturbation: StatePerturbation?
    /// Training only: the dropout masks the next forward and backward pass apply (nil: none, as in
    /// evaluation and the probes). Their batch and window must match the batch's.
    public var dropout: DropoutMasks?
    /// With dropout: [direction][layer] the layer's outputs after their mask (what the next layer,
    /// or the decoder, reads).
    var droppedOutputs: [[FloatBuffer?]]

    /// The threads this model's passes may use.
    public let threads: ComputeThreads

    public init(model: LanguageModel, threads: ComputeThreads = 1) {
        self.threads = threads
        let d = model.config.directions, l = model.config.layers
        caches = Array(repeating: Array(repeating: LayerCache(), count: l), count: d)
        embedded = Array(repeating: nil, count: d)
        probabilities = Array(repeating: nil, count: d)
        rowLosses = Array(repeating: [], count: d)
        skip = Array(repeating: Array(repeating: nil, count: l), count: d)
        dDense = Array(repeating: nil, count: l)
        depthSquares = Array(repeating: Array(repeating: nil, count: l), count: d)
        droppedOutputs = Array(repeating: Array(repeating: nil, count: l), count: d)
    }
}

extension LanguageModel {
    /// Runs the window. Returns each direction's mean cross-entropy over its B x T predictions.
    /// `state` (nil = zeros) is the forward direction's initial state.
    @discardableResult
    public func forward(_ batch: Batch, state: RecurrentState?, workspace: Workspace) -> [Double] {
        let B = batch.batch, T = batch.steps, E = config.embed, H = config.hidden, V = config.vocabularySize
        let rows = T * B
        let p = parameters.pointer
        var losses: [Double] = []
        let dropout = workspace.dropout
        precondition(dropout == nil || (dropout!.batch == B && dropout!.steps == T))
        for direction in 0..<config.directions {
            let tokens = (0..<rows).map { r in batch.input(direction: direction, t: r / B, b: r % B) }
            // The first layer reads the plain embedding rows, and may fold its input projection into
            // the embedding, unless a dropout mask changes them or a dense stack feeds them upwards too.
            var x: UnsafePointer<Float>? = nil
            let first: LayerInput
            if dropout == nil && config.connections != .dense {
                first = .embedding(offset: embedding, vocabulary: V, tokens: tokens)
            } else {
                let embedded = FloatBuffer.ensure(&workspace.embedded[direction], count: rows * E)
                for r in 0..<rows {
                    (embedded.pointer + r * E).update(from: p + embedding + Int(tokens[r]) * E, count: E)
                }
                dropout?.apply(direction: direction, site: 0, to: embedded.pointer, count: rows * E, threads: workspace.threads)
                x = UnsafePointer(embedded.pointer)
                first = .rows(embedded.pointer)
            }
            // y: what the layer above (or the decoder) reads from the layer just run.
            var y: UnsafePointer<Float>? = nil
            for (l, layer) in stacks[direction].enumerated() {
                var input = first
                if config.connections == .dense && l > 0 {
                    // x_l = [x_0, h_0, ..., h_(l-1)] row by row.
                    let width = layer.inputSize
                    let concatenated = FloatBuffer.ensure(&workspace.skip[direction][l], count: rows * width)
                    let below = (0..<l).map { UnsafePointer(workspace.caches[direction][$0].outputs(hidden: H)) }
                    parallelRanges(rows, threads: workspace.threads, grain: 64) { range in
                        for r in range {
                            let row = concatenated.pointer + r * width
                            row.update(from: x! + r * E, count: E)
                            for (k, h) in below.enumerated() { (row + E + k * H).update(from: h + r * H, count: H) }
                        }
                    }
                    input = .rows(concatenated.pointer)
                } else if let y {
                    input = .rows(y)
                }
                let h0 = direction == 0 ? state.map { UnsafePointer($0.h[l].pointer) } : nil
                let c0 = direction == 0 ? state?.c.map { UnsafePointer($0[l].pointer) } : nil
                let nudge = workspace.perturbation.flatMap { $0.direction == direction && $0.layer == l ? $0 : nil }
                layer.forward(params: p, input: input, steps: T, batch: B, h0: h0, c0: c0,
                              cache: &workspace.caches[direction][l], threads: workspace.threads, perturbation: nudge)
                let h = UnsafePointer(workspace.caches[direction][l].outputs(hidden: H))
                if config.connections == .residual, l > 0, let below = y {
                    // y_l = h_l + y_(l-1): the layer below's output skips over this layer.
                    let sum = FloatBuffer.ensure(&workspace.skip[direction][l], count: rows * H)
                    parallelRanges(rows * H, threads: workspace.threads, grain: 16_384) { range in
                        for i in range { sum.pointer[i] = h[i] + below[i] }
                    }
                    y = UnsafePointer(sum.pointer)
                } else {
                    y = h
                }
                if let dropout {
                    // (Plain stacks only: the trainer refuses dropout with skip connections.)
                    // The state itself stays intact (it is carried and recurs); a masked copy feeds upwards.
                    let dropped = FloatBuffer.ensure(&workspace.droppedOutputs[direction][l], count: rows * H)
                    dropped.pointer.update(from: y!, count: rows * H)
                    dropout.apply(direction: direction, site: l + 1, to: dropped.pointer, count: rows * H, threads: workspace.threads)
                    y = UnsafePointer(dropped.pointer)
                }
            }
            let top = y!
            // Decoder: logits = h W_dec^T + b_dec, then softmax and cross-entropy per row.
            let probs = FloatBuffer.ensure(&workspace.probabilities[direction], count: rows * V)
            sgemm(transA: false, transB: true, m: rows, n: V, k: H, alpha: 1, a: top, lda: H,
                  b: p + decoderWeight, ldb: H, beta: 0, c: probs.pointer, ldc: V, threads: workspace.threads)
            // Rows are independent: split them over the threads; the total is summed in row order.
            var rowLoss = [Float](repeating: 0, count: rows)
            let bias = UnsafePointer(p + decoderBias)
            rowLoss.withUnsafeMutableBufferPointer { lossOut in
                let lossPointer = lossOut.baseAddress!
                parallelRanges(rows, threads: workspace.threads, grain: max(1, 32_768 / V)) { range in
                    for r in range {
                        let row = probs.pointer + r * V
                        Elementwise.addBias(bias, to: row, rows: 1, cols: V, ld: V)
                        let maxLogit = Elementwise.maximum(row, count: V)
                        let target = Int(batch.target(direction: direction, t: r / B, b: r % B))
                        // -log p = log sum exp(z - max) - (z_target - max): finite even when p underflows.
                        let targetLogit = row[target] - maxLogit
                        let sum = Elementwise.exponentialsAndSum(row, minus: maxLogit, count: V)
                        lossPointer[r] = Foundation.log(sum) - targetLogit
                        Elementwise.scale(row, by: 1 / sum, count: V)
                    }
                }
            }
            var total = 0.0
            for r in 0..<rows { total += Double(rowLoss[r]) }
            workspace.rowLosses[direction] = rowLoss
            losses.append(total / Double(rows))
        }
        return losses
    }

    /// The forward direction's state at the end of the window, for the next window.
    public func finalState(_ workspace: Workspace) -> RecurrentState {
        let caches = workspace.caches[0]
        let B = caches[0].batch, T = caches[0].steps, H = config.hidden
        let h = caches.map { cache -> FloatBuffer in
            let out = FloatBuffer(count: B * H)
            out.pointer.update(from: cache.hRow(T - 1, hidden: H), count: B * H)
            return out
        }
        let c: [FloatBuffer]? = config.cell == .lstm ? caches.map { cache in
            let out = FloatBuffer(count: B * H)
            out.pointer.update(from: cache.cRow(T - 1, hidden: H), count: B * H)
            return out
        } : nil
        return RecurrentState(h: h, c: c)
    }

    /// dl/dlogits = (p - onehot(target)) * scale for every row of `direction`, into workspace.dLogits.
    func logitAdjoints(_ batch: Batch, direction: Int, scale: Float, workspace: Workspace) -> FloatBuffer {
        let B = batch.batch, T = batch.steps, V = config.vocabularySize
        let d = FloatBuffer.ensure(&workspace.dLogits, count: T * B * V)
        let probs = workspace.probabilities[direction]!.pointer
        parallelRanges(T * B, threads: workspace.threads, grain: max(1, 32_768 / V)) { range in
            for r in range {
                let target = Int(batch.target(direction: direction, t: r / B, b: r % B))
                for v in 0..<V { d.pointer[r * V + v] = probs[r * V + v] * scale }
                d.pointer[r * V + target] -= scale
            }
        }
        return d
    }

    /// Backpropagation through time of J = mean over directions of each direction's mean
    /// cross-entropy, through every step of the window and every layer. Adds into `gradients`.
    public func backward(_ batch: Batch, workspace: Workspace, gradients: FloatBuffer) {
        let B = batch.batch, T = batch.steps, E = config.embed, H = config.hidden, V = config.vocabularySize
        let rows = T * B
        let p = parameters.pointer, g = gradients.pointer
        let scale = 1 / Float(rows * config.directions)
        for direction in 0..<config.directions {
            let dLogits = logitAdjoints(batch, direction: direction, scale: scale, workspace: workspace)
            let dropout = workspace.dropout
            let top = dropout == nil ? decoderInput(direction: direction, workspace: workspace)
                : workspace.droppedOutputs[direction][config.layers - 1]!.pointer
            // Decoder gradients: dW_dec += dlogits^T h, db_dec += column sums, dh = dlogits W_dec.
            sgemm(transA: true, transB: false, m: V, n: H, k: rows, alpha: 1, a: dLogits.pointer, lda: V,
                  b: top, ldb: H, beta: 1, c: g + decoderWeight, ldc: H, threads: workspace.threads)
            // Column sums, each column in row order: split the columns over the threads.
            parallelRanges(V, threads: workspace.threads, grain: max(8, 65_536 / rows)) { columns in
                Elementwise.addColumnSums(of: dLogits.pointer + columns.lowerBound, rows: rows, cols: columns.count,
                                          ld: V, into: g + decoderBias + columns.lowerBound)
            }
            var dOut = FloatBuffer.ensure(&workspace.dOutputs, count: rows * max(H, E))
            sgemm(transA: false, transB: false, m: rows, n: H, k: V, alpha: 1, a: dLogits.pointer, lda: V,
                  b: p + decoderWeight, ldb: H, beta: 0, c: dOut.pointer, ldc: H, threads: workspace.threads)
            // Backward through the mask before the decoder.
            dropout?.apply(direction: direction, site: config.layers, to: dOut.pointer, count: rows * H, threads: workspace.threads)
            if config.connections == .dense {
                dOut = denseBackward(direction: direction, rows: rows, top: dOut, gradients: g, workspace: workspace)
            } else {
                for l in stride(from: config.layers - 1, through: 0, by: -1) {
                    let layer = stacks[direction][l]
                    let dIn = FloatBuffer.ensure(&workspace.dInputs, count: rows * max(H, E))
                    layer.backward(params: p, grads: g, cache: workspace.caches[direction][l], dOutputs: dOut.pointer,
                                   dInput: dIn.pointer, scratch: workspace.scratch,
                                   dGatesAll: &workspace.dGatesAll, dGhAll: &workspace.dGhAll,
                                   threads: workspace.threads, dhSquares: depthRow(workspace, direction, l, rows))
                    if config.connections == .residual && l > 0 {
                        // y_(l-1) feeds layer l's input and skips to y_l: both adjoints add.
                        let skipped = UnsafePointer(dOut.pointer)
                        parallelRanges(rows * H, threads: workspace.threads, grain: 16_384) { range in
                            for i in range { dIn.pointer[i] += skipped[i] }
                        }
                    }
                    // The input adjoint becomes the next layer down's output adjoint.
                    swap(&workspace.dOutputs, &workspace.dInputs)
                    dOut = workspace.dOutputs!
                    // Backward through the mask on this layer's input (the layer below's output, or the embedding).
                    dropout?.apply(direction: direction, site: l, to: dOut.pointer, count: rows * (l == 0 ? E : H), threads: workspace.threads)
                }
            }
            // Embedding: scatter-add each row's input adjoint into its token's row (a folded first
            // layer has done it). Rows in order (a token may repeat); the columns are independent.
            if workspace.caches[direction][0].folded != nil { continue }
            parallelRanges(E, threads: workspace.threads, grain: max(8, 65_536 / rows)) { columns in
                for r in 0..<rows {
                    let token = Int(batch.input(direction: direction, t: r / B, b: r % B))
                    let src = dOut.pointer + r * E, dst = g + embedding + token * E
                    for e in columns { dst[e] += src[e] }
                }
            }
        }
    }
}

extension LanguageModel {
    /// What the decoder read in the last `forward`: y of the top layer (h, or h plus the skip).
    func decoderInput(direction: Int, workspace: Workspace) -> UnsafeMutablePointer<Float> {
        let top = config.layers - 1
        if config.connections == .residual && top > 0 { return workspace.skip[direction][top]!.pointer }
        return workspace.caches[direction][top].outputs(hidden: config.hidden)
    }

    /// Where `backward` stores layer `l`'s squared adjoint norms when the depth probe is on.
    func depthRow(_ workspace: Workspace, _ direction: Int, _ l: Int, _ rows: Int) -> UnsafeMutablePointer<Float>? {
        guard workspace.recordsDepth else { return nil }
        return FloatBuffer.ensure(&workspace.depthSquares[direction][l], count: rows).pointer
    }

    /// Backward through a dense stack, top layer first. Layer l's input adjoint (T*B, E + l H) is cut
    /// into its parts: the embedded input's, and one for each layer k < l, added to what reaches h_k.
    /// `top` is the decoder's adjoint of the top layer's output. Returns the embedded input's adjoint.
    func denseBackward(direction: Int, rows: Int, top: FloatBuffer, gradients g: UnsafeMutablePointer<Float>,
                       workspace: Workspace) -> FloatBuffer {
        let E = config.embed, H = config.hidden, L = config.layers
        let p = parameters.pointer
        let dEmbedded = FloatBuffer.ensure(&workspace.dEmbedded, count: rows * E)
        dEmbedded.pointer.update(repeating: 0, count: rows * E)
        for k in 0..<L {
            let d = FloatBuffer.ensure(&workspace.dDense[k], count: rows * H)
            if k == L - 1 {
                d.pointer.update(from: top.pointer, count: rows * H)
            } else {
                d.pointer.update(repeating: 0, count: rows * H)
            }
        }
        let dIn = FloatBuffer.ensure(&workspace.dInputs, count: rows * (E + (L - 1) * H))
        for l in stride(from: L - 1, through: 0, by: -1) {
            let layer = stacks[direction][l], width = layer.inputSize
            layer.backward(params: p, grads: g, cache: workspace.caches[direction][l],
                           dOutputs: workspace.dDense[l]!.pointer, dInput: dIn.pointer, scratch: workspace.scratch,
                           dGatesAll: &workspace.dGatesAll, dGhAll: &workspace.dGhAll,
                           threads: workspace.threads, dhSquares: depthRow(workspace, direction, l, rows))
            let below = (0..<l).map { workspace.dDense[$0]!.pointer }
            parallelRanges(rows, threads: workspace.threads, grain: 64) { range in
                for r in range {
                    let row = dIn.pointer + r * width
                    let embedded = dEmbedded.pointer + r * E
                    for e in 0..<E { embedded[e] += row[e] }
                    for (k, dh) in below.enumerated() {
                        let part = row + E + k * H, target = dh + r * H
                        for i in 0..<H { target[i] += part[i] }
                    }
                }
            }
        }
        return dEmbedded
    }
}
