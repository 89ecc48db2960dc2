import DiagnoseRecord
import Foundation

/// One recurrent layer of one direction: where its weights live in the parameter buffer.
///
/// Weights in PyTorch's layout: W_ih (gH, In), W_hh (gH, H), b_ih (gH), b_hh (gH), g = gate count.
public struct RecurrentLayer: Sendable {
    public let cell: CellKind
    public let activation: Activation
    public let inputSize: Int
    public let hidden: Int
    public let weightIH: Int  // (gH, In)
    public let weightHH: Int  // (gH, H)
    public let biasIH: Int    // (gH)
    public let biasHH: Int    // (gH)

    public var gateRows: Int { cell.gateCount * hidden }
    /// Size of the recurrent state: (h, c) for the LSTM, h otherwise.
    public var stateSize: Int { cell == .lstm ? 2 * hidden : hidden }
}

/// What a layer reads over one window.
public enum LayerInput {
    /// (T*B, In): the outputs of the layer below.
    case rows(UnsafePointer<Float>)
    /// A first layer: input row r is row tokens[r] of the embedding (V, In) at `offset` in the
    /// parameters.
    case embedding(offset: Int, vocabulary: Int, tokens: [Int32])
}

/// What a layer's forward pass over one window keeps for its backward pass.
/// Rows are time-major: row t * B + b.
public struct LayerCache {
    public var steps = 0
    public var batch = 0
    /// (T*B, In) the layer's input; not kept when the input projection went through the embedding
    /// (`folded`).
    public var input: FloatBuffer? = nil
    /// A first layer whose vocabulary is smaller than the window: the embedding's offset, V and
    /// the token of every row. The input projection is then V rows projected once and picked per
    /// token, and backward sums the gate adjoints per token before the weight products.
    var folded: (offset: Int, vocabulary: Int, tokens: [Int32])? = nil
    /// (V, gH) the projected embedding forward, the per-token sums of the gate adjoints backward.
    var tokenTable: FloatBuffer? = nil
    /// (T*B, gH) gate activations after their nonlinearities (rnn: h(t) itself).
    public var gates: FloatBuffer? = nil
    /// ((T+1)*B, H) hidden states, h(-1) (the initial state) first.
    public var h: FloatBuffer? = nil
    /// LSTM: ((T+1)*B, H) cell states, c(-1) first.
    public var c: FloatBuffer? = nil
    /// LSTM: (T*B, H) tanh(c(t)). GRU: (T*B, H) W_hn h(t-1) + b_hn.
    public var aux: FloatBuffer? = nil
    /// GRU: (B, gH) scratch for h(t-1) W_hh^T + b_hh.
    var hiddenProjection: FloatBuffer? = nil
    /// W_hh^T (H x gH) packed once per window for the T products h(t-1) W_hh^T of `forward`.
    var recurrentWeights: SGEMMPackedB? = nil

    public init() {}

    /// Pointer to h(t) of stream 0 (t = -1 is the initial state).
    func hRow(_ t: Int, hidden: Int) -> UnsafeMutablePointer<Float> { h!.pointer + (t + 1) * batch * hidden }
    func cRow(_ t: Int, hidden: Int) -> UnsafeMutablePointer<Float> { c!.pointer + (t + 1) * batch * hidden }
    /// The layer's outputs h(0..<T) as one (T*B, H) block.
    public func outputs(hidden: Int) -> UnsafeMutablePointer<Float> { hRow(0, hidden: hidden) }
}

/// A nudge added to a layer's state right after step `step` is computed, treating that state as
/// an independent variable: how tests measure d loss / d h(j) by finite differences.
public struct StatePerturbation: Sendable {
    public var direction: Int
    public var layer: Int
    public var step: Int
    /// (B, H) added to h(step), and for the LSTM optionally to c(step).
    public var hidden: [Float]?
    public var cell: [Float]?

    public init(direction: Int = 0, layer: Int, step: Int, hidden: [Float]? = nil, cell: [Float]? = nil) {
        self.direction = direction
        self.layer = layer
        self.step = step
        self.hidden = hidden
        self.cell = cell
    }

