// Vectorised elementwise kernels: activations, their derivatives, and the BLAS-1 helpers that
// backpropagation needs. Unsafe pointers stay inside Kernels/.
//
// Every kernel walks its input eight floats at a time (one AVX register); the last, partial group
// is copied into a zero-padded SIMD8 and goes through the very same code, so each element's result
// depends only on its own input, never on its position or on `count`. Nothing here is threaded and
// nothing depends on the machine beyond IEEE arithmetic: same input, same bits.

private typealias Vector = SIMD8<Float>
private typealias Bits = SIMD8<UInt32>

/// Namespace for the elementwise kernels. Counts are element counts. Where a kernel has an input
/// and an output they may be the same buffer (x == y), but must not overlap otherwise.
public enum Elementwise {

    // MARK: Activations

    /// y = sigmoid(x) = 1 / (1 + e^(-x)), in place.
    /// Max abs error ~1e-7 (a few ulp); y is exactly 1 for x > 17 and exactly 0 for x < -88;
    /// NaN stays NaN.
    public static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) {
        apply(Sigmoid(), UnsafePointer(x), into: x, count)
    }

    /// y = sigmoid(x) written to `y` (see the in-place variant for accuracy).
    public static func sigmoid(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        apply(Sigmoid(), x, into: y, count)
    }

    /// y = tanh(x), in place. Max abs error < 2e-7 against the exact value (8e-8 measured over
    /// [-20, 20]); y is exactly +-1 for |x| > 9.1 (where tanh rounds to 1 in Float);
    /// tanh(-0) = -0; NaN stays NaN.
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        apply(Tanh(), UnsafePointer(x), into: x, count)
    }

    /// y = tanh(x) written to `y` (see the in-place variant for accuracy).
    public static func tanh(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        apply(Tanh(), x, into: y, count)
    }

    /// y = max(x, 0), in place (NaN stays NaN).
    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        apply(ReLU(), UnsafePointer(x), into: x, count)
    }

    /// y = max(x, 0) written to `y` (NaN stays NaN).
    public static func relu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        apply(ReLU(), x, into: y, count)
    }

    // MARK: A fused cell

    /// One LSTM step of one row in a single pass over its units, eight at a time: `gates` holds the
    /// pre-activations [i f g o] (4 x hidden) and receives i = sigmoid, f = sigmoid, g = tanh,
    /// o = sigmoid; then c = f * cPrev + i * g, tanhC = tanh(c) and h = o * tanhC. Each element gets
    /// the same arithmetic as from the separate kernels, in one trip through L1 instead of six.
    public static func lstmCell(gates: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>,
                                c: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>,
                                h: UnsafeMutablePointer<Float>, hidden: Int) {
        var u = 0
        while u < hidden {
            let n = min(8, hidden - u)
            @inline(__always) func get(_ p: UnsafePointer<Float>) -> Vector { n == 8 ? load(p) : load(p, first: n) }
            @inline(__always) func put(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
                if n == 8 { store(v, p) } else { store(v, p, first: n) }
            }
            let inputGate = sigmoidVector(get(gates + u)), forgetGate = sigmoidVector(get(gates + hidden + u))
            let candidate = tanhVector(get(gates + 2 * hidden + u))
            let outputGate = sigmoidVector(get(gates + 3 * hidden + u))
            let cell = forgetGate * get(cPrev + u) + inputGate * candidate
            let tanhCell = tanhVector(cell)
            put(inputGate, gates + u)
            put(forgetGate, gates + hidden + u)
            put(candidate, gates + 2 * hidden + u)
            put(outputGate, gates + 3 * hidden + u)
            put(cell, c + u)
            put(tanhCell, tanhC + u)
            put(outputGate * tanhCell, h + u)
            u += 8
        }
    }

    // MARK: Derivatives, expressed from the outputs

    /// Backprop through y = sigmoid(x): g <- g * y (1 - y), where g holds dL/dy on entry and
    /// dL/dx on return.
    public static func sigmoidBackward(output y: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>,
                                       count: Int) {
        apply(SigmoidGradient(), y, UnsafePointer(g), into: g, count)
    }

    /// Backprop through y = tanh(x): g <- g * (1 - y^2).
    public static func tanhBackward(output y: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>,
                                    count: Int) {
        apply(TanhGradient(), y, UnsafePointer(g), into: g, count)
    }

    /// Backprop through y = tanh(x) into another buffer: z <- g * (1 - y^2).
    public static func tanhBackward(output y: UnsafePointer<Float>, gradient g: UnsafePointer<Float>,
                                    into z: UnsafeMutablePointer<Float>, count: Int) {
        apply(TanhGradient(), y, g, into: z, count)
    }

    /// Backprop through y = relu(x): g <- g where y > 0, else 0.
    public static func reluBackward(output y: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>,
                                    count: Int) {
        apply(ReLUGradient(), y, UnsafePointer(g), into: g, count)
    }

    // MARK: BLAS-1 helpers

    /// y <- alpha x + y (one fused multiply-add per element).
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                            count: Int) {
        apply(MultiplyAdd(alpha: Vector(repeating: alpha)), x, UnsafePointer(y), into: y, count)
    }

    /// x <- alpha x.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
        apply(Scale(alpha: Vector(repeating: alpha)), UnsafePointer(x), into: x, count)
    }

    /// z <- x * y elementwise (z may be x or y).
    public static func multiply(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                into z: UnsafeMutablePointer<Float>, count: Int) {
        apply(Product(), x, y, into: z, count)
    }

    /// sum_i x_i y_i, accumulated in Double (each product is exact in Double) in eight lanes
    /// summed in a fixed order.
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Double {
        var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>()
        var i = 0
        while i + 8 <= count {
            let a = load(x + i), b = load(y + i)
            acc0.addProduct(widen(a.lowHalf), widen(b.lowHalf))
            acc1.addProduct(widen(a.highHalf), widen(b.highHalf))
            i += 8
        }
        let lanes = acc0 + acc1
        var sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
        while i < count { sum += Double(x[i]) * Double(y[i]); i += 1 }
        return sum
    }

    /// sum_i x_i^2, accumulated in Double.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        dot(x, x, count: count)
    }

    /// x <- e^(x - shift) in place, returning the sum of the results: the softmax numerators of a
    /// row and their denominator when `shift` is the row's maximum. Max relative error ~2 ulp per
    /// element; results below e^-87 (~1.6e-38) are flushed to 0, NaN stays NaN. The sum is kept in
    /// eight lanes and folded in a fixed order: the same input gives the same bits on any thread.
    public static func exponentialsAndSum(_ x: UnsafeMutablePointer<Float>, minus shift: Float, count: Int) -> Float {
        let offset = Vector(repeating: shift)
        var sums = Vector()
        var i = 0
        while i + 8 <= count {
            let y = exponential(load(x + i) - offset)
            store(y, x + i)
            sums += y
            i += 8
        }
        if i < count {
            let n = count - i
            var y = exponential(load(x + i, first: n) - offset)
            for lane in n..<8 { y[lane] = 0 }
            store(y, x + i, first: n)
            sums += y
        }
        return ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]))
    }

    /// The largest element of x[0..<count] (-infinity when count is 0). Exact, so the order of the
    /// comparisons does not matter; NaN elements are skipped.
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var best = Vector(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            let v = load(x + i)
            best.replace(with: v, where: v .> best)
            i += 8
        }
        var result = best.max()
        while i < count { result = Swift.max(result, x[i]); i += 1 }
        return result
    }

    /// x * x rounded to Float, lane by lane, computed as the exact Double product rounded once: the
    /// same bits as the Float product (24-bit factors, a 48-bit product, one rounding either way),
    /// without the microcode assist an x86 core takes (measured: 80x slower) for every Float product
    /// that rounds to a subnormal (|x| below 2^-63). Vanishing gradients make such rows: they were
    /// a quarter of the RNN's probe time.
    @inline(__always)
    static func squares(_ v: SIMD8<Float>) -> SIMD8<Float> {
        // Lane by lane rather than the standard library's generic conversion, which a release
        // build calls out of line; these fold into one vcvtps2pd and one vcvtpd2ps. The product
        // is a fused multiply-add onto zero (exact all the same) because LLVM turns a plain
        // widened product, rounded back, into the Float multiply this avoids.
        let w = SIMD8<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]),
                              Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
        let p = SIMD8<Double>().addingProduct(w, w)
        return SIMD8<Float>(Float(p[0]), Float(p[1]), Float(p[2]), Float(p[3]),
                            Float(p[4]), Float(p[5]), Float(p[6]), Float(p[7]))
    }

    /// The same for one value.
    @inline(__always)
    static func square(_ x: Float) -> Float { Float(0.0.addingProduct(Double(x), Double(x))) }

    /// sums[r] = sum_i x[r * width + i]^2 for r < rows, each row summed in Float in order of i
    /// (square, then add), as a plain loop would; eight rows at a time go side by side in the
    /// lanes of one vector, which changes the speed (eight chains instead of one), not the bits.
    public static func rowSumsOfSquares(_ x: UnsafePointer<Float>, rows: Int, width: Int,
                                        into sums: UnsafeMutablePointer<Float>) {
        var r = 0
        while r + 8 <= rows {
            // Eight rows by eight columns at a time, transposed so that lane l holds row l: each
            // lane then adds its row's squares in column order.
            var acc = Vector()
            let base = x + r * width
            var i = 0
            while i + 8 <= width {
                var v0 = load(base + i), v1 = load(base + width + i)
                var v2 = load(base + 2 * width + i), v3 = load(base + 3 * width + i)
                var v4 = load(base + 4 * width + i), v5 = load(base + 5 * width + i)
                var v6 = load(base + 6 * width + i), v7 = load(base + 7 * width + i)
                transpose8x8(&v0, &v1, &v2, &v3, &v4, &v5, &v6, &v7)
                acc += squares(v0); acc += squares(v1); acc += squares(v2); acc += squares(v3)
                acc += squares(v4); acc += squares(v5); acc += squares(v6); acc += squares(v7)
                i += 8
            }
            while i < width {
                var v = Vector()
                for lane in 0..<8 { v[lane] = base[lane * width + i] }
                acc += squares(v)
                i += 1
            }
            store(acc, sums + r)
            r += 8
        }
        while r < rows {
            var sum: Float = 0
            let row = x + r * width
            for i in 0..<width { sum += square(row[i]) }
            sums[r] = sum
            r += 1
        }
    }

    /// M[i, j] <- M[i, j] + bias[j] for a rows x cols matrix with row stride `ld`.
    public static func addBias(_ bias: UnsafePointer<Float>, to m: UnsafeMutablePointer<Float>,
                               rows: Int, cols: Int, ld: Int) {
        for i in 0..<rows {
            let row = m + i * ld
            var j = 0
            while j + 8 <= cols {
                store(load(row + j) + load(bias + j), row + j)
                j += 8
            }
            while j < cols { row[j] += bias[j]; j += 1 }
        }
    }

    /// sums[j] <- sums[j] + sum_i M[i, j] (the bias gradient of a batch), for a rows x cols
    /// matrix with row stride `ld`. Each column is summed in Float, row by row in order, eight
    /// columns at a time.
    public static func addColumnSums(of m: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                                     into sums: UnsafeMutablePointer<Float>) {
        var j = 0
        // Sixty-four columns per pass over the rows (eight accumulators): each row is read as one
        // contiguous 256-byte piece instead of eight scattered 32-byte ones.
        while j + 64 <= cols {
            var a0 = load(sums + j), a1 = load(sums + j + 8), a2 = load(sums + j + 16), a3 = load(sums + j + 24)
            var a4 = load(sums + j + 32), a5 = load(sums + j + 40), a6 = load(sums + j + 48), a7 = load(sums + j + 56)
            for i in 0..<rows {
                let row = m + i * ld + j
                a0 += load(row); a1 += load(row + 8); a2 += load(row + 16); a3 += load(row + 24)
                a4 += load(row + 32); a5 += load(row + 40); a6 += load(row + 48); a7 += load(row + 56)
            }
            store(a0, sums + j); store(a1, sums + j + 8); store(a2, sums + j + 16); store(a3, sums + j + 24)
            store(a4, sums + j + 32); store(a5, sums + j + 40); store(a6, sums + j + 48); store(a7, sums + j + 56)
            j += 64
        }
        while j + 8 <= cols {
            var acc = load(sums + j)
            for i in 0..<rows { acc += load(m + i * ld + j) }
            store(acc, sums + j)
            j += 8
        }
        while j < cols {
            var acc = sums[j]
            for i in 0..<rows { acc += m[i * ld + j] }
            sums[j] = acc
            j += 1
        }
    }
}

