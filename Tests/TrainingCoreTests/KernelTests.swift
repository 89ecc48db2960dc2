import DiagnoseRecord
import Foundation
import Testing
import TrainingCore

/// A small deterministic generator (SplitMix64) so that every run tests the same matrices.
private struct SplitMix {
    var generator: SeededGenerator
    init(state: UInt64) { generator = SeededGenerator(rawState: state) }
    mutating func next() -> UInt64 { generator.next() }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Int64(bitPattern: next()) >> 40) / Float(1 << 23) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
}

/// How many positions of two equally long arrays differ in their bit patterns.
private func bitDifferences(_ x: [Float], _ y: [Float]) -> Int {
    x.count != y.count ? max(x.count, y.count) : zip(x, y).filter { $0.bitPattern != $1.bitPattern }.count
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
    func run(threads: ComputeThreads = 1) -> [Float] {
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
        // k spans several k blocks, m several row blocks, n several column blocks; m = 32 and 7
        // leave a last panel of two rows and of one row.
        var random = SplitMix(state: 3)
        for (m, n, k) in [(150, 20, 700), (13, 2100, 9), (301, 35, 40), (32, 100, 300), (7, 97, 260)] {
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

    @Test func aPrivatePoolMayBeDroppedBeforeItsWorkersStart() {
        // The pool goes out of scope at once; its workers, started later, must still find it
        // (they read it through an unowned reference once, which trapped: "already destroyed").
        for _ in 0..<32 { _ = ComputeThreads.privatePool(2).count }
        usleep(200_000)
        let kept = ComputeThreads.privatePool(2)
        var random = SplitMix(state: 9)
        let problem = GEMMCase(transA: false, transB: false, m: 70, n: 530, k: 300, alpha: 1, beta: 1,
                               padding: 2, random: &random)
        #expect(bitDifferences(problem.run(threads: kept), problem.run(threads: 1)) == 0)
        #expect(kept.splitJobs > 0)
    }

    @Test(arguments: transposes)
    func resultIsBitIdenticalForEveryThreadCountAndSplit(transA: Bool, transB: Bool) {
        // Pools of their own: a shared pool kept busy by another test would run everything on one thread.
        let pools = [2, 3, 4].map { ComputeThreads.privatePool($0) }
        var random = SplitMix(state: 6)
        for (m, n, k) in [(70, 530, 300), (530, 70, 300), (33, 512, 128)] {
            let problem = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: 1,
                                   padding: 2, random: &random)
            let single = problem.run(threads: 1)
            for threads in pools {
                let splitBefore = threads.splitJobs
                let out = problem.run(threads: threads)
                #expect(threads.splitJobs > splitBefore, "the product was not split over \(threads.count) threads")
                #expect(bitDifferences(out, single) == 0, "\(threads.count) threads differ")
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
            #expect(bitDifferences(pieces, single) == 0, "block-wise product differs")
        }
    }
}

extension GEMMTests {
    @Test(arguments: [false, true])
    func packedRightOperandGivesTheSameBits(transB: Bool) {
        let two = ComputeThreads.privatePool(2)
        var random = SplitMix(state: 11)
        for (m, n, k) in [(33, 530, 300), (20, 70, 600), (7, 1, 1), (100, 17, 40)] {
            var problem = GEMMCase(transA: m % 2 == 0, transB: transB, m: m, n: n, k: k, alpha: 0.75, beta: 1,
                                   padding: 1, random: &random)
            let packed = problem.b.withUnsafeBufferPointer {
                SGEMMPackedB(transB: transB, k: k, n: n, b: $0.baseAddress!, ldb: problem.ldb)
            }
            func runPacked(threads: ComputeThreads) -> [Float] {
                var out = problem.c
                problem.a.withUnsafeBufferPointer { pa in
                    out.withUnsafeMutableBufferPointer { pc in
                        sgemm(transA: problem.transA, m: m, alpha: problem.alpha, a: pa.baseAddress!, lda: problem.lda,
                              packedB: packed, beta: problem.beta, c: pc.baseAddress!, ldc: problem.ldc, threads: threads)
                    }
                }
                return out
            }
            let plain = problem.run()
            #expect(bitDifferences(runPacked(threads: 1), plain) == 0, "\(m)x\(n)x\(k)")
            #expect(bitDifferences(runPacked(threads: two), plain) == 0, "\(m)x\(n)x\(k), 2 threads")
            // After new weights, `update` repacks in place.
            problem.b = random.floats(problem.b.count)
            problem.b.withUnsafeBufferPointer { packed.update(transB: transB, b: $0.baseAddress!, ldb: problem.ldb) }
            #expect(bitDifferences(runPacked(threads: 1), problem.run()) == 0, "\(m)x\(n)x\(k) updated")
            #expect(problem.check(runPacked(threads: 1)).worstRatio <= 1)
        }
    }
}

extension GEMMTests {
    /// An untransposed A is read in place by the micro-kernels (only a last panel of fewer than six
    /// rows is packed); the same matrix stored transposed is packed. Both must give the same bits.
    @Test(arguments: [false, true])
    func leftOperandReadInPlaceGivesThePackedBits(transB: Bool) {
        var random = SplitMix(state: 12)
        for (m, n, k) in [(70, 530, 300), (35, 64, 513), (5, 40, 7), (13, 17, 40)] {
            let problem = GEMMCase(transA: false, transB: transB, m: m, n: n, k: k, alpha: 0.75, beta: 1,
                                   padding: 3, random: &random)
            var transposed = problem
            transposed.transA = true
            transposed.lda = m + 3
            transposed.a = [Float](repeating: 0, count: k * transposed.lda)
            for i in 0..<m {
                for p in 0..<k { transposed.a[p * transposed.lda + i] = problem.a[i * problem.lda + p] }
            }
            let packed = transposed.run()
            #expect(bitDifferences(problem.run(), packed) == 0, "\(m)x\(n)x\(k)")
            #expect(bitDifferences(problem.run(threads: 2), packed) == 0, "\(m)x\(n)x\(k), 2 threads")
            #expect(problem.check(packed).worstRatio <= 1)
        }
    }
}

/// Applies an in-place kernel to a copy of `values`.
private func applied(_ values: [Float], _ kernel: (UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
    var out = values
    out.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, $0.count) }
    return out
}

@Suite struct ActivationTests {
    /// Every 1/4096 over [-20, 20] plus the points where the formulas switch.
    static let grid: [Float] = (-81_920...81_920).map { Float($0) / 4096 }
        + [0.625, Float(0.625).nextDown, -0.625, Float(0.625).nextUp, 9.5, 9.0, 17, -87, -88, 1e-7, -1e-30]

    @Test func tanhIsWithin2e7OfFoundation() {
        let y = applied(Self.grid) { Elementwise.tanh($0, count: $1) }
        var worst = 0.0, worstAt: Float = 0
        for (x, v) in zip(Self.grid, y) {
            let error = abs(Double(v) - Foundation.tanh(Double(x)))
            if !(error <= worst) { worst = error; worstAt = x }
        }
        #expect(worst <= 2e-7, "max |tanh error| = \(worst) at x = \(worstAt)")
    }

    @Test func sigmoidIsWithin2e7OfFoundation() {
        let y = applied(Self.grid) { Elementwise.sigmoid($0, count: $1) }
        var worst = 0.0, worstAt: Float = 0
        for (x, v) in zip(Self.grid, y) {
            let error = abs(Double(v) - 1 / (1 + Foundation.exp(-Double(x))))
            if !(error <= worst) { worst = error; worstAt = x }
        }
        #expect(worst <= 2e-7, "max |sigmoid error| = \(worst) at x = \(worstAt)")
    }

    @Test func specialValuesSaturateExactlyAndNaNPropagates() {
        let inputs: [Float] = [20, -20, 10, -9.2, .infinity, -.infinity, .nan, 0, -0.0, 100, -100, -1]
        let t = applied(inputs) { Elementwise.tanh($0, count: $1) }
        #expect(Array(t[0..<6]) == [1, -1, 1, -1, 1, -1])
        #expect(t[6].isNaN)
        #expect(t[7].bitPattern == Float(0).bitPattern && t[8].bitPattern == Float(-0.0).bitPattern)
        let s = applied(inputs) { Elementwise.sigmoid($0, count: $1) }
        #expect(s[0] == 1 && s[4] == 1 && s[9] == 1)
        #expect(s[5] == 0 && s[10] == 0)
        #expect(s[6].isNaN)
        #expect(s[7] == 0.5)
        let r = applied(inputs) { Elementwise.relu($0, count: $1) }
        #expect(r[0] == 20 && r[1] == 0 && r[4] == .infinity && r[5] == 0 && r[11] == 0)
        #expect(r[6].isNaN)
    }

    @Test func resultDoesNotDependOnPositionOrCount() {
        // The same value computed in the vector body and in the padded tail gives the same bits.
        var random = SplitMix(state: 7)
        let values = random.floats(13).map { $0 * 6 }
        for kernel in [Elementwise.tanh(_:count:), Elementwise.sigmoid(_:count:)] as [(UnsafeMutablePointer<Float>, Int) -> Void] {
            let whole = applied(values) { kernel($0, $1) }
            let shifted = applied([0, 0, 0] + values) { kernel($0, $1) }
            let alone = values.map { v in applied([v]) { kernel($0, $1) }[0] }
            #expect(bitDifferences(whole, Array(shifted.dropFirst(3))) == 0)
            #expect(bitDifferences(whole, alone) == 0)
        }
    }

    @Test func derivativesFromOutputsMatchCentralDifferences() {
        // dy/dx from y alone against (f(x + h) - f(x - h)) / 2h in Double (away from relu's kink).
        let xs: [Float] = [-4, -1.5, -0.3, 0.01, 0.2, 0.9, 2.5, 3.7, -2.2, 1.1, 0.6]
        let h = 1e-4
        func check(_ forward: (UnsafeMutablePointer<Float>, Int) -> Void,
                   _ backward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                   _ exact: (Double) -> Double) -> Double {
            let y = applied(xs, forward)
            var g = [Float](repeating: 1, count: xs.count)
            y.withUnsafeBufferPointer { py in g.withUnsafeMutableBufferPointer { backward(py.baseAddress!, $0.baseAddress!, xs.count) } }
            return zip(xs, g).map { x, d in abs(Double(d) - (exact(Double(x) + h) - exact(Double(x) - h)) / (2 * h)) }.max()!
        }
        let sig = check({ Elementwise.sigmoid($0, count: $1) }, { Elementwise.sigmoidBackward(output: $0, gradient: $1, count: $2) },
                        { 1 / (1 + Foundation.exp(-$0)) })
        let tnh = check({ Elementwise.tanh($0, count: $1) }, { Elementwise.tanhBackward(output: $0, gradient: $1, count: $2) },
                        { Foundation.tanh($0) })
        let rel = check({ Elementwise.relu($0, count: $1) }, { Elementwise.reluBackward(output: $0, gradient: $1, count: $2) },
                        { max($0, 0) })
        #expect(sig < 1e-6, "sigmoid' max difference \(sig)")
        #expect(tnh < 1e-6, "tanh' max difference \(tnh)")
        #expect(rel < 1e-6, "relu' max difference \(rel)")
        // The gradient is multiplied, not replaced.
        var g: [Float] = [3]
        Elementwise.tanhBackward(output: [0.5], gradient: &g, count: 1)
        #expect(g == [2.25])
    }
}

@Suite struct VectorHelperTests {
    @Test func axpyScaleMultiplyMatchScalarLoops() {
        var random = SplitMix(state: 8)
        let x = random.floats(37), y0 = random.floats(37)
        var y = y0
        Elementwise.axpy(-1.5, x, &y, count: 37)
        // One fused multiply-add per element.
        #expect(y == (0..<37).map { y0[$0].addingProduct(-1.5, x[$0]) })
        var s = x
        Elementwise.scale(&s, by: 0.25, count: 37)
        #expect(s == x.map { $0 * 0.25 })
        var z = [Float](repeating: 0, count: 37)
        Elementwise.multiply(x, y0, into: &z, count: 37)
        #expect(z == zip(x, y0).map { $0 * $1 })
    }

    @Test func dotAndSumOfSquaresAccumulateInDouble() {
        var random = SplitMix(state: 9)
        let x = random.floats(1001), y = random.floats(1001)
        let exact = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(Elementwise.dot(x, y, count: 1001) - exact) < 1e-10)
        let squares = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(Elementwise.sumOfSquares(x, count: 1001) - squares) < 1e-10)
        // Values whose squares vanish next to 1 in Float still count in Double.
        let tiny: [Float] = [1] + [Float](repeating: 1e-4, count: 20)
        #expect(abs(Elementwise.sumOfSquares(tiny, count: 21) - (1 + 20 * 1e-8)) < 1e-12)
    }

    @Test func biasRowsAndColumnSumsRespectStride() {
        // A 5 x 11 matrix stored with row stride 13; the padding must not move.
        var random = SplitMix(state: 10)
        let rows = 5, cols = 11, ld = 13
        let m0 = random.floats(rows * ld), bias = random.floats(cols)
        var m = m0
        Elementwise.addBias(bias, to: &m, rows: rows, cols: cols, ld: ld)
        for i in 0..<rows {
            for j in 0..<ld {
                #expect(m[i * ld + j] == (j < cols ? m0[i * ld + j] + bias[j] : m0[i * ld + j]))
            }
        }
        var sums = [Float](repeating: 1, count: cols)
        Elementwise.addColumnSums(of: m0, rows: rows, cols: cols, ld: ld, into: &sums)
        for j in 0..<cols {
            let expected = (0..<rows).reduce(Double(1)) { $0 + Double(m0[$1 * ld + j]) }
            #expect(abs(Double(sums[j]) - expected) < 1e-5, "column \(j)")
        }
    }
}

