// Eigenvalues of a general real square matrix: balance, reduce to upper Hessenberg form with
// Householder reflections, then run the implicitly shifted (Francis double-shift) QR iteration
// with deflation until the matrix is quasi-triangular (1x1 and 2x2 blocks on the diagonal).

import Foundation

extension LinearAlgebra {
    /// All n eigenvalues λ of a real n x n matrix A (A v = λ v), sorted by decreasing |λ|
    /// (ties: larger real part first, then positive imaginary part first). Complex eigenvalues
    /// come in conjugate pairs λ, λ̄.
    ///
    /// Method: optional balancing D⁻¹AD with D a diagonal of powers of 2 (exact, and it makes
    /// row and column norms comparable, which is what the backward error is measured against);
    /// Hessenberg reduction H = QᵀAQ by n - 2 Householder reflections; Francis double-shift QR
    /// steps on the active block of H, each chasing a 3 x 3 bulge down the subdiagonal, with the
    /// shifts the two eigenvalues of the trailing 2 x 2 block (exceptional shifts every 10
    /// iterations without a deflation). Cost about 10 n³ flops.
    ///
    /// Accuracy: backward stable, so a simple eigenvalue moves by about ε‖A‖ times its
    /// condition number; an eigenvalue in a Jordan block of size k moves by about (ε‖A‖)^(1/k).
    /// If A has a NaN or infinite entry, or a block fails to converge in 30 * 10 iterations,
    /// the affected eigenvalues are NaN.
    public static func eigenvalues(of a: DenseMatrix, balance: Bool = true) -> [ComplexValue] {
        precondition(a.isSquare, "eigenvalues(of:) needs a square matrix, got \(a.rows) x \(a.cols)")
        let n = a.rows
        if n == 0 { return [] }
        let scale = largestMagnitude(a.values)
        if scale.isNaN { return [ComplexValue](repeating: .nan, count: n) }
        if scale == 0 { return [ComplexValue](repeating: ComplexValue(re: 0), count: n) }

        var h = a.values
        for i in h.indices { h[i] /= scale }
        if balance { balanceInPlace(&h, n: n) }
        reduceToHessenberg(&h, n: n)
        var lambda = hessenbergEigenvalues(&h, n: n)
        for i in lambda.indices {
            lambda[i].re *= scale
            lambda[i].im *= scale
        }
        return sortedByModulus(lambda)
    }

    /// ρ(A) = max |λ_i(A)|, the spectral radius; NaN when A is not finite.
    public static func spectralRadius(of a: DenseMatrix) -> Double {
        eigenvalues(of: a).first?.modulus ?? 0
    }

    static func sortedByModulus(_ values: [ComplexValue]) -> [ComplexValue] {
        values.map { ($0.modulus, $0) }.sorted { x, y in
            if x.0 != y.0 { return x.0 > y.0 || (y.0.isNaN && !x.0.isNaN) }
            if x.1.re != y.1.re { return x.1.re > y.1.re }
            return x.1.im > y.1.im
        }.map { $0.1 }
    }

    /// Parlett-Reinsch balancing: repeatedly pick d_i (a power of 2) so that row i and column i
    /// of D⁻¹AD have comparable 1-norms (off-diagonal parts), until no d_i changes the sum of the
    /// two norms by 5 %. Powers of 2 make the similarity exact in floating point.
    static func balanceInPlace(_ h: inout [Double], n: Int) {
        var changed = true
        var sweeps = 0
        while changed && sweeps < 100 {
            changed = false
            sweeps += 1
            for i in 0..<n {
                var colNorm = 0.0, rowNorm = 0.0
                for j in 0..<n where j != i {
                    colNorm += abs(h[j * n + i])
                    rowNorm += abs(h[i * n + j])
                }
                if colNorm == 0 || rowNorm == 0 { continue }
                // Find f = 2^p with colNorm * f ≈ rowNorm / f.
                let total = colNorm + rowNorm
                var f = 1.0
                var c = colNorm
                while c < rowNorm / 2 { f *= 2; c *= 4 }
                while c > rowNorm * 2 { f /= 2; c /= 4 }
                if (c + rowNorm) / f < 0.95 * total {
                    changed = true
                    let g = 1 / f
                    for j in 0..<n { h[i * n + j] *= g }
                    for j in 0..<n { h[j * n + i] *= f }
                }
            }
        }
    }