// MARK: - Drivers

/// One operation on eight lanes. The drivers are generic over it rather than taking a closure:
/// specialisation then inlines the arithmetic into each loop (closures were outlined and merged
/// into one indirect call per vector).
private protocol Unary { func callAsFunction(_ x: Vector) -> Vector }
private protocol Binary { func callAsFunction(_ a: Vector, _ b: Vector) -> Vector }

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
}

@inline(__always) private func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
}

/// The first n < 8 floats at p, zero-padded.
@inline(__always) private func load(_ p: UnsafePointer<Float>, first n: Int) -> Vector {
    var v = Vector()
    for l in 0..<n { v[l] = p[l] }
    return v
}

@inline(__always) private func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, first n: Int) {
    for l in 0..<n { p[l] = v[l] }
}

@inline(__always) private func widen(_ v: SIMD4<Float>) -> SIMD4<Double> {
    SIMD4<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]))
}

/// y[i] = f(x[i]).
@inline(__always)
private func apply<F: Unary>(_ f: F, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i + 8 <= count {
        store(f(load(x + i)), y + i)
        i += 8
    }
    if i < count { store(f(load(x + i, first: count - i)), y + i, first: count - i) }
}

/// z[i] = f(a[i], b[i]).
@inline(__always)
private func apply<F: Binary>(_ f: F, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                              into z: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i + 8 <= count {
        store(f(load(a + i), load(b + i)), z + i)
        i += 8
    }
    if i < count {
        let n = count - i
        store(f(load(a + i, first: n), load(b + i, first: n)), z + i, first: n)
    }
}