    func apply(to cache: LayerCache, hidden size: Int) {
        if let hidden {
            let h = cache.hRow(step, hidden: size)
            for i in hidden.indices { h[i] += hidden[i] }
        }
        if let cell {
            // c(step) is the variable: h(step) = o * tanh(c(step)) must see the nudge too.
            let c = cache.cRow(step, hidden: size), h = cache.hRow(step, hidden: size)
            let gates = cache.gates!.pointer + step * cache.batch * 4 * size
            let tanhC = cache.aux!.pointer + step * cache.batch * size
            for i in cell.indices {
                c[i] += cell[i]
                let outputGate = gates[(i / size) * 4 * size + 3 * size + i % size]
                tanhC[i] = tanhf(c[i])
                h[i] = outputGate * tanhC[i]
            }
        }
    }
}

/// Scratch for the backward step, sized for `rows` adjoint rows.
final class BackwardScratch {
    var dGx: FloatBuffer?   // (rows, gH) gradient at the gate pre-activations, input side
    var dGh: FloatBuffer?   // (rows, gH) hidden side (differs from dGx for the GRU only)
    var dhPrev: FloatBuffer?
    var dcTotal: FloatBuffer?
    /// (B, H) the adjoints of h(t) and c(t) carried from step to step by `backward`.
    var dh: FloatBuffer?
    var dc: FloatBuffer?
    /// W_hh (gH x H) packed for the products dG_h W_hh of a backward sweep (see `packRecurrentWeights`).
    var recurrentWeights: SGEMMPackedB?
}

extension RecurrentLayer {
    /// Packs op(W_hh) into `slot` (reusing its storage when the shape matches): W_hh^T (H x gH) for
    /// the forward products h W_hh^T when `transposed`, W_hh itself (gH x H) for the backward
    /// products dG W_hh otherwise. The T products of a window then share one packing; the result
    /// is bit-identical to multiplying by W_hh directly.
    func packRecurrentWeights(_ params: UnsafeMutablePointer<Float>, transposed: Bool,
                              into slot: inout SGEMMPackedB?) -> SGEMMPackedB {
        let k = transposed ? hidden : gateRows, n = transposed ? gateRows : hidden
        if let packed = slot, packed.k == k, packed.n == n {
            packed.update(transB: transposed, b: params + weightHH, ldb: hidden)
            return packed
        }
        let packed = SGEMMPackedB(transB: transposed, k: k, n: n, b: params + weightHH, ldb: hidden)
        slot = packed
        return packed
    }