@Suite struct SoftmaxAndReductionTests {
    @Test func exponentialsAndSumMatchFoundationAndFlushTinyValues() {
        var random = SplitMix(state: 21)
        // 75 values (a partial last vector), shifted by their maximum as the softmax does.
        var x = random.floats(75).map { $0 * 40 }
        x[3] = -200  // e^(-200 - max) underflows: flushed to exactly 0
        let shift = x.max()!
        let original = x
        let sum = Elementwise.exponentialsAndSum(&x, minus: shift, count: x.count)
        var exactSum = 0.0
        for (value, y) in zip(original, x) {
            let exact = Foundation.exp(Double(value - shift))
            exactSum += exact < 1.7e-38 ? 0 : exact
            if exact < 1.7e-38 {
                #expect(y == 0, "e^\(value - shift) should flush to 0, got \(y)")
            } else {
                #expect(abs(Double(y) - exact) <= 3e-7 * exact, "e^\(value - shift) = \(y), exact \(exact)")
            }
        }
        #expect(abs(Double(sum) - exactSum) <= 1e-6 * exactSum)
        var withNaN: [Float] = [0, .nan, -1]
        _ = Elementwise.exponentialsAndSum(&withNaN, minus: 0, count: 3)
        #expect(withNaN[0] == 1 && withNaN[1].isNaN && abs(withNaN[2] - Float(Foundation.exp(-1.0))) < 1e-7)
    }

