// The simple (Elman) RNN: h(t) = sigma(W_ih x(t) + b_ih + W_hh h(t-1) + b_hh).
// Shapes: B batch, H hidden; gates[t] holds h(t) itself (the activation's output).

extension RecurrentLayer {
    /// sigma'(a) written through the output y = sigma(a).
    @inline(__always) func activationDerivative(output y: Float) -> Float {
        switch activation {
        case .tanh: return 1 - y * y
        case .relu: return y > 0 ? 1 : 0
        case .linear: return 1
        }
    }

    /// Step t for the streams `streams` (a range of batch rows; the rows of different streams never
    /// interact, so ranges can run on different threads), after `recurrentProduct` added
    /// h(t-1) W_hh^T to the pre-activations.
    func rnnForwardStep(t: Int, streams: Range<Int>, cache: LayerCache) {
        let batch = cache.batch, first = streams.lowerBound
        let pre = cache.gates!.pointer + (t * batch + first) * hidden  // X W_ih^T + biases + h W_hh^T
        let out = cache.hRow(t, hidden: hidden) + first * hidden, count = streams.count * hidden
        switch activation {
        case .tanh: Elementwise.tanh(pre, count: count)
        case .relu: Elementwise.relu(pre, count: count)
        case .linear: break
        }
        out.update(from: pre, count: count)
    }

    /// Row r of `dh` and `dGates` belongs to stream (firstStream + r) % B.
    func rnnBackwardStep(cache: LayerCache, t: Int, rows: Int, firstStream: Int, dh: UnsafeMutablePointer<Float>,
                         dGates: UnsafeMutablePointer<Float>) {
        let batch = cache.batch
        let outputs = cache.gates!.pointer + t * batch * hidden
        for r in 0..<rows {
            let y = outputs + ((firstStream + r) % batch) * hidden
            let dhRow = dh + r * hidden, dRow = dGates + r * hidden
            // backprop through the nonlinearity: da = dh * sigma'(a)
            switch activation {
            case .tanh: Elementwise.tanhBackward(output: y, gradient: dhRow, into: dRow, count: hidden)
            case .relu, .linear:
                for i in 0..<hidden { dRow[i] = dhRow[i] * activationDerivative(output: y[i]) }
            }
        }
    }
}