    /// Forward over a window: input (T*B, In), initial state h0 (B, H) and c0 (B, H) (nil = zeros).
    /// Fills `cache`; outputs are `cache.outputs(hidden:)`.
    public func forward(params: UnsafeMutablePointer<Float>, input: LayerInput, steps: Int, batch: Int,
                        h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?, cache: inout LayerCache,
                        threads: ComputeThreads, perturbation: StatePerturbation? = nil) {
        let rowsAll = steps * batch
        cache.steps = steps
        cache.batch = batch
        let gates = FloatBuffer.ensure(&cache.gates, count: rowsAll * gateRows)
        // The input projection X W_ih^T for the whole window.
        cache.folded = nil
        switch input {
        case let .embedding(offset, vocabulary, tokens) where vocabulary < rowsAll:
            // Fewer words than rows: project the V embedding rows once and copy each row's token's
            // projection (the same bits as projecting the row: each element is the same FMA chain).
            cache.folded = (offset, vocabulary, tokens)
            let table = FloatBuffer.ensure(&cache.tokenTable, count: vocabulary * gateRows)
            sgemm(transA: false, transB: true, m: vocabulary, n: gateRows, k: inputSize, alpha: 1,
                  a: params + offset, lda: inputSize, b: params + weightIH, ldb: inputSize, beta: 0,
                  c: table.pointer, ldc: gateRows, threads: threads)
            parallelRanges(rowsAll, threads: threads, grain: max(1, 16_384 / gateRows)) { range in
                for r in range {
                    (gates.pointer + r * gateRows).update(from: table.pointer + Int(tokens[r]) * gateRows, count: gateRows)
                }
            }
        case let .embedding(offset, _, tokens):
            let x = FloatBuffer.ensure(&cache.input, count: rowsAll * inputSize)
            for r in 0..<rowsAll {
                (x.pointer + r * inputSize).update(from: params + offset + Int(tokens[r]) * inputSize, count: inputSize)
            }
            project(params, x.pointer, rows: rowsAll, into: gates.pointer, threads: threads)
        case let .rows(rows):
            let x = FloatBuffer.ensure(&cache.input, count: rowsAll * inputSize)
            x.pointer.update(from: rows, count: rowsAll * inputSize)
            project(params, x.pointer, rows: rowsAll, into: gates.pointer, threads: threads)
        }
        let h = FloatBuffer.ensure(&cache.h, count: (steps + 1) * batch * hidden)
        if let h0 { h.pointer.update(from: h0, count: batch * hidden) } else { h.pointer.update(repeating: 0, count: batch * hidden) }
        if cell == .lstm {
            let c = FloatBuffer.ensure(&cache.c, count: (steps + 1) * batch * hidden)
            if let c0 { c.pointer.update(from: c0, count: batch * hidden) } else { c.pointer.update(repeating: 0, count: batch * hidden) }
        }
        if cell != .rnn { _ = FloatBuffer.ensure(&cache.aux, count: rowsAll * hidden) }
        if cell == .gru { _ = FloatBuffer.ensure(&cache.hiddenProjection, count: batch * gateRows) }
        let recurrent = packRecurrentWeights(params, transposed: true, into: &cache.recurrentWeights)

        // + b_ih (+ b_hh)
        let bias = FloatBuffer(count: gateRows)
        for i in 0..<gateRows { bias[i] = params[biasIH + i] + (cell == .gru ? 0 : params[biasHH + i]) }
        Elementwise.addBias(bias.pointer, to: gates.pointer, rows: rowsAll, cols: gateRows, ld: gateRows)
        // The recurrence never mixes streams: each thread runs all T steps for its own streams, with
        // no synchronisation between steps. (A test's perturbation needs all streams at once: then
        // every step's product is split over the threads, then its gate arithmetic.) Splitting every
        // step by columns instead, so that each core keeps only its share of W_hh in cache, measured
        // no faster even at H = 512.
        let cacheCopy = cache
        func gateStep(_ t: Int, _ streams: Range<Int>) {
            switch cell {
            case .rnn: rnnForwardStep(t: t, streams: streams, cache: cacheCopy)
            case .lstm: lstmForwardStep(t: t, streams: streams, cache: cacheCopy)
            case .gru: gruForwardStep(params: params, t: t, streams: streams, cache: cacheCopy)
            }
        }
        if perturbation == nil {
            forEachStreamRange(batch: batch, threads: threads) { streams in
                for t in 0..<steps {
                    recurrentProduct(recurrent, t: t, streams: streams, cache: cacheCopy, threads: 1)
                    gateStep(t, streams)
                }
            }
        } else {
            for t in 0..<steps {
                recurrentProduct(recurrent, t: t, streams: 0..<batch, cache: cacheCopy, threads: threads)
                forEachStreamRange(batch: batch, threads: threads) { gateStep(t, $0) }
                if let perturbation, perturbation.step == t { perturbation.apply(to: cacheCopy, hidden: hidden) }
            }
        }
    }

    /// X W_ih^T for `rows` rows of X (rows, In), in one multiply.
    func project(_ params: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int,
                 into gates: UnsafeMutablePointer<Float>, threads: ComputeThreads) {
        sgemm(transA: false, transB: true, m: rows, n: gateRows, k: inputSize, alpha: 1, a: x, lda: inputSize,
              b: params + weightIH, ldb: inputSize, beta: 0, c: gates, ldc: gateRows, threads: threads)
    }

