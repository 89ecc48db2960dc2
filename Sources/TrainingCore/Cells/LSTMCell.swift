// The LSTM, PyTorch's gate order i, f, g, o:
//   i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.)   over W_ih x + b_ih + W_hh h + b_hh
//   c(t) = f * c(t-1) + i * g,   h(t) = o * tanh(c(t))
// Shapes: B batch, H hidden; gates[t] is (B, 4H) = [inputGate | forgetGate | candidate | outputGate].

extension RecurrentLayer {
    /// Step t for the streams `streams`, after `recurrentProduct` (see `rnnForwardStep`).
    func lstmForwardStep(t: Int, streams: Range<Int>, cache: LayerCache) {
        let batch = cache.batch, g4 = 4 * hidden
        let pre = cache.gates!.pointer + t * batch * g4
        let cPrev = cache.cRow(t - 1, hidden: hidden), cNext = cache.cRow(t, hidden: hidden)
        let hNext = cache.hRow(t, hidden: hidden)
        let tanhC = cache.aux!.pointer + t * batch * hidden
        for b in streams {
            // The gates' nonlinearities, c(t) = f * c(t-1) + i * g and h(t) = o * tanh(c(t)), in one pass.
            let u = b * hidden
            Elementwise.lstmCell(gates: pre + b * g4, cPrev: cPrev + u, c: cNext + u, tanhC: tanhC + u, h: hNext + u,
                                 hidden: hidden)
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
            // Sixteen units at a time where the target has 16-lane registers, then eight, then one:
            // the same expression per element whatever the width.
            @inline(__always) func units<V: SIMD>(_: V.Type, _ u: Int) where V.Scalar == Float {
                @inline(__always) func get(_ p: UnsafePointer<Float>) -> V {
                    UnsafeRawPointer(p).loadUnaligned(as: V.self)
                }
                @inline(__always) func put(_ v: V, _ p: UnsafeMutablePointer<Float>) {
                    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
                }
                let k = r * hidden + u, kb = b * hidden + u
                let inputGate = get(row + u), forgetGate = get(row + hidden + u)
                let candidate = get(row + 2 * hidden + u), outputGate = get(row + 3 * hidden + u)
                let tc = get(tanhC + kb), dhK = get(dh + k)
                let dcT = get(dc + k) + dhK * outputGate * (1 - tc * tc)
                put(dcT, dcTotal + k)
                put(dcT * candidate * inputGate * (1 - inputGate), dRow + u)
                put(dcT * get(cPrev + kb) * forgetGate * (1 - forgetGate), dRow + hidden + u)
                put(dcT * inputGate * (1 - candidate * candidate), dRow + 2 * hidden + u)
                put(dhK * tc * outputGate * (1 - outputGate), dRow + 3 * hidden + u)
                put(dcT * forgetGate, dc + k)
            }
            var u = 0
            if GEMMBlocking.wideTile {
                while u + 16 <= hidden { units(SIMD16<Float>.self, u); u += 16 }
            }
            while u + 8 <= hidden { units(SIMD8<Float>.self, u); u += 8 }
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
