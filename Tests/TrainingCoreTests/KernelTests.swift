import Foundation
import Testing
import TrainingCore

/// A small deterministic generator (SplitMix64) so that every run tests the same matrices.
private struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Int64(bitPattern: next()) >> 40) / Float(1 << 23) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
}

/// One sgemm problem with its own storage: A, B, C row-major with the given leading dimensions.
private struct GEMMCase {
    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    var lda: Int, ldb: Int, ldc: Int
    var alpha: Float, beta: Float
    var a: [Float], b: [Float], c: [Float]

    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
         padding: Int = 0, random: inout SplitMix) {
        self.transA = transA; self.transB = transB
        self.m = m; self.n = n; self.k = k
        self.alpha = alpha; self.beta = beta
        // A is m x k (k x m when transposed), B is k x n (n x k when transposed).
        lda = (transA ? m : k) + padding
        ldb = (transB ? k : n) + padding
        ldc = n + padding
        a = random.floats(max(1, (transA ? k : m) * lda))
        b = random.floats(max(1, (transB ? n : k) * ldb))
        c = random.floats(max(1, m * ldc))
    }

    func opA(_ i: Int, _ p: Int) -> Double { Double(transA ? a[p * lda + i] : a[i * lda + p]) }
    func opB(_ p: Int, _ j: Int) -> Double { Double(transB ? b[j * ldb + p] : b[p * ldb + j]) }

    /// The exact product in Double, and a bound on its rounding error in Float arithmetic:
    /// |fl(C) - C| <= u * (k + 2) * (|alpha| sum_p |a_ip b_pj| + |beta c_ij|), with a margin.
    func reference() -> (values: [Double], bounds: [Double]) {
        var values = [Double](repeating: 0, count: m * n), bounds = values
        let u = Double(Float.ulpOfOne)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    sum += opA(i, p) * opB(p, j)
                    magnitude += abs(opA(i, p) * opB(p, j))
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                values[i * n + j] = Double(alpha) * sum + old
                bounds[i * n + j] = u * Double(k + 2) * (abs(Double(alpha)) * magnitude + abs(old)) + 1e-30
            }
        }
        return (values, bounds)
    }

    /// Runs sgemm on a copy of C and returns it (the full buffer, padding included).
    func run(threads: Int = 1) -> [Float] {
        var out = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                          beta: beta, c: pc.baseAddress!, ldc: ldc, threads: threads)
                }
            }
        }
        return out
    }

    /// The largest error of `out` divided by its bound (<= 1 passes), and whether the padding of C
    /// outside the m x n block was left untouched.
    func check(_ out: [Float]) -> (worstRatio: Double, paddingIntact: Bool) {
        let (values, bounds) = reference()
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                let error = abs(Double(out[i * ldc + j]) - values[i * n + j])
                worst = max(worst, error.isNaN ? .infinity : error / bounds[i * n + j])
            }
        }
        var intact = true
        for i in 0..<m {
            for j in n..<ldc where out[i * ldc + j].bitPattern != c[i * ldc + j].bitPattern { intact = false }
        }
        return (worst, intact)
    }
}

@Suite struct GEMMTests {
    static let transposes = [(false, false), (false, true), (true, false), (true, true)]