    /// h(t-1) W_hh^T for the streams `streams`: added to the pre-activations (rnn, lstm), or written
    /// to the hidden projection (gru).
    func recurrentProduct(_ recurrent: SGEMMPackedB, t: Int, streams: Range<Int>, cache: LayerCache, threads: ComputeThreads) {
        let first = streams.lowerBound
        let a = cache.hRow(t - 1, hidden: hidden) + first * hidden
        if cell == .gru {
            sgemm(transA: false, m: streams.count, alpha: 1, a: a, lda: hidden, packedB: recurrent, beta: 0,
                  c: cache.hiddenProjection!.pointer + first * gateRows, ldc: gateRows, threads: threads)
        } else {
            sgemm(transA: false, m: streams.count, alpha: 1, a: a, lda: hidden, packedB: recurrent, beta: 1,
                  c: cache.gates!.pointer + (t * cache.batch + first) * gateRows, ldc: gateRows, threads: threads)
        }
    }

    /// Calls `body` with disjoint ranges of streams (batch rows) covering 0..<batch, one per thread,
    /// cut at multiples of the GEMM's 6-row tile so that no thread gets a padded tile it can avoid.
    func forEachStreamRange(batch: Int, threads: ComputeThreads, _ body: (Range<Int>) -> Void) {
        let tile = GEMMBlocking.mr
        let units = (batch + tile - 1) / tile
        parallelRanges(units, threads: threads, grain: 1) { range in
            body(range.lowerBound * tile ..< min(batch, range.upperBound * tile))
        }
    }

    /// Backward through step t for `rows` adjoint rows, row r belonging to stream r % B.
    /// In: `dh` (rows, H) the total adjoint of h(t); for the LSTM `dc` (rows, H) the adjoint of c(t)
    /// arriving from step t+1. Out: `scratch.dGx`/`dGh` (rows, gH), `scratch.dhPrev` (rows, H) the
    /// adjoint of h(t-1) through this step, and for the LSTM `dc` becomes the adjoint of c(t-1) and
    /// `scratch.dcTotal` holds the total adjoint of c(t). `recurrent`, when given, is W_hh packed by
    /// `packRecurrentWeights(transposed: false)` from the current parameters.
    func backwardStep(params: UnsafeMutablePointer<Float>, cache: LayerCache, t: Int, rows: Int,
                      dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>?, scratch: BackwardScratch,
                      recurrent: SGEMMPackedB? = nil, threads: ComputeThreads = 1) {
        let dGx = FloatBuffer.ensure(&scratch.dGx, count: rows * gateRows)
        let dhPrev = FloatBuffer.ensure(&scratch.dhPrev, count: rows * hidden)
        let dcTotal = cell == .lstm ? FloatBuffer.ensure(&scratch.dcTotal, count: rows * hidden).pointer : nil
        let dGh = cell == .gru ? FloatBuffer.ensure(&scratch.dGh, count: rows * gateRows).pointer : nil
        backwardRows(params: params, cache: cache, t: t, rows: rows, firstStream: 0, dh: dh, dc: dc, dGx: dGx.pointer,
                     dGh: dGh, dhPrev: dhPrev.pointer, dcTotal: dcTotal, recurrent: recurrent, threads: threads)
    }

    /// `backwardStep` with its outputs given: rows r belong to stream (firstStream + r) % B; dGx and
    /// dGh (GRU only) are (rows, gH) with row stride gH, dhPrev and dcTotal (LSTM only) (rows, H).
    func backwardRows(params: UnsafeMutablePointer<Float>, cache: LayerCache, t: Int, rows: Int, firstStream: Int,
                      dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>?,
                      dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>?,
                      dhPrev: UnsafeMutablePointer<Float>, dcTotal: UnsafeMutablePointer<Float>?,
                      recurrent: SGEMMPackedB?, threads: ComputeThreads) {
        backwardGates(cache: cache, t: t, rows: rows, firstStream: firstStream, dh: dh, dc: dc, dGx: dGx, dGh: dGh,
                      dhPrev: dhPrev, dcTotal: dcTotal)
        backwardProduct(params: params, rows: rows, dGx: dGx, dGh: dGh, dhPrev: dhPrev, recurrent: recurrent,
                        threads: threads)
    }