    @Test func maximumIsExactForEveryLengthAndSkipsNaN() {
        var random = SplitMix(state: 22)
        for count in [0, 1, 7, 8, 9, 64, 65] {
            let x = random.floats(count)
            #expect(Elementwise.maximum(x, count: count) == (x.max() ?? -.infinity), "count \(count)")
        }
        #expect(Elementwise.maximum([1, .nan, 3, 2, 0, 0, 0, 0, -1], count: 9) == 3)
    }

    /// Also for vanishing rows, whose squares are subnormal Floats: the kernel squares in Double
    /// (no slow subnormal multiply) and must still give the Float product's bits.
    @Test(arguments: [Float(1), 1e-20, 1e-22, 0x1p-70])
    func rowSumsOfSquaresEqualThePlainLoopBitForBit(scale: Float) {
        var random = SplitMix(state: 23)
        for (rows, width) in [(19, 13), (16, 128), (3, 8), (9, 1)] {
            let x = random.floats(rows * width).map { $0 * scale }
            #expect(scale == 1 || x.contains { ($0 * $0).isSubnormal })
            var sums = [Float](repeating: -1, count: rows)
            Elementwise.rowSumsOfSquares(x, rows: rows, width: width, into: &sums)
            for r in 0..<rows {
                var plain: Float = 0
                for i in 0..<width { plain += x[r * width + i] * x[r * width + i] }
                #expect(sums[r].bitPattern == plain.bitPattern, "\(rows)x\(width) row \(r)")
            }
        }
    }