    @Test(arguments: transposes)
    func edgeSizesMatchDoubleReference(transA: Bool, transB: Bool) {
        var random = SplitMix(state: 1)
        // Sizes around the 6 x 16 register tile and the 8-wide packing steps.
        let sizes = [1, 2, 5, 6, 7, 8, 9, 15, 16, 17, 23, 33]
        var worst = 0.0
        for m in sizes {
            for n in sizes {
                let k = sizes[(m * 7 + n) % sizes.count]
                let problem = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k,
                                       alpha: 1, beta: 0, random: &random)
                worst = max(worst, problem.check(problem.run()).worstRatio)
            }
        }
        #expect(worst <= 1, "largest error / bound = \(worst)")
    }

    @Test(arguments: transposes)
    func randomShapesAlphaBetaAndPaddedStrides(transA: Bool, transB: Bool) {
        var random = SplitMix(state: 2)
        for trial in 0..<12 {
            let m = random.int(1...70), n = random.int(1...90), k = random.int(1...300)
            let alpha: Float = [1, -0.5, 2.25][trial % 3]
            let beta: Float = [0, 1, -1.5, 0.25][trial % 4]
            let problem = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                   beta: beta, padding: trial % 2 == 0 ? 0 : random.int(1...9), random: &random)
            let (worst, intact) = problem.check(problem.run())
            #expect(worst <= 1, "\(m)x\(n)x\(k) alpha \(alpha) beta \(beta): error / bound = \(worst)")
            #expect(intact, "\(m)x\(n)x\(k): wrote outside the m x n block of C")
        }
    }

    @Test(arguments: transposes)
    func deepAndWideProductsCrossEveryBlockBoundary(transA: Bool, transB: Bool) {
        // k spans several k blocks, m several row blocks, n several column blocks.
        var random = SplitMix(state: 3)
        for (m, n, k) in [(150, 20, 700), (13, 2100, 9), (301, 35, 40)] {
            let problem = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, beta: 2,
                                   padding: 3, random: &random)
            let (worst, intact) = problem.check(problem.run())
            #expect(worst <= 1, "\(m)x\(n)x\(k): error / bound = \(worst)")
            #expect(intact)
        }
    }

    @Test func betaZeroNeverReadsC() {
        var random = SplitMix(state: 4)
        for (transA, transB) in Self.transposes {
            var problem = GEMMCase(transA: transA, transB: transB, m: 19, n: 37, k: 11, random: &random)
            for i in 0..<problem.c.count { problem.c[i] = .nan }
            let out = problem.run()
            let nanCount = (0..<19).reduce(0) { count, i in
                count + (0..<37).filter { out[i * problem.ldc + $0].isNaN }.count
            }
            #expect(nanCount == 0, "NaN from C leaked into \(nanCount) results")
            #expect(problem.check(out).worstRatio <= 1)
        }
    }

    @Test func emptyDepthOrZeroAlphaScalesC() {
        var random = SplitMix(state: 5)
        // k == 0: C = beta C; alpha == 0: A and B (here NaN) are not read.
        var problem = GEMMCase(transA: false, transB: false, m: 5, n: 9, k: 0, beta: 0.5, random: &random)
        var out = problem.run()
        #expect((0..<45).allSatisfy { out[$0] == 0.5 * problem.c[$0] })
        problem = GEMMCase(transA: true, transB: false, m: 5, n: 9, k: 4, alpha: 0, beta: -2, random: &random)
        problem.a = problem.a.map { _ in .nan }
        out = problem.run()
        #expect((0..<45).allSatisfy { out[$0] == -2 * problem.c[$0] })
        problem.beta = 0
        out = problem.run()
        #expect(out.allSatisfy { $0 == 0 })
        // m == 0 or n == 0: nothing is touched.
        problem = GEMMCase(transA: false, transB: true, m: 0, n: 4, k: 3, beta: 3, random: &random)
        #expect(problem.run() == problem.c)
    }

    @Test(arguments: transposes)
    func resultIsBitIdenticalForEveryThreadCountAndSplit(transA: Bool, transB: Bool) {
        var random = SplitMix(state: 6)
        for (m, n, k) in [(70, 530, 300), (530, 70, 300), (33, 512, 128)] {
            let problem = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: 1,
                                   padding: 2, random: &random)
            let single = problem.run(threads: 1)
            for threads in [2, 3, 4] {
                let out = problem.run(threads: threads)
                #expect(out.map(\.bitPattern) == single.map(\.bitPattern), "\(threads) threads differ")
            }
            // Any split of C into row and column blocks (what a threaded call does) gives the same bits.
            var pieces = problem.c
            let rowCut = m / 3 + 1, colCut = n / 2 + 5
            problem.a.withUnsafeBufferPointer { pa in
                problem.b.withUnsafeBufferPointer { pb in
                    pieces.withUnsafeMutableBufferPointer { pc in
                        for (row0, rows) in [(0, rowCut), (rowCut, m - rowCut)] {
                            for (col0, cols) in [(0, colCut), (colCut, n - colCut)] {
                                let a = transA ? pa.baseAddress! + row0 : pa.baseAddress! + row0 * problem.lda
                                let b = transB ? pb.baseAddress! + col0 * problem.ldb : pb.baseAddress! + col0
                                sgemm(transA: transA, transB: transB, m: rows, n: cols, k: k, alpha: 1,
                                      a: a, lda: problem.lda, b: b, ldb: problem.ldb, beta: 1,
                                      c: pc.baseAddress! + row0 * problem.ldc + col0, ldc: problem.ldc)
                            }
                        }
                    }
                }
            }
            #expect(pieces.map(\.bitPattern) == single.map(\.bitPattern), "block-wise product differs")
        }
    }
}