    /// The gate arithmetic of `backwardRows`.
    func backwardGates(cache: LayerCache, t: Int, rows: Int, firstStream: Int,
                       dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>?,
                       dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>?,
                       dhPrev: UnsafeMutablePointer<Float>, dcTotal: UnsafeMutablePointer<Float>?) {
        switch cell {
        case .rnn:
            rnnBackwardStep(cache: cache, t: t, rows: rows, firstStream: firstStream, dh: dh, dGates: dGx)
        case .lstm:
            lstmBackwardStep(cache: cache, t: t, rows: rows, firstStream: firstStream, dh: dh, dc: dc!,
                             dcTotal: dcTotal!, dGates: dGx)
        case .gru:
            gruBackwardStep(cache: cache, t: t, rows: rows, firstStream: firstStream, dh: dh, dGx: dGx, dGh: dGh!,
                            dhDirect: dhPrev)
        }
    }

    /// The product of `backwardRows`: dh(t-1) = dG_h W_hh (+ the GRU's direct z * dh path, already
    /// in dhPrev).
    func backwardProduct(params: UnsafeMutablePointer<Float>, rows: Int, dGx: UnsafeMutablePointer<Float>,
                         dGh: UnsafeMutablePointer<Float>?, dhPrev: UnsafeMutablePointer<Float>,
                         recurrent: SGEMMPackedB?, threads: ComputeThreads) {
        let dGhPointer = cell == .gru ? dGh! : dGx
        if let recurrent {
            sgemm(transA: false, m: rows, alpha: 1, a: dGhPointer, lda: gateRows, packedB: recurrent,
                  beta: cell == .gru ? 1 : 0, c: dhPrev, ldc: hidden, threads: threads)
        } else {
            sgemm(transA: false, transB: false, m: rows, n: hidden, k: gateRows, alpha: 1,
                  a: dGhPointer, lda: gateRows, b: params + weightHH, ldb: hidden,
                  beta: cell == .gru ? 1 : 0, c: dhPrev, ldc: hidden, threads: threads)
        }
    }

