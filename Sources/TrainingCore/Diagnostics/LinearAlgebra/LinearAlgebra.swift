// The namespace for the dense linear algebra the diagnostics need, and the two inner-loop
// helpers (dot product, scaled add) the algorithms share. Everything is written here, in
// Double, without LAPACK: Householder reductions, implicitly shifted QR, accumulated QR.
//
// Conventions used by every file in this folder:
// - ε = Double.ulpOfOne (2.2e-16). Off-diagonal entries are treated as zero when they are
//   below ε times the neighbouring diagonal entries, so results are backward stable: the
//   computed spectrum is the exact spectrum of A + E with ‖E‖ ≈ ε‖A‖.
// - Matrices are copied into one row-major working array and scaled so the largest entry is
//   1 (undone at the end); squares of entries can then neither overflow nor underflow early.
// - Non-finite input gives NaN output, and every iteration has a cap, so a bad matrix costs
//   at most a bounded amount of time and never traps.

/// Dense real linear algebra: eigenvalues of general and symmetric matrices, singular values,
/// spectral radius. See `LyapunovAccumulator` for products of Jacobians.
public enum LinearAlgebra {
    /// Machine epsilon for Double, the relative spacing of numbers near 1.
    static let epsilon = Double.ulpOfOne

    /// Largest |a_ij|, or NaN when some entry is NaN or infinite.
    static func largestMagnitude(_ values: [Double]) -> Double {
        var m = 0.0
        for v in values {
            if !v.isFinite { return .nan }
            m = max(m, abs(v))
        }
        return m
    }

    /// Σ_{i<count} x[xStart + i] * y[yStart + i]. Four independent 4-wide partial sums with
    /// fused multiply-adds, so the loop runs at load speed instead of waiting on each addition
    /// (Swift does not reassociate floating-point sums by itself, so it would not vectorise).
    @inline(__always)
    static func dot(_ x: [Double], _ xStart: Int, _ y: [Double], _ yStart: Int, count: Int) -> Double {
        var s0 = SIMD4<Double>(), s1 = SIMD4<Double>(), s2 = SIMD4<Double>(), s3 = SIMD4<Double>()
        var i = 0
        while i + 16 <= count {
            let a = xStart + i, b = yStart + i
            s0.addProduct(SIMD4(x[a], x[a + 1], x[a + 2], x[a + 3]), SIMD4(y[b], y[b + 1], y[b + 2], y[b + 3]))
            s1.addProduct(SIMD4(x[a + 4], x[a + 5], x[a + 6], x[a + 7]),
                          SIMD4(y[b + 4], y[b + 5], y[b + 6], y[b + 7]))
            s2.addProduct(SIMD4(x[a + 8], x[a + 9], x[a + 10], x[a + 11]),
                          SIMD4(y[b + 8], y[b + 9], y[b + 10], y[b + 11]))
            s3.addProduct(SIMD4(x[a + 12], x[a + 13], x[a + 14], x[a + 15]),
                          SIMD4(y[b + 12], y[b + 13], y[b + 14], y[b + 15]))
            i += 16
        }
        while i + 4 <= count {
            let a = xStart + i, b = yStart + i
            s0.addProduct(SIMD4(x[a], x[a + 1], x[a + 2], x[a + 3]), SIMD4(y[b], y[b + 1], y[b + 2], y[b + 3]))
            i += 4
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while i < count {
            sum = sum.addingProduct(x[xStart + i], y[yStart + i])
            i += 1
        }
        return sum
    }

    /// y[yStart + i] += alpha * x[xStart + i] for i < count (x and y distinct arrays), as fused
    /// multiply-adds that LLVM vectorises.
    @inline(__always)
    static func addScaled(_ alpha: Double, _ x: [Double], _ xStart: Int,
                          to y: inout [Double], _ yStart: Int, count: Int) {
        for i in 0..<count { y[yStart + i] = y[yStart + i].addingProduct(alpha, x[xStart + i]) }
    }

    /// A Householder reflector P = I - β v vᵀ with v₀ = x₀ - α that maps x to α e₁, α = -sign(x₀)‖x‖.
    /// Given x₀ and the squared norm of the rest of x, returns (α, v₀, β); β = 0 means P = I
    /// (the rest of x is already zero). Using α of the opposite sign to x₀ keeps v₀ free of
    /// cancellation, and vᵀv = 2‖x‖(‖x‖ + |x₀|) gives β without another pass.
    @inline(__always)
    static func reflector(head x0: Double, tailSquaredNorm: Double) -> (alpha: Double, v0: Double, beta: Double) {
        if tailSquaredNorm == 0 { return (x0, 0, 0) }
        let norm = (x0 * x0 + tailSquaredNorm).squareRoot()
        let alpha = x0 >= 0 ? -norm : norm
        return (alpha, x0 - alpha, 1 / (norm * (norm + abs(x0))))
    }

    /// A plane rotation (c, s) with c = f / r, s = g / r, r = sqrt(f² + g²) ≥ 0, so that
    /// [c s; -s c] [f; g] = [r; 0]; f = g = 0 gives the identity with r = 0.
    /// The rotation loops are one long dependency chain (square root, then division), so the
    /// common case is kept short; only when f² + g² would overflow or lose precision to
    /// underflow are f and g scaled first.
    @inline(__always)
    static func rotation(_ f: Double, _ g: Double) -> (c: Double, s: Double, r: Double) {
        let r2 = (f * f).addingProduct(g, g)
        if r2 > 0x1p-960 && r2 < 0x1p960 {
            let r = r2.squareRoot()
            return (f / r, g / r, r)
        }
        if g == 0 && f == 0 { return (1, 0, 0) }
        let big = max(abs(f), abs(g))
        let fs = f / big, gs = g / big
        let rs = (fs * fs + gs * gs).squareRoot()
        return (fs / rs, gs / rs, big * rs)
    }
}
