// Eigenvalues of a real symmetric matrix: Householder tridiagonalisation, then implicitly
// shifted QR (Wilkinson shift) on the tridiagonal matrix.

import Foundation

extension LinearAlgebra {
    /// The n real eigenvalues λ₁ ≥ ... ≥ λ_n of a symmetric n x n matrix A. Only the symmetric
    /// part (A + Aᵀ)/2 is used, so a slightly asymmetric input (rounding) is harmless.
    ///
    /// Method: T = QᵀAQ tridiagonal by n - 2 Householder reflections, each applied as the
    /// rank-2 update S -= v wᵀ + w vᵀ (p = βSv, w = p - (β/2)(vᵀp) v); then implicit QR steps
    /// on T, each one rotation chase from the top of the unreduced block with the Wilkinson
    /// shift (the eigenvalue of the trailing 2 x 2 block nearer the corner), which converges
    /// cubically in practice. Each λ_i is within a small multiple of ε‖A‖ of the exact one.
    /// Returns NaNs for non-finite input or if the iteration does not converge.
    public static func symmetricEigenvalues(of a: DenseMatrix) -> [Double] {
        precondition(a.isSquare, "symmetricEigenvalues(of:) needs a square matrix, got \(a.rows) x \(a.cols)")
        let n = a.rows
        if n == 0 { return [] }
        let scale = largestMagnitude(a.values)
        if scale.isNaN { return [Double](repeating: .nan, count: n) }
        if scale == 0 { return [Double](repeating: 0, count: n) }

        var s = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n { s[i * n + j] = (a[i, j] + a[j, i]) / (2 * scale) }
        }
        var (d, e) = tridiagonalize(&s, n: n)
        guard tridiagonalEigenvaluesInPlace(&d, &e) else { return [Double](repeating: .nan, count: n) }
        return d.map { $0 * scale }.sorted(by: >)
    }

    /// Diagonal d and subdiagonal e of T = QᵀSQ for a symmetric row-major S. Destroys s.
    static func tridiagonalize(_ s: inout [Double], n: Int) -> (d: [Double], e: [Double]) {
        var d = [Double](repeating: 0, count: n)
        var e = [Double](repeating: 0, count: max(n - 1, 0))
        var v = [Double](repeating: 0, count: n)
        var p = [Double](repeating: 0, count: n)
        for k in 0..<max(n - 2, 0) {
            d[k] = s[k * n + k]
            let start = k + 1, len = n - start
            var tail = 0.0
            for i in (start + 1)..<n { tail += s[i * n + k] * s[i * n + k] }
            let (alpha, v0, beta) = reflector(head: s[start * n + k], tailSquaredNorm: tail)
            e[k] = alpha
            if beta == 0 { continue }
            v[start] = v0
            for i in (start + 1)..<n { v[i] = s[i * n + k] }
            // p = β S v and K = (β/2) vᵀp on the trailing block.
            var vp = 0.0
            for i in start..<n {
                p[i] = beta * dot(s, i * n + start, v, start, count: len)
                vp += v[i] * p[i]
            }
            let half = beta * vp / 2
            for i in start..<n { p[i] -= half * v[i] }   // p becomes w
            // S -= v wᵀ + w vᵀ, row by row.
            for i in start..<n {
                let row = i * n + start
                addScaled(-v[i], p, start, to: &s, row, count: len)
                addScaled(-p[i], v, start, to: &s, row, count: len)
            }
        }
        if n >= 2 {
            d[n - 2] = s[(n - 2) * n + n - 2]
            e[n - 2] = s[(n - 1) * n + n - 2]
        }
        d[n - 1] = s[(n - 1) * n + n - 1]
        return (d, e)
    }

    /// Eigenvalues of the symmetric tridiagonal matrix with diagonal d and off-diagonal e, left in
    /// d (unordered). Returns false if some block needed more than 30 steps per eigenvalue.
    static func tridiagonalEigenvaluesInPlace(_ d: inout [Double], _ e: inout [Double]) -> Bool {
        let n = d.count
        var tNorm = 0.0
        for i in 0..<n {
            tNorm = max(tNorm, abs(d[i]) + (i > 0 ? abs(e[i - 1]) : 0) + (i < n - 1 ? abs(e[i]) : 0))
        }
        let eps = epsilon
        func negligible(_ i: Int) -> Bool {
            let x = abs(e[i])
            return x <= eps * (abs(d[i]) + abs(d[i + 1])) || x <= eps * tNorm
        }
        let maxSteps = 30 * n + 100
        var steps = 0
        var hi = n - 1
        while hi > 0 {
            if negligible(hi - 1) {
                e[hi - 1] = 0
                hi -= 1
                continue
            }
            var lo = hi - 1
            while lo > 0 && !negligible(lo - 1) { lo -= 1 }
            if lo > 0 { e[lo - 1] = 0 }
            if steps == maxSteps { return false }
            steps += 1

            // Wilkinson shift: the eigenvalue of [d_{hi-1} e; e d_hi] nearer d_hi.
            let delta = (d[hi - 1] - d[hi]) / 2, corner = e[hi - 1]
            let root = (delta * delta + corner * corner).squareRoot()
            let mu = d[hi] - corner * corner / (delta >= 0 ? delta + root : delta - root)

            // Rotations G_k on (k, k+1): T ← G_k T G_kᵀ, chasing the bulge at (k+2, k) down.
            var x = d[lo] - mu, z = e[lo]
            for k in lo..<hi {
                let (c, s, r) = rotation(x, z)
                if k > lo { e[k - 1] = r }
                let a = d[k], off = e[k], b = d[k + 1]
                d[k] = c * c * a + 2 * c * s * off + s * s * b
                d[k + 1] = s * s * a - 2 * c * s * off + c * c * b
                e[k] = c * s * (b - a) + (c * c - s * s) * off
                if k < hi - 1 {
                    x = e[k]
                    z = s * e[k + 1]
                    e[k + 1] *= c
                }
            }
        }
        return true
    }
}
