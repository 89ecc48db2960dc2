// Dense double-precision matrices for the diagnostics' linear algebra (eigenvalues, singular
// values, Lyapunov exponents). Small and row-major; the heavy loops live in the algorithms,
// which copy `values` into a working array and walk it row by row.

import Foundation

/// A real m x n matrix stored row-major: element (i, j) is `values[i * cols + j]`.
public struct DenseMatrix: Equatable, Sendable {
    /// Number of rows (m).
    public let rows: Int
    /// Number of columns (n).
    public let cols: Int
    /// The m * n entries, row after row.
    public private(set) var values: [Double]

    /// A matrix from its row-major entries; `values.count` must be `rows * cols`.
    public init(rows: Int, cols: Int, values: [Double]) {
        precondition(rows >= 0 && cols >= 0, "DenseMatrix: negative shape \(rows) x \(cols)")
        precondition(values.count == rows * cols,
                     "DenseMatrix: \(values.count) values for a \(rows) x \(cols) matrix")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    /// A matrix widened from single-precision row-major entries (a weight block or a Jacobian).
    public init(rows: Int, cols: Int, floatValues: [Float]) {
        self.init(rows: rows, cols: cols, values: floatValues.map { Double($0) })
    }

    /// A matrix with every entry equal to `value`.
    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        self.init(rows: rows, cols: cols, values: [Double](repeating: value, count: rows * cols))
    }

    /// A matrix from its rows, e.g. `DenseMatrix([[0, -1], [1, 0]])`; all rows must have one length.
    public init(_ rowArrays: [[Double]]) {
        let cols = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == cols }, "DenseMatrix: rows of different lengths")
        self.init(rows: rowArrays.count, cols: cols, values: rowArrays.flatMap { $0 })
    }

    /// The n x n identity.
    public static func identity(_ n: Int) -> DenseMatrix {
        var m = DenseMatrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    /// A square matrix with `diagonal` on its diagonal and zeros elsewhere.
    public static func diagonal(_ diagonal: [Double]) -> DenseMatrix {
        var m = DenseMatrix(rows: diagonal.count, cols: diagonal.count)
        for (i, d) in diagonal.enumerated() { m[i, i] = d }
        return m
    }

    /// Element (i, j).
    public subscript(i: Int, j: Int) -> Double {
        get { values[i * cols + j] }
        set { values[i * cols + j] = newValue }
    }

    public var isSquare: Bool { rows == cols }

    /// Aᵀ.
    public var transposed: DenseMatrix {
        var t = [Double](repeating: 0, count: values.count)
        for i in 0..<rows {
            for j in 0..<cols { t[j * rows + i] = values[i * cols + j] }
        }
        return DenseMatrix(rows: cols, cols: rows, values: t)
    }

    /// Sum of the diagonal entries (square matrices).
    public var trace: Double {
        precondition(isSquare, "trace of a non-square \(rows) x \(cols) matrix")
        var s = 0.0
        for i in 0..<rows { s += values[i * cols + i] }
        return s
    }

    /// ‖A‖_F = sqrt(Σ a_ij²), scaled by the largest |a_ij| so the squares cannot overflow.
    /// NaN if an entry is NaN, otherwise +∞ if an entry is infinite.
    public var frobeniusNorm: Double {
        if values.contains(where: { $0.isNaN }) { return .nan }
        let scale = values.reduce(0) { Swift.max($0, abs($1)) }
        guard scale > 0, scale.isFinite else { return scale }
        var s = 0.0
        for v in values { let t = v / scale; s += t * t }
        return scale * s.squareRoot()
    }

    /// True when every entry is finite (no NaN, no infinity).
    public var isFinite: Bool { values.allSatisfy { $0.isFinite } }

    /// The matrix product A B, row-major i-k-j order so the inner loop runs along rows of B and C.
    public static func * (a: DenseMatrix, b: DenseMatrix) -> DenseMatrix {
        precondition(a.cols == b.rows, "DenseMatrix product: \(a.rows)x\(a.cols) times \(b.rows)x\(b.cols)")
        let m = a.rows, n = b.cols, inner = a.cols
        var c = [Double](repeating: 0, count: m * n)
        let av = a.values, bv = b.values
        for i in 0..<m {
            for k in 0..<inner {
                let aik = av[i * inner + k]
                if aik == 0 { continue }
                let bRow = k * n, cRow = i * n
                for j in 0..<n { c[cRow + j] += aik * bv[bRow + j] }
            }
        }
        return DenseMatrix(rows: m, cols: n, values: c)
    }
}

/// A complex number x + iy, just enough to hold an eigenvalue of a real matrix.
public struct ComplexValue: Hashable, Sendable, CustomStringConvertible {
    /// Real part x.
    public var re: Double
    /// Imaginary part y.
    public var im: Double

    public init(re: Double, im: Double = 0) {
        self.re = re
        self.im = im
    }

    /// |z| = sqrt(x² + y²), computed without overflow or underflow in the squares.
    public var modulus: Double {
        let a = abs(re), b = abs(im)
        let big = Swift.max(a, b), small = Swift.min(a, b)
        guard big > 0, big.isFinite else { return big.isNaN || small.isNaN ? .nan : big }
        let r = small / big
        return big * (1 + r * r).squareRoot()
    }

    /// arg z in (-π, π].
    public var argument: Double { atan2(im, re) }

    public var isFinite: Bool { re.isFinite && im.isFinite }

    /// The value both parts NaN: what the algorithms return for entries they could not compute.
    public static let nan = ComplexValue(re: .nan, im: .nan)

    public var description: String { im >= 0 ? "\(re)+\(im)i" : "\(re)\(im)i" }
}