    /// H = QᵀAQ upper Hessenberg (zero below the first subdiagonal), in place. Step k builds the
    /// reflector P that zeroes column k below row k + 1 and applies it from both sides:
    /// rows k+1..<n from the left (w = vᵀA then A -= β v w, both passes along rows),
    /// all rows from the right (s_i = A_i· v then A_i· -= β s_i vᵀ, also along rows).
    static func reduceToHessenberg(_ h: inout [Double], n: Int) {
        guard n > 2 else { return }
        var v = [Double](repeating: 0, count: n)
        var w = [Double](repeating: 0, count: n)
        for k in 0..<(n - 2) {
            let start = k + 1, len = n - start
            var tail = 0.0
            for i in (start + 1)..<n { tail += h[i * n + k] * h[i * n + k] }
            let (alpha, v0, beta) = reflector(head: h[start * n + k], tailSquaredNorm: tail)
            if beta == 0 { continue }
            v[start] = v0
            for i in (start + 1)..<n { v[i] = h[i * n + k] }
            h[start * n + k] = alpha
            for i in (start + 1)..<n { h[i * n + k] = 0 }

            // Left: rows start..<n, columns start..<n (column k is done above).
            for j in start..<n { w[j] = 0 }
            for i in start..<n {
                addScaled(v[i], h, i * n + start, to: &w, start, count: len)
            }
            for i in start..<n {
                let f = -beta * v[i]
                let row = i * n
                for j in start..<n { h[row + j] += f * w[j] }
            }
            // Right: every row, columns start..<n.
            for i in 0..<n {
                let row = i * n
                let f = -beta * dot(h, row + start, v, start, count: len)
                addScaled(f, v, start, to: &h, row + start, count: len)
            }
        }
    }

    /// Eigenvalues of an upper Hessenberg matrix (row-major, n x n) by the Francis double-shift
    /// QR iteration, working only on the active unreduced block, since only eigenvalues are
    /// wanted. Destroys h.
    static func hessenbergEigenvalues(_ h: inout [Double], n: Int) -> [ComplexValue] {
        var lambda = [ComplexValue](repeating: .nan, count: n)
        let eps = epsilon
        // A norm for the deflation test when both neighbouring diagonal entries are zero.
        var norm = 0.0
        for i in 0..<n {
            for j in max(0, i - 1)..<n { norm += abs(h[i * n + j]) }
        }
        let maxIterations = 30 * 10

        var hi = n - 1
        var iterations = 0
        while hi >= 0 {
            // Find lo, the top of the unreduced block ending at hi: h[lo, lo-1] negligible.
            var lo = hi
            while lo > 0 {
                var s = abs(h[(lo - 1) * n + lo - 1]) + abs(h[lo * n + lo])
                if s == 0 { s = norm }
                if abs(h[lo * n + lo - 1]) <= eps * s {
                    h[lo * n + lo - 1] = 0
                    break
                }
                lo -= 1
            }
            if lo == hi {
                lambda[hi] = ComplexValue(re: h[hi * n + hi])
                hi -= 1
                iterations = 0
                continue
            }
            if lo == hi - 1 {
                let (l1, l2) = eigenvaluesOf2x2(h[lo * n + lo], h[lo * n + hi], h[hi * n + lo], h[hi * n + hi])
                lambda[lo] = l1
                lambda[hi] = l2
                hi -= 2
                iterations = 0
                continue
            }
            if iterations == maxIterations {
                // No convergence: give up on this block and leave its eigenvalues NaN.
                hi = lo - 1
                iterations = 0
                continue
            }
            iterations += 1
            francisStep(&h, n: n, lo: lo, hi: hi, exceptional: iterations % 10 == 0)
        }
        return lambda
    }