private struct Sigmoid: Unary {
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { sigmoidVector(x) }
}

private struct Tanh: Unary {
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { tanhVector(x) }
}

private struct ReLU: Unary {
    // max(x, 0) with NaN kept: only lanes that are < 0 become 0.
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { x.replacing(with: 0, where: x .< 0) }
}

private struct Scale: Unary {
    let alpha: Vector
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { x * alpha }
}

/// (y, g) -> g y (1 - y).
private struct SigmoidGradient: Binary {
    @inline(__always) func callAsFunction(_ y: Vector, _ g: Vector) -> Vector { g * (y * (1 - y)) }
}

/// (y, g) -> g (1 - y^2).
private struct TanhGradient: Binary {
    @inline(__always) func callAsFunction(_ y: Vector, _ g: Vector) -> Vector { g * (1 - y * y) }
}

/// (y, g) -> y > 0 ? g : 0.
private struct ReLUGradient: Binary {
    @inline(__always) func callAsFunction(_ y: Vector, _ g: Vector) -> Vector {
        Vector(repeating: 0).replacing(with: g, where: y .> 0)
    }
}

/// (x, y) -> y + alpha x, fused.
private struct MultiplyAdd: Binary {
    let alpha: Vector
    @inline(__always) func callAsFunction(_ x: Vector, _ y: Vector) -> Vector { y.addingProduct(alpha, x) }
}

