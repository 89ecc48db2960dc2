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
    /// If A has a NaN or infinite entry, all eigenvalues are NaN; if a block fails to deflate
    /// within 300 QR steps (never seen in practice), its eigenvalues are NaN.
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
    /// reflector P = I - β v vᵀ that zeroes column k below row k + 1 and applies it from both
    /// sides. Done naively that is three passes over the matrix (w = vᵀA, A -= β v wᵀ, then
    /// A -= (A v) β vᵀ); here it is two, each touching a row once while it is in cache:
    /// - pass 1, every row i: A_i -= β v_i w (rows below k only), then s_i = β A_i·v;
    /// - between passes: column k+1 after the right update is A_{i,k+1} - s_i v_{k+1}, which
    ///   gives the next reflector v' without touching the matrix;
    /// - pass 2, every row i: A_i -= s_i vᵀ, then w' += v'_i A_i (the next step's vᵀA).
    static func reduceToHessenberg(_ h: inout [Double], n: Int) {
        guard n > 2 else { return }
        var v = [Double](repeating: 0, count: n)       // this step's reflector, indexed by row/column
        var vNext = [Double](repeating: 0, count: n)   // the next step's
        var w = [Double](repeating: 0, count: n)       // vᵀA, indexed by column
        var s = [Double](repeating: 0, count: n)       // β A v, indexed by row

        // The reflector for column 0 and its w, before the fused loop.
        var tail = 0.0
        for i in 1..<n { v[i] = h[i * n]; if i > 1 { tail = tail.addingProduct(v[i], v[i]) } }
        let first = reflector(head: v[1], tailSquaredNorm: tail)
        var beta = first.beta
        if beta != 0 {
            v[1] = first.v0
            h[n] = first.alpha
            for i in 2..<n { h[i * n] = 0 }
            for i in 1..<n { addScaled(v[i], h, i * n + 1, to: &w, 1, count: n - 1) }
        }

        for k in 0..<(n - 2) {
            let start = k + 1, len = n - start
            // Pass 1: left update of rows start..<n, then s = β A v for every row.
            if beta != 0 {
                for i in 0..<n {
                    let row = i * n + start
                    if i >= start { addScaled(-beta * v[i], w, start, to: &h, row, count: len) }
                    s[i] = beta * dot(h, row, v, start, count: len)
                }
            }
            // The next reflector, from column start (rows start+1..<n) after the right update.
            let next = start, nextStart = start + 1, nextLen = n - nextStart
            var nextBeta = 0.0, nextAlpha = 0.0
            if next < n - 2 {
                tail = 0
                for i in nextStart..<n {
                    let x = beta != 0 ? h[i * n + next] - s[i] * v[next] : h[i * n + next]
                    vNext[i] = x
                    if i > nextStart { tail = tail.addingProduct(x, x) }
                }
                let r = reflector(head: vNext[nextStart], tailSquaredNorm: tail)
                nextBeta = r.beta
                nextAlpha = r.alpha
                vNext[nextStart] = r.v0
                if nextBeta != 0 { for j in nextStart..<n { w[j] = 0 } }
            }
            // Pass 2: right update of every row, accumulating the next w.
            if beta != 0 || nextBeta != 0 {
                for i in 0..<n {
                    if beta != 0 { addScaled(-s[i], v, start, to: &h, i * n + start, count: len) }
                    if nextBeta != 0 && i >= nextStart {
                        addScaled(vNext[i], h, i * n + nextStart, to: &w, nextStart, count: nextLen)
                    }
                }
            }
            if nextBeta != 0 {
                h[nextStart * n + next] = nextAlpha
                for i in (nextStart + 1)..<n { h[i * n + next] = 0 }
            }
            swap(&v, &vNext)
            beta = nextBeta
        }
    }

    /// Eigenvalues of an upper Hessenberg matrix (row-major, n x n) by the Francis double-shift
    /// QR iteration, working only on the active unreduced block, since only eigenvalues are
    /// wanted. Destroys h.
    static func hessenbergEigenvalues(_ h: inout [Double], n: Int) -> [ComplexValue] {
        var lambda = [ComplexValue](repeating: .nan, count: n)
        var reflectors = [Double](repeating: 0, count: 3 * n)   // (τ, u₂, u₃) of each bulge step
        let eps = epsilon
        // A norm for the deflation test when both neighbouring diagonal entries are zero.
        var norm = 0.0
        for i in 0..<n {
            for j in max(0, i - 1)..<n { norm += abs(h[i * n + j]) }
        }
        let maxIterations = 300   // per deflation; typical is 2 to 4

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
            francisStep(&h, n: n, lo: lo, hi: hi, exceptional: iterations % 10 == 0, reflectors: &reflectors)
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
    ///
    /// Layout: the reflector of step k acts on rows k..k+2 from the left (contiguous, done at
    /// once) and on columns k..k+2 of rows lo...k+3 from the right. Only rows k+1...k+3 of that
    /// column update are needed by later steps, so rows lo...k are left for the end of the sweep,
    /// when each row takes all its pending reflectors in one walk along the row (later left
    /// updates touch rows ≥ k+1 only, so the order of operations on every entry is unchanged).
    /// This turns a strided column walk per step into contiguous row walks.
    static func francisStep(_ h: inout [Double], n: Int, lo: Int, hi: Int, exceptional: Bool,
                            reflectors: inout [Double]) {
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

        for k in m..<hi {
            reflectors[3 * k] = 0
            reflectors[3 * k + 1] = 0
            reflectors[3 * k + 2] = 0
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
            reflectors[3 * k] = tau
            reflectors[3 * k + 1] = u2
            reflectors[3 * k + 2] = u3
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
                    let v = tau * h[r0 + j].addingProduct(u2, h[r1 + j]).addingProduct(u3, h[r2 + j])
                    h[r0 + j] -= v
                    h[r1 + j] = h[r1 + j].addingProduct(-v, u2)
                    h[r2 + j] = h[r2 + j].addingProduct(-v, u3)
                }
            } else {
                for j in k...hi {
                    let v = tau * h[r0 + j].addingProduct(u2, h[r1 + j])
                    h[r0 + j] -= v
                    h[r1 + j] = h[r1 + j].addingProduct(-v, u2)
                }
            }
            // Columns k, k+1, k+2 from the right, now only for rows k+1...min(k+3, hi).
            for i in (k + 1)...min(k + 3, hi) {
                let row = i * n
                if three {
                    let v = tau * h[row + k].addingProduct(u2, h[row + k + 1]).addingProduct(u3, h[row + k + 2])
                    h[row + k] -= v
                    h[row + k + 1] = h[row + k + 1].addingProduct(-v, u2)
                    h[row + k + 2] = h[row + k + 2].addingProduct(-v, u3)
                } else {
                    let v = tau * h[row + k].addingProduct(u2, h[row + k + 1])
                    h[row + k] -= v
                    h[row + k + 1] = h[row + k + 1].addingProduct(-v, u2)
                }
            }
        }

        // The postponed column updates: row i takes the reflectors k = max(m, i)..<hi in order.
        var i = lo
        while i < hi {
            if i + 7 < hi {
                applyColumnReflectorsToEightRows(&h, n: n, firstRow: i, m: m, hi: hi, reflectors)
                i += 8
            } else {
                applyColumnReflectors(&h, n: n, row: i, from: max(m, i), to: hi, hi: hi, reflectors)
                i += 1
            }
        }
    }

    /// `applyColumnReflectors` for rows i..<i+8 (each from max(m, row) to hi) at once: the rows
    /// are brought to a common first reflector one by one, then advance together in the lanes
    /// of a SIMD vector, so eight independent dependency chains share each instruction (the
    /// chain through one row is long; this is what keeps the sweep from waiting on it).
    static func applyColumnReflectorsToEightRows(_ h: inout [Double], n: Int, firstRow i: Int, m: Int, hi: Int,
                                                 _ reflectors: [Double]) {
        let common = max(m, i + 7)
        for j in 0..<7 {
            applyColumnReflectors(&h, n: n, row: i + j, from: max(m, i + j), to: common, hi: hi, reflectors)
        }
        let rows = SIMD8<Int>(0, 1, 2, 3, 4, 5, 6, 7) &* n &+ i * n
        @inline(__always) func load(_ c: Int) -> SIMD8<Double> {
            var x = SIMD8<Double>()
            for lane in 0..<8 { x[lane] = h[rows[lane] + c] }
            return x
        }
        var x0 = load(common), x1 = load(common + 1)
        var x2 = common + 2 <= hi ? load(common + 2) : .zero
        for k in common..<hi {
            let tau = reflectors[3 * k], u2 = reflectors[3 * k + 1], u3 = reflectors[3 * k + 2]
            let t = tau * x0.addingProduct(x1, SIMD8(repeating: u2)).addingProduct(x2, SIMD8(repeating: u3))
            let out = x0 - t
            for lane in 0..<8 { h[rows[lane] + k] = out[lane] }
            x0 = x1.addingProduct(t, SIMD8(repeating: -u2))
            x1 = x2.addingProduct(t, SIMD8(repeating: -u3))
            x2 = k + 3 <= hi ? load(k + 3) : .zero
        }
        for lane in 0..<8 { h[rows[lane] + hi] = x0[lane] }
    }

    /// Row `row` of H times the reflectors k = from..<to of the current sweep (columns k..k+2,
    /// or k..k+1 for k = hi - 1), walking along the row with the three live entries in registers.
    @inline(__always)
    static func applyColumnReflectors(_ h: inout [Double], n: Int, row i: Int, from first: Int, to end: Int,
                                      hi: Int, _ reflectors: [Double]) {
        guard first < end else { return }
        let row = i * n
        var x0 = h[row + first], x1 = h[row + first + 1]
        var x2 = first + 2 <= hi ? h[row + first + 2] : 0
        for k in first..<end {
            let tau = reflectors[3 * k], u2 = reflectors[3 * k + 1], u3 = reflectors[3 * k + 2]
            let t = tau * x0.addingProduct(u2, x1).addingProduct(u3, x2)
            h[row + k] = x0 - t
            x0 = x1.addingProduct(-t, u2)
            x1 = x2.addingProduct(-t, u3)
            x2 = k + 3 <= hi ? h[row + k + 3] : 0
        }
        h[row + end] = x0
        if end + 1 <= hi { h[row + end + 1] = x1 }
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
