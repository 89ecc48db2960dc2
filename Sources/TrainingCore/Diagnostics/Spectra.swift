import DiagnoseRecord

extension LanguageModel {
    /// Eigenvalues, singular values and spectral radius of a layer's recurrent matrix W_hh.
    /// For the simple RNN also the lecture's bound: with gamma = max sigma' (1 for tanh, relu and
    /// linear), rho(W_h) < 1 / gamma guarantees that the gradient vanishes with the lag.
    func spectrum(of layer: RecurrentLayer) -> SpectrumRecord {
        let H = layer.hidden
        let p = parameters.pointer + layer.weightHH
        func matrixSpectrum(_ name: String, offset: Int, rows: Int) -> MatrixSpectrum {
            let values = Array(UnsafeBufferPointer(start: p + offset, count: rows * H))
            let matrix = DenseMatrix(rows: rows, cols: H, floatValues: values)
            let singular = LinearAlgebra.singularValues(of: matrix)
            guard rows == H else {
                return MatrixSpectrum(matrix: name, eigenvalues: [], singularValues: singular, spectralRadius: .nan)
            }
            let eigen = LinearAlgebra.eigenvalues(of: matrix)
            return MatrixSpectrum(matrix: name, eigenvalues: eigen.map { [$0.re, $0.im] }, singularValues: singular,
                                  spectralRadius: eigen.map(\.modulus).max() ?? .nan)
        }
        if layer.cell == .rnn {
            let whole = matrixSpectrum("W_hh", offset: 0, rows: H)
            let gamma = layer.activation.maxDerivative
            return SpectrumRecord(whole: whole, blocks: [], gamma: gamma,
                                  vanishingGuaranteed: whole.spectralRadius < 1 / gamma)
        }
        let blocks = layer.cell.gateNames.enumerated().map { g, name in
            matrixSpectrum(name, offset: g * H * H, rows: H)
        }
        var whole = matrixSpectrum("W_hh", offset: 0, rows: layer.gateRows)
        whole.spectralRadius = blocks.map(\.spectralRadius).max() ?? .nan
        return SpectrumRecord(whole: whole, blocks: blocks, gamma: nil, vanishingGuaranteed: nil)
    }
}