private struct Product: Binary {
    @inline(__always) func callAsFunction(_ x: Vector, _ y: Vector) -> Vector { x * y }
}

// MARK: - Vector math

/// Lanes of x limited to [low, high]. (The standard library's `clamped` is not specialised for
/// SIMD8 and costs two calls per vector; a compare and blend is one instruction each. NaN lanes
/// come out as `high`; callers put NaN back.)
@inline(__always) private func clamp(_ x: Vector, _ low: Float, _ high: Float) -> Vector {
    let lo = Vector(repeating: low), hi = Vector(repeating: high)
    return x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: .!(x .<= hi))
}

@inline(__always) private func bits(_ v: Vector) -> Bits { unsafeBitCast(v, to: Bits.self) }
@inline(__always) private func float(_ b: Bits) -> Vector { unsafeBitCast(b, to: Vector.self) }

/// e^x for x in [-87, 88] (callers clamp), max relative error ~2 ulp.
///
/// x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (ln2 split in two parts so that n ln2
/// is subtracted without rounding error); e^r = 1 + r + r^2 Q(r) with Q a degree-4 minimax fit
/// (relative error 3e-9 on the interval); 2^n is built directly in the exponent field.
@inline(__always)
private func expVector(_ x: Vector) -> Vector {
    // Adding 1.5 * 2^23 rounds x / ln2 to an integer n held in the low mantissa bits.
    let shifter = Vector(repeating: 12_582_912)
    let t = shifter.addingProduct(x, Vector(repeating: 1.442_695_02))
    let n = t - shifter
    var r = x.addingProduct(n, Vector(repeating: -0.693_115_234_375))
    r = r.addingProduct(n, Vector(repeating: -3.194_618_3e-5))
    var p = Vector(repeating: 0.001_381_461_6)
    p = Vector(repeating: 0.008_368_713_8).addingProduct(p, r)
    p = Vector(repeating: 0.041_668_389).addingProduct(p, r)
    p = Vector(repeating: 0.166_665_21).addingProduct(p, r)
    p = Vector(repeating: 0.499_999_94).addingProduct(p, r)
    let r2 = r * r
    let er = (r + 1).addingProduct(p, r2)
    // 2^n: (n + 127) in the exponent field; n is the low bits of t's pattern minus the shifter's.
    let scale = float((bits(t) &- bits(shifter) &+ 127) &<< 23)
    return er * scale
}