    /// Full backward over the window, adding into `grads` (same layout as `params`).
    /// `dOutputs` (T*B, H): adjoints of the outputs from above. Returns nothing; writes
    /// the adjoint of the input into `dInput` (T*B, In) when given, except for a folded first layer
    /// (`cache.folded`), which adds its input's adjoint into the embedding's gradient itself. The
    /// final state's adjoint is zero (the carried state is detached between windows). `dhSquares`
    /// (T*B), when given, receives the squared norm of every row's total adjoint of h(t): the depth probe.
    func backward(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, cache: LayerCache,
                  dOutputs: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?, scratch: BackwardScratch,
                  dGatesAll: inout FloatBuffer?, dGhAll: inout FloatBuffer?,
                  threads: ComputeThreads, dhSquares: UnsafeMutablePointer<Float>? = nil) {
        let steps = cache.steps, batch = cache.batch, rowsAll = steps * batch
        let allX = FloatBuffer.ensure(&dGatesAll, count: rowsAll * gateRows)
        let allH = cell == .gru ? FloatBuffer.ensure(&dGhAll, count: rowsAll * gateRows) : allX
        let dh = FloatBuffer.ensure(&scratch.dh, count: batch * hidden)
        dh.zero()
        let dc = cell == .lstm ? FloatBuffer.ensure(&scratch.dc, count: batch * hidden) : nil
        dc?.zero()
        let dhPrev = FloatBuffer.ensure(&scratch.dhPrev, count: batch * hidden)
        let dcTotal = cell == .lstm ? FloatBuffer.ensure(&scratch.dcTotal, count: batch * hidden) : nil
        let recurrent = packRecurrentWeights(params, transposed: false, into: &scratch.recurrentWeights)
        // As in `forward`, each thread sweeps all T steps backwards for its own streams; the gate
        // adjoints land directly in their rows of the window-wide buffers.
        forEachStreamRange(batch: batch, threads: threads) { streams in
            let first = streams.lowerBound, n = streams.count
            let dhRows = dh.pointer + first * hidden, dhPrevRows = dhPrev.pointer + first * hidden
            for t in stride(from: steps - 1, through: 0, by: -1) {
                // Total adjoint of h(t): from the layer above at t, plus from step t+1.
                let above = dOutputs + (t * batch + first) * hidden
                for i in 0..<(n * hidden) { dhRows[i] += above[i] }
                if let dhSquares {
                    Elementwise.rowSumsOfSquares(dhRows, rows: n, width: hidden, into: dhSquares + t * batch + first)
                }
                let row = (t * batch + first) * gateRows
                backwardRows(params: params, cache: cache, t: t, rows: n, firstStream: first, dh: dhRows,
                             dc: dc.map { $0.pointer + first * hidden }, dGx: allX.pointer + row,
                             dGh: cell == .gru ? allH.pointer + row : nil, dhPrev: dhPrevRows,
                             dcTotal: dcTotal.map { $0.pointer + first * hidden }, recurrent: recurrent, threads: 1)
                dhRows.update(from: dhPrevRows, count: n * hidden)
            }
        }
        // Weight gradients for the whole window at once.
        if let folded = cache.folded {
            // dW_ih += dG^T X = S^T E and dE += S W_ih, where S[v] sums the gate adjoints of the
            // rows whose token is v (in row order; the columns are independent): V rows instead
            // of T*B in both products.
            let sums = cache.tokenTable!.pointer  // (V, gH), the forward's projected table no longer needed
            parallelRanges(gateRows, threads: threads, grain: 16) { columns in
                let first = columns.lowerBound, width = columns.count
                for v in 0..<folded.vocabulary { (sums + v * gateRows + first).update(repeating: 0, count: width) }
                for r in 0..<rowsAll {
                    Elementwise.axpy(1, allX.pointer + r * gateRows + first,
                                     sums + Int(folded.tokens[r]) * gateRows + first, count: width)
                }
            }
            sgemm(transA: true, transB: false, m: gateRows, n: inputSize, k: folded.vocabulary, alpha: 1,
                  a: sums, lda: gateRows, b: params + folded.offset, ldb: inputSize, beta: 1, c: grads + weightIH,
                  ldc: inputSize, threads: threads)
            sgemm(transA: false, transB: false, m: folded.vocabulary, n: inputSize, k: gateRows, alpha: 1,
                  a: sums, lda: gateRows, b: params + weightIH, ldb: inputSize, beta: 1, c: grads + folded.offset,
                  ldc: inputSize, threads: threads)
        } else {
            sgemm(transA: true, transB: false, m: gateRows, n: inputSize, k: rowsAll, alpha: 1,
                  a: allX.pointer, lda: gateRows, b: cache.input!.pointer, ldb: inputSize, beta: 1, c: grads + weightIH,
                  ldc: inputSize, threads: threads)
        }
        sgemm(transA: true, transB: false, m: gateRows, n: hidden, k: rowsAll, alpha: 1,
              a: allH.pointer, lda: gateRows, b: cache.h!.pointer, ldb: hidden, beta: 1, c: grads + weightHH, ldc: hidden, threads: threads)
        // Bias gradients: column sums, each column in row order.
        parallelRanges(gateRows, threads: threads, grain: max(8, 65_536 / rowsAll)) { columns in
            let first = columns.lowerBound
            Elementwise.addColumnSums(of: allX.pointer + first, rows: rowsAll, cols: columns.count, ld: gateRows,
                                      into: grads + biasIH + first)
            Elementwise.addColumnSums(of: allH.pointer + first, rows: rowsAll, cols: columns.count, ld: gateRows,
                                      into: grads + biasHH + first)
        }
        if let dInput, cache.folded == nil {
            sgemm(transA: false, transB: false, m: rowsAll, n: inputSize, k: gateRows, alpha: 1,
                  a: allX.pointer, lda: gateRows, b: params + weightIH, ldb: inputSize, beta: 0, c: dInput, ldc: inputSize, threads: threads)
        }
    }
}

// The scalar tanh of the LSTM's tanh(c) loop.
@inline(__always) func tanhf(_ x: Float) -> Float { Foundation.tanh(x) }