    /// One double-shift QR step on the unreduced block lo...hi of H (hi - lo ≥ 2).
    ///
    /// With shifts σ₁, σ₂ the eigenvalues of the trailing 2 x 2 block (sum t, product d), the
    /// first column of (H - σ₁)(H - σ₂) = H² - tH + d has only three non-zeros (x, y, z). A
    /// reflector P₀ mapping them to a multiple of e₁ creates a bulge below the subdiagonal;
    /// reflectors P₁, P₂, ... on rows k..k+2 push it down and off the bottom. By the implicit Q
    /// theorem the result equals one step of explicitly shifted QR with both shifts, while
    /// staying in real arithmetic. The step starts at the lowest row m ≥ lo where the bulge
    /// would not disturb the small subdiagonal h[m, m-1] noticeably (two small consecutive
    /// subdiagonals act like a split).
    static func francisStep(_ h: inout [Double], n: Int, lo: Int, hi: Int, exceptional: Bool) {
        let eps = epsilon
        var t: Double   // σ₁ + σ₂
        var d: Double   // σ₁ σ₂
        if exceptional {
            // Ad hoc shifts (0.75 ± 0.66i) s, s the size of the last two subdiagonals, that
            // break the cycles the standard shifts can fall into.
            let s = abs(h[hi * n + hi - 1]) + abs(h[(hi - 1) * n + hi - 2])
            t = 1.5 * s
            d = s * s
        } else {
            let a = h[(hi - 1) * n + hi - 1], b = h[(hi - 1) * n + hi]
            let c = h[hi * n + hi - 1], e = h[hi * n + hi]
            t = a + e
            d = a * e - b * c
        }

        // First column of H² - tH + d at row m, scanning m upward from hi - 2.
        var m = hi - 2
        var x = 0.0, y = 0.0, z = 0.0
        while true {
            let hmm = h[m * n + m], hm1m = h[(m + 1) * n + m]
            let hmm1 = h[m * n + m + 1], hm1m1 = h[(m + 1) * n + m + 1]
            x = hmm * hmm + hmm1 * hm1m - t * hmm + d
            y = hm1m * (hmm + hm1m1 - t)
            z = hm1m * h[(m + 2) * n + m + 1]
            let s = abs(x) + abs(y) + abs(z)
            if s != 0 { x /= s; y /= s; z /= s }
            if m == lo { break }
            // Starting at m ignores the fill h[m, m-1] * (y, z) the first reflector would make.
            let fill = abs(h[m * n + m - 1]) * (abs(y) + abs(z))
            let size = abs(x) * (abs(h[(m - 1) * n + m - 1]) + abs(hmm) + abs(hm1m1))
            if fill <= eps * size { break }
            m -= 1
        }

        for k in m..<(hi) {
            let three = k < hi - 1   // the last reflector acts on two rows only
            if k > m {
                x = h[k * n + k - 1]
                y = h[(k + 1) * n + k - 1]
                z = three ? h[(k + 2) * n + k - 1] : 0
            }
            let scale = abs(x) + abs(y) + abs(z)
            if scale == 0 { continue }
            let p = x / scale, q = y / scale, r = z / scale
            let norm = (p * p + q * q + r * r).squareRoot()
            let s = p >= 0 ? norm : -norm
            // P = I - τ u uᵀ with u = (1, u₂, u₃) maps (p, q, r) to (-s, 0, 0).
            let tau = (p + s) / s
            let u2 = q / (p + s), u3 = r / (p + s)
            if k > m {
                h[k * n + k - 1] = -s * scale
                h[(k + 1) * n + k - 1] = 0
                if three { h[(k + 2) * n + k - 1] = 0 }
            } else if m > lo {
                // Column m-1 has only h[m, m-1] in these rows; its fill is the neglected part.
                h[m * n + m - 1] *= 1 - tau
            }
            // Rows k, k+1, k+2 from the left, columns k...hi.
            let r0 = k * n, r1 = (k + 1) * n, r2 = (k + 2) * n
            if three {
                for j in k...hi {
                    let v = tau * (h[r0 + j] + u2 * h[r1 + j] + u3 * h[r2 + j])
                    h[r0 + j] -= v
                    h[r1 + j] -= v * u2
                    h[r2 + j] -= v * u3
                }
            } else {
                for j in k...hi {
                    let v = tau * (h[r0 + j] + u2 * h[r1 + j])
                    h[r0 + j] -= v
                    h[r1 + j] -= v * u2
                }
            }
            // Columns k, k+1, k+2 from the right, rows lo...min(k+3, hi).
            let last = min(k + 3, hi)
            if three {
                for i in lo...last {
                    let row = i * n
                    let v = tau * (h[row + k] + u2 * h[row + k + 1] + u3 * h[row + k + 2])
                    h[row + k] -= v
                    h[row + k + 1] -= v * u2
                    h[row + k + 2] -= v * u3
                }
            } else {
                for i in lo...last {
                    let row = i * n
                    let v = tau * (h[row + k] + u2 * h[row + k + 1])
                    h[row + k] -= v
                    h[row + k + 1] -= v * u2
                }
            }
        }
    }

    /// Eigenvalues of [a b; c d]: (a + d)/2 ± sqrt(((a - d)/2)² + bc). Real roots are formed as
    /// d + z and d - bc/z with z = p + sign(p) sqrt(disc), which avoids cancellation.
    static func eigenvaluesOf2x2(_ a: Double, _ b: Double, _ c: Double, _ d: Double)
        -> (ComplexValue, ComplexValue) {
        let p = (a - d) / 2
        let bc = b * c
        let disc = p * p + bc
        if disc >= 0 {
            let root = disc.squareRoot()
            let z = p >= 0 ? p + root : p - root
            if z == 0 { return (ComplexValue(re: d), ComplexValue(re: d)) }
            return (ComplexValue(re: d + z), ComplexValue(re: d - bc / z))
        }
        let re = d + p, im = (-disc).squareRoot()
        return (ComplexValue(re: re, im: im), ComplexValue(re: re, im: -im))
    }
}