/// e^x for any x: 0 below -87 (where e^x < 1.7e-38), NaN kept; above 88 the clamp gives e^88.
@inline(__always)
private func exponential(_ x: Vector) -> Vector {
    var y = expVector(clamp(x, -87, 88))
    y.replace(with: 0, where: x .< -87)
    y.replace(with: x, where: x .!= x)
    return y
}

/// sigmoid(x) = 1 / (1 + e^(-x)). For x > 17, e^(-x) < 2^-25 and the sum rounds to 1; below -88
/// the true value is under 1e-38 and the result is set to 0.
@inline(__always)
private func sigmoidVector(_ x: Vector) -> Vector {
    let z = clamp(-x, -87, 88)
    var y = 1 / (1 + expVector(z))
    y.replace(with: 0, where: x .< -88)
    y.replace(with: x, where: x .!= x)
    return y
}

/// tanh(x). For |x| < 0.625: x + x^3 P(x^2), P a degree-4 minimax fit (relative error 4e-9).
/// Otherwise 1 - 2 / (1 + e^(2|x|)) with the sign of x restored: there tanh >= 0.55, so the
/// subtraction loses nothing and the absolute error stays near 1e-7.
@inline(__always)
private func tanhVector(_ x: Vector) -> Vector {
    let signBit = Bits(repeating: 0x8000_0000)
    let sign = bits(x) & signBit
    let a = float(bits(x) & ~signBit)
    // Large |x|: clamp at 9.5, where the formula already rounds to exactly 1.
    let e = expVector(2 * clamp(a, 0, 9.5))
    let large = 1 - 2 / (1 + e)
    // Small |x|, on |x| too, so that the sign (including that of -0) comes from one place.
    let s = a * a
    var p = Vector(repeating: -0.005_704_933_8)
    p = Vector(repeating: 0.020_639_041).addingProduct(p, s)
    p = Vector(repeating: -0.053_739_7).addingProduct(p, s)
    p = Vector(repeating: 0.133_314_42).addingProduct(p, s)
    p = Vector(repeating: -0.333_332_81).addingProduct(p, s)
    let small = a.addingProduct(a * s, p)
    var y = float(bits(large.replacing(with: small, where: a .< 0.625)) | sign)
    y.replace(with: x, where: x .!= x)
    return y
}
