// Growth rates of a product of Jacobians without forming the product: accumulated QR
// (the "standard method" for Lyapunov exponents, Benettin et al. 1980, Shimada-Nagashima 1979).

import Foundation

/// Accumulates the QR factorisation of P_l = J_l ⋯ J_2 J_1 Q₀ for n x n Jacobians J_t, where
/// Q₀ holds the first k columns of the identity (k leading directions).
///
/// Each `push(J)` factors J Q = Q' R (Q' n x k with orthonormal columns, R k x k upper
/// triangular) and keeps Q'. Then P_l = Q_l R_l ⋯ R_1, so with L_i = Σ_t log|R_t,ii|:
/// - for k = n, Σ_i L_i = log|det P_l| exactly;
/// - e^{L_1 + ... + L_j} is the volume growth of the first j directions, and for large l
///   e^{L_i} approaches σ_i(P_l) and L_i / l the i-th Lyapunov exponent.
/// Multiplying the J_t explicitly instead would overflow or underflow and, worse, collapse
/// every column onto the leading direction within a few dozen steps; re-orthonormalising at
/// every step keeps the trailing directions resolvable.
///
/// J Q costs n²k and the orthonormalisation 4nk² flops per push: modified Gram-Schmidt run twice
/// ("twice is enough": the second pass restores orthogonality to working precision).
public struct LyapunovAccumulator: Sendable {
    /// n, the size of the (square) Jacobians.
    public let size: Int
    /// k ≤ n, the number of leading directions tracked.
    public let count: Int
    /// l, the number of Jacobians pushed so far.
    public private(set) var steps = 0
    /// L_i = Σ_t log|R_t,ii| for the i-th column of Q, in column order (not sorted). -∞ when a
    /// Jacobian annihilated that direction, NaN once a Jacobian had a non-finite entry.
    public private(set) var logGrowth: [Double]
    /// Qᵀ row-major: direction i is basis[i * size ..< (i + 1) * size], a unit vector.
    private var basis: [Double]

    /// Starts with Q₀ = the first `count` columns of the `size` x `size` identity.
    public init(size: Int, count: Int) {
        precondition(size > 0 && count > 0 && count <= size,
                     "LyapunovAccumulator: need 0 < count <= size, got size \(size), count \(count)")
        self.size = size
        self.count = count
        logGrowth = [Double](repeating: 0, count: count)
        basis = [Double](repeating: 0, count: count * size)
        for i in 0..<count { basis[i * size + i] = 1 }
    }

    /// Q R = J Q: multiply the tracked directions by J, orthonormalise them in order, and add
    /// log|R_ii| (the length of direction i after removing its components along directions < i)
    /// to L_i.
    public mutating func push(_ jacobian: DenseMatrix) {
        precondition(jacobian.rows == size && jacobian.cols == size,
                     "LyapunovAccumulator.push: expected a \(size) x \(size) Jacobian, got \(jacobian.rows) x \(jacobian.cols)")
        let n = size, k = count
        let j = jacobian.values
        // image row d = J q_d; (J q_d)_i is row i of J dotted with q_d, both contiguous.
        var image = [Double](repeating: 0, count: k * n)
        for i in 0..<n {
            for d in 0..<k {
                image[d * n + i] = LinearAlgebra.dot(j, i * n, basis, d * n, count: n)
            }
        }
        for d in 0..<k {
            Self.orthogonalize(&image, row: d, against: d, n: n)
            let length = Self.length(image, row: d, n: n)
            if length > 0 && length.isFinite {
                let inverse = 1 / length
                for i in 0..<n { image[d * n + i] *= inverse }
                logGrowth[d] += log(length)
            } else if length == 0 {
                // J maps this direction into the span of the earlier ones: growth log 0 = -∞.
                // Continue with any unit vector orthogonal to the earlier directions.
                logGrowth[d] += -.infinity
                Self.replaceWithOrthogonalUnitVector(&image, row: d, n: n)
            } else {
                logGrowth[d] = .nan
            }
        }
        basis = image
        steps += 1
    }

    /// λ_i = L_i / l, decreasing: the finite-time Lyapunov exponents of the product of the l
    /// Jacobians pushed so far (natural log per step). NaN before the first push.
    public var lyapunovExponents: [Double] {
        let l = Double(steps)
        return LinearAlgebra.sortedDecreasing(logGrowth).map { steps == 0 ? .nan : $0 / l }
    }

    /// e^{L_i}, decreasing: estimates of the k leading singular values of J_l ⋯ J_1 (exact when
    /// the Jacobians share their singular directions in sequence, e.g. diagonal ones; otherwise
    /// the leading ones converge as l grows). Overflows to ∞ beyond e^709: read `logGrowth` for
    /// long products.
    public var productSingularValueEstimates: [Double] {
        LinearAlgebra.sortedDecreasing(logGrowth).map { exp($0) }
    }

    /// The current Q (n x k, orthonormal columns): the directions that grew by e^{L_i}.
    public var directions: DenseMatrix {
        DenseMatrix(rows: count, cols: size, values: basis).transposed
    }

    /// Removes from row `row` of `rows` its components along rows 0..<earlier (orthonormal),
    /// two passes of modified Gram-Schmidt.
    private static func orthogonalize(_ rows: inout [Double], row: Int, against earlier: Int, n: Int) {
        let target = row * n
        for _ in 0..<2 {
            for p in 0..<earlier {
                let source = p * n
                let h = LinearAlgebra.dot(rows, target, rows, source, count: n)
                for i in 0..<n { rows[target + i] -= h * rows[source + i] }
            }
        }
    }

    /// Euclidean length of one row, scaled so squares cannot overflow.
    private static func length(_ rows: [Double], row: Int, n: Int) -> Double {
        var big = 0.0
        for i in 0..<n {
            let x = abs(rows[row * n + i])
            if x.isNaN { return .nan }
            big = max(big, x)
        }
        guard big > 0, big.isFinite else { return big }
        let inverse = 1 / big
        var s = 0.0
        for i in 0..<n {
            let x = rows[row * n + i] * inverse
            s += x * x
        }
        return big * s.squareRoot()
    }

    /// Sets row `row` to the first orthogonalised coordinate vector e_c that keeps at least half
    /// its length (one exists, since fewer than n rows come before it).
    private static func replaceWithOrthogonalUnitVector(_ rows: inout [Double], row: Int, n: Int) {
        for c in 0..<n {
            for i in 0..<n { rows[row * n + i] = i == c ? 1 : 0 }
            orthogonalize(&rows, row: row, against: row, n: n)
            let len = length(rows, row: row, n: n)
            if len > 0.5 {
                for i in 0..<n { rows[row * n + i] /= len }
                return
            }
        }
    }
}

extension LinearAlgebra {
    /// Values sorted decreasing, NaNs last (so the order is well defined for any input).
    static func sortedDecreasing(_ values: [Double]) -> [Double] {
        values.sorted { x, y in x > y || (y.isNaN && !x.isNaN) }
    }
}
