import Foundation
import Testing
@testable import TrainingCore

// Matrices with known spectra, and random matrices checked by invariants that do not depend
// on the algorithms under test: trace, determinant by LU, Frobenius norm, AᵀA.

/// TrainingCore's SplitMix64 with the tests' own Box-Muller.
private struct TestRandom {
    var generator: SeededGenerator
    init(_ seed: UInt64) { generator = SeededGenerator(rawState: seed) }
    mutating func next() -> UInt64 { generator.next() }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func gaussian() -> Double {
        let u1 = max(unit(), 0x1.0p-60), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// m x n with independent N(0, 1/n) entries (singular values of order 1).
private func randomMatrix(_ m: Int, _ n: Int, seed: UInt64) -> DenseMatrix {
    var rng = TestRandom(seed)
    let s = 1 / Double(n).squareRoot()
    return DenseMatrix(rows: m, cols: n, values: (0..<(m * n)).map { _ in rng.gaussian() * s })
}

/// A random orthogonal matrix: Gram-Schmidt (twice) on the columns of a Gaussian matrix.
private func randomOrthogonal(_ n: Int, seed: UInt64) -> DenseMatrix {
    let g = randomMatrix(n, n, seed: seed).transposed   // rows of g are the columns to orthonormalise
    var q = g.values
    for r in 0..<n {
        for _ in 0..<2 {
            for p in 0..<r {
                var h = 0.0
                for i in 0..<n { h += q[r * n + i] * q[p * n + i] }
                for i in 0..<n { q[r * n + i] -= h * q[p * n + i] }
            }
        }
        var norm = 0.0
        for i in 0..<n { norm += q[r * n + i] * q[r * n + i] }
        norm = norm.squareRoot()
        for i in 0..<n { q[r * n + i] /= norm }
    }
    return DenseMatrix(rows: n, cols: n, values: q)
}

/// log|det A| by LU with partial pivoting (Σ log|u_ii|), independent of the code under test.
private func logAbsDeterminant(_ a: DenseMatrix) -> Double {
    let n = a.rows
    var lu = a.values
    var sum = 0.0
    for k in 0..<n {
        var pivot = k
        for i in (k + 1)..<max(n, k + 1) where abs(lu[i * n + k]) > abs(lu[pivot * n + k]) { pivot = i }
        if pivot != k {
            for j in 0..<n { lu.swapAt(k * n + j, pivot * n + j) }
        }
        let ukk = lu[k * n + k]
        sum += log(abs(ukk))
        for i in (k + 1)..<max(n, k + 1) {
            let f = lu[i * n + k] / ukk
            for j in (k + 1)..<n { lu[i * n + j] -= f * lu[k * n + j] }
        }
    }
    return sum
}

/// Largest distance from each expected value to its nearest unused computed value (greedy
/// matching), so the test does not depend on how near-ties in modulus were ordered.
private func matchingDistance(_ computed: [ComplexValue], _ expected: [ComplexValue]) -> Double {
    #expect(computed.count == expected.count)
    var used = [Bool](repeating: false, count: computed.count)
    var worst = 0.0
    for x in expected {
        var best = -1
        var bestDistance = Double.infinity
        for (i, y) in computed.enumerated() where !used[i] {
            let dist = ComplexValue(re: x.re - y.re, im: x.im - y.im).modulus
            if dist < bestDistance { bestDistance = dist; best = i }
        }
        if best < 0 { return .infinity }
        used[best] = true
        worst = max(worst, bestDistance)
    }
    return worst
}

private func maxRelativeDifference(_ x: [Double], _ y: [Double], relativeTo scale: Double? = nil) -> Double {
    #expect(x.count == y.count)
    var worst = 0.0
    for (a, b) in zip(x, y) {
        let d = abs(a - b) / (scale ?? max(abs(a), abs(b), .leastNormalMagnitude))
        worst = max(worst, d.isNaN ? .infinity : d)
    }
    return worst
}

private func real(_ values: [Double]) -> [ComplexValue] { values.map { ComplexValue(re: $0) } }

@Suite struct EigenvalueTests {
    @Test func rotationHasConjugatePairOnUnitCircle() {
        let theta = 0.3
        let r = DenseMatrix([[cos(theta), -sin(theta)], [sin(theta), cos(theta)]])
        let lambda = LinearAlgebra.eigenvalues(of: r)
        #expect(lambda.count == 2)
        #expect(abs(lambda[0].re - cos(theta)) < 1e-15 && abs(lambda[0].im - sin(theta)) < 1e-15)
        #expect(abs(lambda[1].re - cos(theta)) < 1e-15 && abs(lambda[1].im + sin(theta)) < 1e-15)
    }

    @Test func blockRotationsHiddenBySimilarity() {
        // Rotations by 0.5, 1.7, 2.9 scaled by 1.0, 0.8, 0.5, conjugated by a random orthogonal Q.
        let angles = [0.5, 1.7, 2.9], radii = [1.0, 0.8, 0.5]
        var b = DenseMatrix(rows: 6, cols: 6)
        var expected: [ComplexValue] = []
        for (k, (t, r)) in zip(angles, radii).enumerated() {
            b[2 * k, 2 * k] = r * cos(t); b[2 * k, 2 * k + 1] = -r * sin(t)
            b[2 * k + 1, 2 * k] = r * sin(t); b[2 * k + 1, 2 * k + 1] = r * cos(t)
            expected += [ComplexValue(re: r * cos(t), im: r * sin(t)), ComplexValue(re: r * cos(t), im: -r * sin(t))]
        }
        let q = randomOrthogonal(6, seed: 1)
        let a = q * b * q.transposed
        let lambda = LinearAlgebra.eigenvalues(of: a)
        let err = matchingDistance(lambda, expected)
        #expect(err < 1e-13, "maxdiff \(err)")
        #expect(zip(lambda.map(\.modulus), [1.0, 1, 0.8, 0.8, 0.5, 0.5]).allSatisfy { abs($0 - $1) < 1e-13 })
        #expect(abs(LinearAlgebra.spectralRadius(of: a) - 1) < 1e-13)
    }

    @Test(arguments: [4, 7, 12, 33])
    func cyclicPermutationNeedsExceptionalShifts(n: Int) {
        // The cyclic shift e_i -> e_{i+1}: eigenvalues are the n-th roots of unity. It is already
        // Hessenberg and orthogonal, so the standard shifts (both 0 here) leave it unchanged;
        // only the exceptional shifts make progress.
        var p = DenseMatrix(rows: n, cols: n)
        for i in 0..<n { p[(i + 1) % n, i] = 1 }
        let roots = (0..<n).map { ComplexValue(re: cos(2 * Double.pi * Double($0) / Double(n)),
                                               im: sin(2 * Double.pi * Double($0) / Double(n))) }
        let lambda = LinearAlgebra.eigenvalues(of: p)
        let err = matchingDistance(lambda, roots)
        #expect(err < 1e-12, "maxdiff \(err)")
    }

    @Test func diagonalSortedByModulus() {
        let a = DenseMatrix.diagonal([3, -5, 0.5, 2, 0, -0.25])
        let lambda = LinearAlgebra.eigenvalues(of: a)
        #expect(lambda == real([-5, 3, 2, 0.5, -0.25, 0]))
    }

    @Test func triangularHasItsDiagonal() {
        var a = randomMatrix(40, 40, seed: 2)
        for i in 0..<40 {
            for j in 0..<i { a[i, j] = 0 }
            a[i, i] = Double(i + 1) / 8 * (i % 2 == 0 ? 1 : -1)
        }
        let lambda = LinearAlgebra.eigenvalues(of: a)
        let expected: [Double] = (0..<40).map { (i: Int) -> Double in
            let sign: Double = i % 2 == 0 ? 1 : -1
            return Double(i + 1) / 8 * sign
        }
        let err = matchingDistance(lambda, real(expected))
        #expect(err < 1e-12, "maxdiff \(err)")
    }

    @Test func orthogonalHasUnitModuli() {
        let q = randomOrthogonal(100, seed: 3)
        let moduli = LinearAlgebra.eigenvalues(of: q).map(\.modulus)
        let err = maxRelativeDifference(moduli, [Double](repeating: 1, count: 100))
        #expect(err < 1e-12, "maxdiff \(err)")
        let sigmaErr = maxRelativeDifference(LinearAlgebra.singularValues(of: q), [Double](repeating: 1, count: 100))
        #expect(sigmaErr < 1e-12, "maxdiff \(sigmaErr)")
    }

    @Test func defectiveJordanBlocks() {
        // Eigenvalues in a Jordan block of size k are only determined to about ε^(1/k).
        let q = randomOrthogonal(5, seed: 4)
        var j = DenseMatrix.diagonal([2, 2, 2, -1, -1])
        j[0, 1] = 1; j[1, 2] = 1; j[3, 4] = 1
        let lambda = LinearAlgebra.eigenvalues(of: q * j * q.transposed)
        let triple = lambda.filter { abs($0.re - 2) < 0.1 }, double = lambda.filter { abs($0.re + 1) < 0.1 }
        #expect(triple.count == 3 && double.count == 2)
        let tripleErr = triple.map { ComplexValue(re: $0.re - 2, im: $0.im).modulus }.max() ?? .infinity
        let doubleErr = double.map { ComplexValue(re: $0.re + 1, im: $0.im).modulus }.max() ?? .infinity
        #expect(tripleErr < 1e-4, "maxdiff \(tripleErr)")
        #expect(doubleErr < 1e-6, "maxdiff \(doubleErr)")
        // A nilpotent block is already triangular: exact zeros.
        let n = DenseMatrix([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
        #expect(LinearAlgebra.eigenvalues(of: n) == real([0, 0, 0]))
    }

    @Test func companionMatrixHasThePolynomialRoots() {
        // p(x) = (x² + 2x + 5) Π_{r=1..6} (x - r): roots 1...6 and -1 ± 2i.
        var coefficients: [Double] = [5, 2, 1]   // ascending powers
        for r in 1...6 {
            var next = [Double](repeating: 0, count: coefficients.count + 1)
            for (i, c) in coefficients.enumerated() {
                next[i + 1] += c
                next[i] -= Double(r) * c
            }
            coefficients = next
        }
        let degree = coefficients.count - 1   // monic: coefficients[degree] == 1
        var c = DenseMatrix(rows: degree, cols: degree)
        for j in 0..<degree { c[0, j] = -coefficients[degree - 1 - j] }
        for i in 1..<degree { c[i, i - 1] = 1 }
        let expected = real([1, 2, 3, 4, 5, 6]) + [ComplexValue(re: -1, im: 2), ComplexValue(re: -1, im: -2)]
        let lambda = LinearAlgebra.eigenvalues(of: c)
        let err = matchingDistance(lambda, expected)
        #expect(err < 1e-8, "maxdiff \(err)")
        #expect(abs(lambda[0].re - 6) < 1e-8 && lambda[0].im == 0)
    }

    @Test func smallAndTrivialMatrices() {
        #expect(LinearAlgebra.eigenvalues(of: DenseMatrix([[-3.5]])) == [ComplexValue(re: -3.5)])
        #expect(LinearAlgebra.eigenvalues(of: DenseMatrix(rows: 4, cols: 4)) == real([0, 0, 0, 0]))
        #expect(LinearAlgebra.eigenvalues(of: DenseMatrix(rows: 0, cols: 0)).isEmpty)
        let twoReal = LinearAlgebra.eigenvalues(of: DenseMatrix([[4, 1], [2, 3]]))   // 5 and 2
        #expect(abs(twoReal[0].re - 5) < 1e-14 && abs(twoReal[1].re - 2) < 1e-14)
        #expect(twoReal[0].im == 0 && twoReal[1].im == 0)
        let twoComplex = LinearAlgebra.eigenvalues(of: DenseMatrix([[1, -2], [1, 3]]))   // 2 ± i
        #expect(abs(twoComplex[0].re - 2) < 1e-14 && abs(twoComplex[0].im - 1) < 1e-14)
        #expect(abs(twoComplex[1].re - 2) < 1e-14 && abs(twoComplex[1].im + 1) < 1e-14)
        // Tiny and huge scales do not underflow or overflow.
        let tiny = LinearAlgebra.eigenvalues(of: DenseMatrix([[4e-300, 1e-300], [2e-300, 3e-300]]))
        #expect(abs(tiny[0].re / 5e-300 - 1) < 1e-14)
        let huge = LinearAlgebra.eigenvalues(of: DenseMatrix([[4e300, 1e300], [2e300, 3e300]]))
        #expect(abs(huge[1].re / 2e300 - 1) < 1e-14)
    }

    @Test func nonFiniteInputGivesNaN() {
        var a = randomMatrix(30, 30, seed: 5)
        a[3, 7] = .nan
        #expect(LinearAlgebra.eigenvalues(of: a).allSatisfy { $0.re.isNaN && $0.im.isNaN })
        #expect(LinearAlgebra.spectralRadius(of: a).isNaN)
        #expect(LinearAlgebra.singularValues(of: a).allSatisfy { $0.isNaN })
        #expect(LinearAlgebra.symmetricEigenvalues(of: a).allSatisfy { $0.isNaN })
        a[3, 7] = .infinity
        #expect(LinearAlgebra.eigenvalues(of: a).allSatisfy { $0.re.isNaN })
        #expect(LinearAlgebra.singularValues(of: a).count == 30)
        #expect(LinearAlgebra.singularValues(of: a).allSatisfy { $0.isNaN })
    }

    @Test(arguments: [(7, UInt64(10)), (64, 11), (200, 12), (512, 13)])
    func randomMatrixInvariants(n: Int, seed: UInt64) {
        let a = randomMatrix(n, n, seed: seed)
        let lambda = LinearAlgebra.eigenvalues(of: a)
        #expect(lambda.count == n)
        // Σ λ = tr A, Σ Im λ = 0.
        let sumRe = lambda.reduce(0) { $0 + $1.re }, sumIm = lambda.reduce(0) { $0 + $1.im }
        #expect(abs(sumRe - a.trace) < 1e-10 * Double(n), "trace \(a.trace) vs \(sumRe)")
        #expect(abs(sumIm) < 1e-10 * Double(n))
        // Σ log|λ| = log|det A|.
        let logDet = logAbsDeterminant(a)
        let sumLog = lambda.reduce(0) { $0 + log($1.modulus) }
        #expect(abs(sumLog - logDet) < 1e-8 * Double(n), "log|det| \(logDet) vs \(sumLog)")
        // Aᵀ has the same eigenvalues.
        let err = matchingDistance(LinearAlgebra.eigenvalues(of: a.transposed), lambda)
        #expect(err < 1e-8, "maxdiff \(err)")
        // Conjugate pairs are exact mirror images.
        for z in lambda where z.im != 0 {
            #expect(lambda.contains(ComplexValue(re: z.re, im: -z.im)))
        }
        // Without balancing: same spectrum.
        let unbalanced = matchingDistance(LinearAlgebra.eigenvalues(of: a, balance: false), lambda)
        #expect(unbalanced < 1e-8, "maxdiff \(unbalanced)")
    }

    @Test func balancingRescuesBadlyScaledMatrix() {
        // D A D⁻¹ with D spanning 12 orders of magnitude has the spectrum of A.
        let n = 20
        let a = randomMatrix(n, n, seed: 14)
        var b = a
        for i in 0..<n {
            for j in 0..<n { b[i, j] = a[i, j] * pow(10, Double(i - j) * 12 / Double(n)) }
        }
        let err = matchingDistance(LinearAlgebra.eigenvalues(of: b), LinearAlgebra.eigenvalues(of: a))
        #expect(err < 1e-10, "maxdiff \(err)")
    }
}

@Suite struct SingularValueTests {
    @Test func diagonalAndPermutedDiagonal() {
        #expect(LinearAlgebra.singularValues(of: DenseMatrix.diagonal([3, -5, 0.5, 0])) == [5, 3, 0.5, 0])
        let p = DenseMatrix([[0, 0, 2], [-7, 0, 0], [0, 1e-9, 0]])
        let err = maxRelativeDifference(LinearAlgebra.singularValues(of: p), [7, 2, 1e-9])
        #expect(err < 1e-14, "maxdiff \(err)")
        #expect(LinearAlgebra.singularValues(of: DenseMatrix(rows: 3, cols: 5)) == [0, 0, 0])
        #expect(LinearAlgebra.singularValues(of: DenseMatrix([[-2]])) == [2])
    }

    @Test func knownSpectrumWithTinyValues() {
        // U Σ Vᵀ with σ from 1 down to 1e-9: every σ_i to within 1e-4 of itself, down to 1e-9.
        let n = 60
        let sigma = (0..<n).map { pow(10, -9 * Double($0) / Double(n - 1)) }
        let a = randomOrthogonal(n, seed: 20) * DenseMatrix.diagonal(sigma) * randomOrthogonal(n, seed: 21)
        let computed = LinearAlgebra.singularValues(of: a)
        let relToLargest = maxRelativeDifference(computed, sigma, relativeTo: 1)
        #expect(relToLargest < 1e-13, "maxdiff \(relToLargest)")
        let relative = maxRelativeDifference(Array(computed.prefix(40)), Array(sigma.prefix(40)))
        #expect(relative < 1e-4, "maxdiff \(relative)")
    }

    @Test(arguments: [(5, 5, UInt64(30)), (40, 17, 31), (17, 40, 32), (128, 128, 33), (512, 128, 34),
                      (256, 256, 35), (512, 512, 36)])
    func randomMatrixInvariants(m: Int, n: Int, seed: UInt64) {
        let a = randomMatrix(m, n, seed: seed)
        let sigma = LinearAlgebra.singularValues(of: a)
        #expect(sigma.count == min(m, n))
        #expect(zip(sigma, sigma.dropFirst()).allSatisfy { $0 >= $1 })
        // Σ σ² = ‖A‖_F².
        let frobenius = a.frobeniusNorm
        let sumSquares = sigma.reduce(0) { $0 + $1 * $1 }
        #expect(abs(sumSquares / (frobenius * frobenius) - 1) < 1e-12)
        // σ_i = sqrt(λ_i(AᵀA)) for the smaller Gram matrix.
        let gram = m >= n ? a.transposed * a : a * a.transposed
        let fromGram = LinearAlgebra.symmetricEigenvalues(of: gram).map { max($0, 0).squareRoot() }
        let err = maxRelativeDifference(sigma, fromGram)
        #expect(err < 1e-4, "maxdiff \(err)")
        // Π σ = |det A| for square A.
        if m == n {
            let sumLog = sigma.reduce(0) { $0 + log($1) }
            let logDet = logAbsDeterminant(a)
            #expect(abs(sumLog - logDet) < 1e-8 * Double(n), "log|det| \(logDet) vs \(sumLog)")
        }
        // σ(Aᵀ) = σ(A).
        let transposeErr = maxRelativeDifference(LinearAlgebra.singularValues(of: a.transposed), sigma)
        #expect(transposeErr < 1e-10, "maxdiff \(transposeErr)")
    }

    @Test func rankDeficientHasZeros() {
        // A rank-3 product of 20x3 and 3x20 factors: 17 singular values at rounding level.
        let a = randomMatrix(20, 3, seed: 40) * randomMatrix(3, 20, seed: 41)
        let sigma = LinearAlgebra.singularValues(of: a)
        #expect(sigma[2] > 0.05)
        #expect(sigma[3] < 1e-14 * sigma[0], "sigma_4 \(sigma[3])")
    }
}

@Suite struct SymmetricEigenvalueTests {
    @Test func knownSpectrum() {
        let n = 50
        let lambda = (0..<n).map { Double(n / 2 - $0) / 7 }   // decreasing, includes 0 and negatives
        let q = randomOrthogonal(n, seed: 50)
        let a = q * DenseMatrix.diagonal(lambda) * q.transposed
        let err = maxRelativeDifference(LinearAlgebra.symmetricEigenvalues(of: a), lambda, relativeTo: 1)
        #expect(err < 1e-13, "maxdiff \(err)")
        // Agrees with the general algorithm.
        let general = LinearAlgebra.eigenvalues(of: a)
        #expect(general.allSatisfy { abs($0.im) < 1e-12 })
        #expect(matchingDistance(general, real(lambda)) < 1e-12)
    }

    @Test func smallCases() {
        #expect(LinearAlgebra.symmetricEigenvalues(of: DenseMatrix([[2]])) == [2])
        let two = LinearAlgebra.symmetricEigenvalues(of: DenseMatrix([[2, 1], [1, 2]]))
        #expect(abs(two[0] - 3) < 1e-15 && abs(two[1] - 1) < 1e-15)
        #expect(LinearAlgebra.symmetricEigenvalues(of: DenseMatrix(rows: 3, cols: 3)) == [0, 0, 0])
        // Zero diagonal, equal off-diagonals (eigenvalues ±√2 and 0): shifts must not stall.
        let path = DenseMatrix([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
        let root2 = (2.0).squareRoot()
        let err = maxRelativeDifference(LinearAlgebra.symmetricEigenvalues(of: path), [root2, 0, -root2], relativeTo: 1)
        #expect(err < 1e-14, "maxdiff \(err)")
    }
}

@Suite struct LyapunovAccumulatorTests {
    @Test func constantDiagonalGivesLogarithms() {
        let d = [2.0, -0.5, 1.5, 0.1]
        var acc = LyapunovAccumulator(size: 4, count: 4)
        for _ in 0..<50 { acc.push(DenseMatrix.diagonal(d)) }
        let expected = d.map { log(abs($0)) }.sorted(by: >)
        let err = maxRelativeDifference(acc.lyapunovExponents, expected, relativeTo: 1)
        #expect(err < 1e-14, "maxdiff \(err)")
        #expect(acc.steps == 50)
    }

    @Test func productsOfDiagonalsAreExact() {
        var rng = TestRandom(60)
        var acc = LyapunovAccumulator(size: 5, count: 5)
        var logProduct = [Double](repeating: 0, count: 5)
        for _ in 0..<20 {
            let d = (0..<5).map { _ in rng.gaussian() }
            for i in 0..<5 { logProduct[i] += log(abs(d[i])) }
            acc.push(.diagonal(d))
        }
        let expected = logProduct.map { exp($0) }.sorted(by: >)
        let err = maxRelativeDifference(acc.productSingularValueEstimates, expected)
        #expect(err < 1e-12, "maxdiff \(err)")
    }

    @Test func orthogonalTimesDiagonalIsExact() {
        // J_t = U_t D U_{t-1}ᵀ with U_0 = I and random orthogonal U_t: J_t maps Q_{t-1} = U_{t-1}
        // (first k columns) to U_t D, so every R_t is D and the product U_l D^l has singular
        // values d_i^l, which the accumulator must reproduce for any k.
        let d = [1.3, 1.1, 0.9, 0.6, 0.2, 0.05]
        let n = d.count, steps = 12
        for k in [2, n] {
            var acc = LyapunovAccumulator(size: n, count: k)
            var previous = DenseMatrix.identity(n)
            var product = DenseMatrix.identity(n)
            for t in 0..<steps {
                let u = randomOrthogonal(n, seed: 70 + UInt64(t))
                let j = u * DenseMatrix.diagonal(d) * previous.transposed
                acc.push(j)
                product = j * product
                previous = u
            }
            let exact = d.prefix(k).map { pow($0, Double(steps)) }
            let err = maxRelativeDifference(acc.productSingularValueEstimates, exact)
            #expect(err < 1e-10, "k \(k) maxdiff \(err)")
            let explicit = Array(LinearAlgebra.singularValues(of: product).prefix(k))
            let explicitErr = maxRelativeDifference(explicit, exact, relativeTo: exact[0])
            #expect(explicitErr < 1e-12, "k \(k) maxdiff \(explicitErr)")
            let exponents = d.prefix(k).map { log($0) }
            let expErr = maxRelativeDifference(acc.lyapunovExponents, exponents, relativeTo: 1)
            #expect(expErr < 1e-12, "k \(k) maxdiff \(expErr)")
        }
    }

    @Test func randomProductMatchesExplicitProduct() {
        // Well-conditioned random Jacobians (I + 0.3 G): the explicit product is still accurate
        // after 30 steps. Full k: Σ L_i = log|det P| exactly; leading exponents agree with
        // (1/l) log σ_i(P) up to the O(1/l) start-up term.
        let n = 6, steps = 30
        var acc = LyapunovAccumulator(size: n, count: n)
        var product = DenseMatrix.identity(n)
        for t in 0..<steps {
            var j = randomMatrix(n, n, seed: 80 + UInt64(t))
            for i in 0..<(n * n) { j[i / n, i % n] *= 0.3 }
            for i in 0..<n { j[i, i] += 1 }
            acc.push(j)
            product = j * product
        }
        let sigma = LinearAlgebra.singularValues(of: product)
        let sumL = acc.logGrowth.reduce(0, +), logDet = sigma.reduce(0) { $0 + log($1) }
        #expect(abs(sumL - logDet) < 1e-10, "Σ L \(sumL) vs log|det| \(logDet)")
        let estimates = acc.productSingularValueEstimates
        #expect(abs(log(estimates[0] / sigma[0])) / Double(steps) < 0.02, "\(estimates[0]) vs \(sigma[0])")
        let exponents = acc.lyapunovExponents
        for i in 0..<n {
            let exact = log(sigma[i]) / Double(steps)
            #expect(abs(exponents[i] - exact) < 0.05, "λ_\(i) \(exponents[i]) vs \(exact)")
        }
        // The basis stays orthonormal.
        let q = acc.directions
        let gram = q.transposed * q
        var worst = 0.0
        for i in 0..<n { for j in 0..<n { worst = max(worst, abs(gram[i, j] - (i == j ? 1 : 0))) } }
        #expect(worst < 1e-14, "‖QᵀQ - I‖ \(worst)")
    }

    @Test func singularJacobianGivesMinusInfinity() {
        var acc = LyapunovAccumulator(size: 3, count: 3)
        acc.push(DenseMatrix([[2, 0, 0], [0, 0, 0], [0, 0, 3]]))
        acc.push(DenseMatrix.diagonal([2, 5, 3]))
        let exponents = acc.lyapunovExponents
        #expect(abs(exponents[0] - log(3)) < 1e-14)
        #expect(abs(exponents[1] - log(2)) < 1e-14)
        #expect(exponents[2] == -.infinity)
        #expect(acc.productSingularValueEstimates[2] == 0)
    }

    @Test func nonFiniteJacobianGivesNaN() {
        var acc = LyapunovAccumulator(size: 3, count: 2)
        acc.push(DenseMatrix([[1, 0, 0], [0, .nan, 0], [0, 0, 1]]))
        #expect(acc.lyapunovExponents.contains { $0.isNaN })
    }
}
