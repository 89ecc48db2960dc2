// The GRU, PyTorch's gate order r, z, n:
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h(t) = (1 - z) * n + z * h(t-1)
// Shapes: B batch, H hidden; gates[t] is (B, 3H) = [resetGate | updateGate | candidate];
// aux[t] keeps W_hn h(t-1) + b_hn, which the reset gate multiplies.

extension RecurrentLayer {
    /// Step t for the streams `streams`, after `recurrentProduct` wrote h(t-1) W_hh^T into the
    /// hidden projection (kept apart because the reset gate scales its n-part; b_hh added here).
    func gruForwardStep(params: UnsafeMutablePointer<Float>, t: Int, streams: Range<Int>, cache: LayerCache) {
        let batch = cache.batch, g3 = 3 * hidden
        let pre = cache.gates!.pointer + t * batch * g3  // X W_ih^T + b_ih only
        let hp = cache.hiddenProjection!.pointer
        let hPrev = cache.hRow(t - 1, hidden: hidden), hNext = cache.hRow(t, hidden: hidden)
        let aux = cache.aux!.pointer + t * batch * hidden
        let bh = params + biasHH
        for b in streams {
            let row = pre + b * g3, hRow = hp + b * g3
            // r and z pre-activations, then their sigmoids over the contiguous 2H block
            for i in 0..<(2 * hidden) { row[i] += hRow[i] + bh[i] }
            Elementwise.sigmoid(row, count: 2 * hidden)
            // n = tanh(x_n + r * (W_hn h + b_hn))
            let hn = aux + b * hidden
            for u in 0..<hidden {
                hn[u] = hRow[2 * hidden + u] + bh[2 * hidden + u]
                row[2 * hidden + u] += row[u] * hn[u]
            }
            Elementwise.tanh(row + 2 * hidden, count: hidden)
            let hOld = hPrev + b * hidden, hNew = hNext + b * hidden
            for u in 0..<hidden {
                let updateGate = row[hidden + u]
                hNew[u] = (1 - updateGate) * row[2 * hidden + u] + updateGate * hOld[u]
            }
        }
    }

    /// Row r belongs to stream (firstStream + r) % B.
    /// Writes dGx (input side), dGh (hidden side: the n-part is scaled by r) and the direct path
    /// z * dh into `dhDirect`; the caller adds dGh W_hh to it.
    func gruBackwardStep(cache: LayerCache, t: Int, rows: Int, firstStream: Int, dh: UnsafeMutablePointer<Float>,
                         dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                         dhDirect: UnsafeMutablePointer<Float>) {
        let batch = cache.batch, g3 = 3 * hidden
        let gates = cache.gates!.pointer + t * batch * g3
        let aux = cache.aux!.pointer + t * batch * hidden
        let hPrev = cache.hRow(t - 1, hidden: hidden)
        for r in 0..<rows {
            let b = (firstStream + r) % batch
            let row = gates + b * g3, xRow = dGx + r * g3, hRow = dGh + r * g3
            for u in 0..<hidden {
                let k = r * hidden + u, kb = b * hidden + u
                let resetGate = row[u], updateGate = row[hidden + u], candidate = row[2 * hidden + u]
                let d = dh[k]
                // backprop through h = (1 - z) n + z h(t-1)
                let dCandidate = d * (1 - updateGate) * (1 - candidate * candidate)
                let dUpdate = d * (hPrev[kb] - candidate) * updateGate * (1 - updateGate)
                // backprop through n = tanh(. + r * hn) into the reset gate
                let dReset = dCandidate * aux[kb] * resetGate * (1 - resetGate)
                xRow[u] = dReset
                xRow[hidden + u] = dUpdate
                xRow[2 * hidden + u] = dCandidate
                hRow[u] = dReset
                hRow[hidden + u] = dUpdate
                hRow[2 * hidden + u] = dCandidate * resetGate
                dhDirect[k] = d * updateGate
            }
        }
    }
}
