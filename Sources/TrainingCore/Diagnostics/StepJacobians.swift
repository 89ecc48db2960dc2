import DiagnoseRecord

extension LanguageModel {
    /// The step Jacobian J(t) = d s(t) / d s(t-1) of one layer along stream `b` of the last forward
    /// pass, with s = h for rnn and gru and s = (h, c) (2H) for the LSTM. J[i][k] = d s_i(t) / d s_k(t-1).
    ///   rnn:  diag(sigma'(a(t))) W_hh
    ///   lstm: dc/dh = diag(c(t-1)) df/dh + diag(g) di/dh + diag(i) dg/dh,  dc/dc = diag(f),
    ///         dh/dh = diag(tanh c) do/dh + diag(o (1 - tanh^2 c)) dc/dh,   dh/dc = diag(o (1 - tanh^2 c) f)
    ///   gru:  dh/dh = diag(z) + diag(h(t-1) - n) dz/dh + diag(1 - z) dn/dh,
    ///         dn/dh = diag(1 - n^2) (diag(r) W_hn + diag(hn) dr/dh)
    /// where each gate's d gate / dh = diag(gate') W_gate.
    func stepJacobian(layer: RecurrentLayer, cache: LayerCache, t: Int, stream b: Int) -> DenseMatrix {
        let H = layer.hidden, B = cache.batch, g = layer.gateRows
        let w = parameters.pointer + layer.weightHH  // (gH, H)
        let gates = cache.gates!.pointer + (t * B + b) * g
        var j = [Double](repeating: 0, count: layer.stateSize * layer.stateSize)
        switch layer.cell {
        case .rnn:
            for i in 0..<H {
                let d = Double(layer.activationDerivative(output: gates[i]))
                for k in 0..<H { j[i * H + k] = d * Double(w[i * H + k]) }
            }
        case .lstm:
            let n = 2 * H
            let cPrev = cache.cRow(t - 1, hidden: H) + b * H
            let tanhC = cache.aux!.pointer + (t * B + b) * H
            for i in 0..<H {
                let inputGate = Double(gates[i]), forgetGate = Double(gates[H + i])
                let candidate = Double(gates[2 * H + i]), outputGate = Double(gates[3 * H + i])
                let tc = Double(tanhC[i])
                let dInput = inputGate * (1 - inputGate), dForget = forgetGate * (1 - forgetGate)
                let dCandidate = 1 - candidate * candidate, dOutput = outputGate * (1 - outputGate)
                let throughTanh = outputGate * (1 - tc * tc)
                for k in 0..<H {
                    let viaForget: Double = Double(cPrev[i]) * dForget * Double(w[(H + i) * H + k])
                    let viaInput: Double = candidate * dInput * Double(w[i * H + k])
                    let viaCandidate: Double = inputGate * dCandidate * Double(w[(2 * H + i) * H + k])
                    let dcdh = viaForget + viaInput + viaCandidate
                    let dodh = dOutput * Double(w[(3 * H + i) * H + k])
                    j[i * n + k] = tc * dodh + throughTanh * dcdh      // dh/dh
                    j[(H + i) * n + k] = dcdh                           // dc/dh
                }
                j[i * n + H + i] = throughTanh * forgetGate            // dh/dc
                j[(H + i) * n + H + i] = forgetGate                    // dc/dc
            }
        case .gru:
            let hPrev = cache.hRow(t - 1, hidden: H) + b * H
            let hn = cache.aux!.pointer + (t * B + b) * H
            for i in 0..<H {
                let resetGate = Double(gates[i]), updateGate = Double(gates[H + i]), candidate = Double(gates[2 * H + i])
                let dReset = resetGate * (1 - resetGate), dUpdate = updateGate * (1 - updateGate)
                let dCandidate = 1 - candidate * candidate
                for k in 0..<H {
                    let drdh = dReset * Double(w[i * H + k])
                    let dzdh = dUpdate * Double(w[(H + i) * H + k])
                    let dndh = dCandidate * (resetGate * Double(w[(2 * H + i) * H + k]) + Double(hn[i]) * drdh)
                    j[i * H + k] = (Double(hPrev[i]) - candidate) * dzdh + (1 - updateGate) * dndh
                }
                j[i * H + i] += updateGate
            }
        }
        return DenseMatrix(rows: layer.stateSize, cols: layer.stateSize, values: j)
    }

    /// Singular values of every step Jacobian along stream 0 and, from an accumulated QR
    /// factorisation, estimates of the leading singular values of their products J(l-1)...J(0)
    /// and the finite-time Lyapunov exponents (1/l) log sigma_i, for l = 1...T.
    func jacobianRecord(layer: RecurrentLayer, cache: LayerCache, leading: Int = 16) -> JacobianRecord {
        let n = layer.stateSize
        var accumulator = LyapunovAccumulator(size: n, count: min(n, leading))
        var stepValues: [[Double]] = []
        var products: [[Double]] = []
        var exponents: [[Double]] = []
        for t in 0..<cache.steps {
            let jacobian = stepJacobian(layer: layer, cache: cache, t: t, stream: 0)
            stepValues.append(LinearAlgebra.singularValues(of: jacobian))
            accumulator.push(jacobian)
            products.append(accumulator.productSingularValueEstimates)
            exponents.append(accumulator.lyapunovExponents)
        }
        return JacobianRecord(size: n, stepSingularValues: stepValues, productSingularValues: products,
                              lyapunovExponents: exponents)
    }
}
