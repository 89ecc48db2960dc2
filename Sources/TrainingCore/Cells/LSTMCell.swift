// The LSTM, PyTorch's gate order i, f, g, o:
//   i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.)   over W_ih x + b_ih + W_hh h + b_hh
//   c(t) = f * c(t-1) + i * g,   h(t) = o * tanh(c(t))
// Shapes: B batch, H hidden; gates[t] is (B, 4H) = [inputGate | forgetGate | candidate | outputGate].

extension RecurrentLayer {
    /// Step t for the streams `streams`, after `recurrentProduct` (see `rnnForwardStep`).
    func lstmForwardStep(t: Int, streams: Range<Int>, cache: LayerCache) {
        let batch = cache.batch, g4 = 4 * hidden, first = streams.lowerBound
        let pre = cache.gates!.pointer + t * batch * g4
        let cPrev = cache.cRow(t - 1, hidden: hidden), cNext = cache.cRow(t, hidden: hidden)
        let hNext = cache.hRow(t, hidden: hidden)
        let tanhC = cache.aux!.pointer + t * batch * hidden
        for b in streams {
            // The gates' nonlinearities, vectorised over contiguous blocks: [i f] sigmoid, g tanh, o sigmoid.
            let row = pre + b * g4
            Elementwise.sigmoid(row, count: 2 * hidden)
            Elementwise.tanh(row + 2 * hidden, count: hidden)
            Elementwise.sigmoid(row + 3 * hidden, count: hidden)
            // c(t) = f * c(t-1) + i * g
            let c = cNext + b * hidden, cp = cPrev + b * hidden
            for u in 0..<hidden {
                c[u] = row[hidden + u] * cp[u] + row[u] * row[2 * hidden + u]
            }
        }
        // h(t) = o * tanh(c(t))
        Elementwise.tanh(cNext + first * hidden, into: tanhC + first * hidden, count: streams.count * hidden)
        for b in streams {
            let o = pre + b * g4 + 3 * hidden, tc = tanhC + b * hidden, h = hNext + b * hidden
            for u in 0..<hidden { h[u] = o[u] * tc[u] }
        }
    }

    /// Row r belongs to stream (firstStream + r) % B.
    func lstmBackwardStep(cache: LayerCache, t: Int, rows: Int, firstStream: Int, dh: UnsafeMutablePointer<Float>,
                          dc: UnsafeMutablePointer<Float>, dcTotal: UnsafeMutablePointer<Float>,
                          dGates: UnsafeMutablePointer<Float>) {
        let batch = cache.batch, g4 = 4 * hidden
        let gates = cache.gates!.pointer + t * batch * g4
        let cPrev = cache.cRow(t - 1, hidden: hidden)
        let tanhC = cache.aux!.pointer + t * batch * hidden
        for r in 0..<rows {
            let b = (firstStream + r) % batch
            let row = gates + b * g4, dRow = dGates + r * g4
            // Eight units at a time, then one at a time: the same expression per element either way.
            var u = 0
            while u + 8 <= hidden {
                let k = r * hidden + u, kb = b * hidden + u
                let inputGate = lanes(row + u), forgetGate = lanes(row + hidden + u)
                let candidate = lanes(row + 2 * hidden + u), outputGate = lanes(row + 3 * hidden + u)
                let tc = lanes(tanhC + kb), dhK = lanes(dh + k)
                let dcT = lanes(dc + k) + dhK * outputGate * (1 - tc * tc)
                store(dcT, dcTotal + k)
                store(dcT * candidate * inputGate * (1 - inputGate), dRow + u)
                store(dcT * lanes(cPrev + kb) * forgetGate * (1 - forgetGate), dRow + hidden + u)
                store(dcT * inputGate * (1 - candidate * candidate), dRow + 2 * hidden + u)
                store(dhK * tc * outputGate * (1 - outputGate), dRow + 3 * hidden + u)
                store(dcT * forgetGate, dc + k)
                u += 8
            }
            while u < hidden {
                let k = r * hidden + u, kb = b * hidden + u
                let inputGate = row[u], forgetGate = row[hidden + u]
                let candidate = row[2 * hidden + u], outputGate = row[3 * hidden + u]
                let tc = tanhC[kb]
                // backprop through h = o * tanh(c): into c(t), added to what arrives from c(t+1)
                let dcT = dc[k] + dh[k] * outputGate * (1 - tc * tc)
                dcTotal[k] = dcT
                // backprop through c = f * c(t-1) + i * g, then through each gate's nonlinearity
                dRow[u] = dcT * candidate * inputGate * (1 - inputGate)
                dRow[hidden + u] = dcT * cPrev[kb] * forgetGate * (1 - forgetGate)
                dRow[2 * hidden + u] = dcT * inputGate * (1 - candidate * candidate)
                dRow[3 * hidden + u] = dh[k] * tc * outputGate * (1 - outputGate)
                // the cell path: dc(t-1) = dc(t) * f
                dc[k] = dcT * forgetGate
                u += 1
            }
        }
    }
}

/// Eight consecutive floats.
@inline(__always) private func lanes(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}