    @Test func wideColumnSumsEqualTheRowByRowLoopBitForBit() {
        var random = SplitMix(state: 24)
        let rows = 7, cols = 147, ld = 150
        let m = random.floats(rows * ld)
        var sums = random.floats(cols)
        var plain = sums
        Elementwise.addColumnSums(of: m, rows: rows, cols: cols, ld: ld, into: &sums)
        for i in 0..<rows { for j in 0..<cols { plain[j] += m[i * ld + j] } }
        #expect(bitDifferences(sums, plain) == 0)
    }

    @Test func tanhBackwardIntoAnotherBufferMatchesTheInPlaceKernel() {
        var random = SplitMix(state: 25)
        let y = random.floats(37), g = random.floats(37)
        var inPlace = g, out = [Float](repeating: 0, count: 37)
        Elementwise.tanhBackward(output: y, gradient: &inPlace, count: 37)
        Elementwise.tanhBackward(output: y, gradient: g, into: &out, count: 37)
        #expect(bitDifferences(out, inPlace) == 0)
        #expect(out[5] == g[5] * (1 - y[5] * y[5]))
    }
}

@Suite struct ThreadIndependenceTests {
    /// Two SGD steps of every cell at one and at two threads: the parameters must agree bit for bit
    /// (the recurrence is split by streams, the softmax by rows, the bias sums and the update by
    /// columns or elements: the sizes are chosen so that each of these is actually split).
    @Test(arguments: [CellKind.rnn, .lstm, .gru])
    func trainingStepsGiveTheSameBitsForAnyThreadCount(cell: CellKind) {
        func train(threads: ComputeThreads) -> [Float] {
            let model = LanguageModel(config: ModelConfig(cell: cell, layers: 2, vocabularySize: 600, embed: 64, hidden: 64))
            model.initialize(Initialization(seed: 3))
            let runner = StepRunner(model: model, optimizer: .sgd, learningRate: 0.5, clip: 0.25, threads: threads)
            var random = SplitMix(state: 26)
            for _ in 0..<2 {
                let window = (0..<(13 * 30)).map { _ in Int32(random.int(0...599)) }
                _ = runner.step(Batch(batch: 30, steps: 12, window: window, recall: nil))
            }
            return model.parameters.array
        }
        expectSameBitsAtOneAndTwoThreads("\(cell)", train)
    }
}

/// Runs `train` on one thread and on two threads of a pool of its own (a busy shared pool would
/// run everything on one), and expects the work to have been split and the results to agree bit for bit.
func expectSameBitsAtOneAndTwoThreads(_ what: String, _ train: (ComputeThreads) -> [Float]) {
    let pool = ComputeThreads.privatePool(2)
    let one = train(1), two = train(pool)
    #expect(pool.splitJobs > 0, "\(what): nothing was split over the two threads")
    #expect(one.count == two.count)
    #expect(bitDifferences(one, two) == 0, "\(what): results differ between 1 and 2 threads")
}
