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

    /// Σ_{i<count} x[xStart + i] * y[yStart + i] with four partial sums, so the additions
    /// pipeline instead of waiting on one another.
    @inline(__always)
    static func dot(_ x: [Double], _ xStart: Int, _ y: [Double], _ yStart: Int, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= count {
            s0 += x[xStart + i] * y[yStart + i]
            s1 += x[xStart + i + 1] * y[yStart + i + 1]
            s2 += x[xStart + i + 2] * y[yStart + i + 2]
            s3 += x[xStart + i + 3] * y[yStart + i + 3]
            i += 4
        }
        while i < count {
            s0 += x[xStart + i] * y[yStart + i]
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// y[yStart + i] += alpha * x[xStart + i] for i < count (x and y distinct arrays).
    @inline(__always)
    static func addScaled(_ alpha: Double, _ x: [Double], _ xStart: Int,
                          to y: inout [Double], _ yStart: Int, count: Int) {
        for i in 0..<count { y[yStart + i] += alpha * x[xStart + i] }
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

    /// A plane rotation (c, s) with c = f / r, s = g / r, r = sqrt(f² + g²), so that
    /// [c s; -s c] [f; g] = [r; 0]. r = 0 gives the identity.
    @inline(__always)
    static func rotation(_ f: Double, _ g: Double) -> (c: Double, s: Double, r: Double) {
        if g == 0 { return (1, 0, f) }
        if f == 0 { return (0, 1, g) }
        let af = abs(f), ag = abs(g)
        let big = max(af, ag), small = min(af, ag)
        let q = small / big
        let r = big * (1 + q * q).squareRoot()
        return (f / r, g / r, r)
    }
}
