// Single-precision matrix multiply, row-major. Unsafe pointers stay inside Kernels/.
//
// Structure (the classic Goto/BLIS scheme):
//   for each column block of C (nc columns)                      -- `GEMMBlocking.nc`
//     for each k block (kc)                                        -- `GEMMBlocking.kc`
//       pack op(B)[k block, column block] into kc x 16 micro-panels
//       for each row block of C (mc rows)                          -- `GEMMBlocking.mc`
//         pack op(A)[row block, k block] into 6 x kc micro-panels
//         for every 6 x 16 tile: micro-kernel (12 SIMD8 accumulators, one FMA per lane group)
// Transposes are absorbed by the packing, so the micro-kernel only ever reads contiguous panels.
//
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Determinism: every element of C is one fused-multiply-add chain over p = 0..<k in order, split
// at the same k-block boundaries whatever the tile position, the row/column block or the thread
// that computes it. Edge tiles run the same micro-kernel on a zero-padded copy. So the result is
// bit-identical for any thread count as long as threads split C, never k.

/// Register tile and cache blocking of `sgemm`.
enum GEMMBlocking {
    /// Rows of the register tile (broadcast side).
    static let mr = 6
    /// Columns of the register tile: two SIMD8<Float> vectors.
    static let nr = 16
    /// Depth of a k block: a 16 x kc panel of B (16 KiB at kc = 256) stays in the 48 KiB L1.
    static let kc = 256
    /// Rows of a packed A block (mc x kc floats, 144 KiB, lives in L2).
    static let mc = 144
    /// Columns of a packed B block (kc x nc floats, 2 MiB, lives in L2/L3).
    static let nc = 2048

    /// The k-block length used for a product of depth `k`: blocks of at most `kc`, as equal as
    /// possible and rounded to 8, so that a depth of 300 becomes 152 + 148, not 256 + 44.
    /// Depends on `k` only, which is what makes the rounding independent of how C is split.
    static func depthBlock(_ k: Int) -> Int {
        let blocks = (k + kc - 1) / kc
        let even = (k + blocks - 1) / blocks
        return min(kc, (even + 7) & ~7)
    }
}

// MARK: - Per-thread packing workspace

/// Packing buffers owned by one thread, grown on demand and reused by every later call, so that a
/// small product (the 32 x 512 x 128 recurrent step) allocates nothing.
final class GEMMWorkspace {
    private(set) var a: UnsafeMutablePointer<Float>
    private(set) var b: UnsafeMutablePointer<Float>
    private var aCapacity = 0
    private var bCapacity = 0
    /// A 6 x 16 scratch tile for edge tiles of C.
    let tile: UnsafeMutablePointer<Float>

    init() {
        a = .allocate(capacity: 1)
        b = .allocate(capacity: 1)
        tile = UnsafeMutableRawPointer.allocate(byteCount: GEMMBlocking.mr * GEMMBlocking.nr * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: GEMMBlocking.mr * GEMMBlocking.nr)
    }

    deinit {
        a.deallocate()
        b.deallocate()
        tile.deallocate()
    }

    /// Makes room for `aCount` and `bCount` floats (plus slack for the packers' overlapping stores).
    @inline(__always)
    func reserve(aCount: Int, bCount: Int) {
        if aCount > aCapacity { a = Self.grow(a, count: aCount); aCapacity = aCount }
        if bCount > bCapacity { b = Self.grow(b, count: bCount); bCapacity = bCount }
    }

    private static func grow(_ old: UnsafeMutablePointer<Float>, count: Int) -> UnsafeMutablePointer<Float> {
        old.deallocate()
        let slack = 32
        return UnsafeMutableRawPointer.allocate(byteCount: (count + slack) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: count + slack)
    }

    /// The calling thread's workspace (a pthread key; created on first use, freed at thread exit).
    static var current: GEMMWorkspace {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<GEMMWorkspace>.fromOpaque(raw).takeUnretainedValue()
        }
        let fresh = GEMMWorkspace()
        pthread_setspecific(key, Unmanaged.passRetained(fresh).toOpaque())
        return fresh
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<GEMMWorkspace>.fromOpaque(raw).release() }
        }
        return key
    }()
}

// MARK: - Public entry points

/// C = alpha * op(A) * op(B) + beta * C, all row-major.
/// op(A) is m x k (A is k x m when `transA`), op(B) is k x n (B is n x k when `transB`).
/// lda, ldb, ldc are row strides in elements. When beta == 0, C is not read (may hold NaN);
/// when alpha == 0 or k == 0, A and B are not read.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    gemmBlocked(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, workspace: .current)
}

/// `sgemm` split over up to `threads` threads (the caller's plus standing workers).
/// C is cut into independent row or column blocks, never along k, so the result is bit-identical
/// to the single-threaded call for every thread count. Small products run on the caller's thread.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
    let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
    // Split the dimension whose duplicated packing is cheaper: cutting rows repacks B (n x k) in
    // every part, cutting columns repacks A (m x k).
    let splitRows = m >= n
    let units = splitRows ? (m + mr - 1) / mr : (n + nr - 1) / nr
    let work = m * n * max(k, 1)
    let parts = min(threads, units, WorkerPool.shared.width, max(1, work / 262_144))
    if parts <= 1 {
        gemmBlocked(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                    b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, workspace: .current)
        return
    }
    WorkerPool.shared.run(parts: parts) { part in
        let first = units * part / parts, last = units * (part + 1) / parts
        if splitRows {
            let row0 = first * mr, rows = min(m, last * mr) - row0
            let aPart = transA ? a + row0 : a + row0 * lda
            gemmBlocked(transA: transA, transB: transB, m: rows, n: n, k: k, alpha: alpha,
                        a: aPart, lda: lda, b: b, ldb: ldb, beta: beta, c: c + row0 * ldc, ldc: ldc,
                        workspace: .current)
        } else {
            let col0 = first * nr, cols = min(n, last * nr) - col0
            let bPart = transB ? b + col0 * ldb : b + col0
            gemmBlocked(transA: transA, transB: transB, m: m, n: cols, k: k, alpha: alpha,
                        a: a, lda: lda, b: bPart, ldb: ldb, beta: beta, c: c + col0, ldc: ldc,
                        workspace: .current)
        }
    }
}

// MARK: - Blocked driver

func gemmBlocked(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, workspace: GEMMWorkspace) {
    precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension")
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        scaleMatrix(c, rows: m, cols: n, ld: ldc, by: beta)
        return
    }
    let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
    let kcMax = GEMMBlocking.depthBlock(k)
    let mcMax = min(GEMMBlocking.mc, (m + mr - 1) / mr * mr)
    let ncMax = min(GEMMBlocking.nc, (n + nr - 1) / nr * nr)
    workspace.reserve(aCount: mcMax * kcMax, bCount: ncMax * kcMax)
    let packedA = workspace.a, packedB = workspace.b, tile = workspace.tile

    var jc = 0
    while jc < n {
        let nc = min(ncMax, n - jc)
        var pc = 0
        while pc < k {
            let kc = min(kcMax, k - pc)
            // The first k block applies the caller's beta; later blocks accumulate onto it.
            let blockBeta: Float = pc == 0 ? beta : 1
            packB(transB: transB, b: b, ldb: ldb, row0: pc, col0: jc, rows: kc, cols: nc, into: packedB)
            var ic = 0
            while ic < m {
                let mc = min(mcMax, m - ic)
                packA(transA: transA, a: a, lda: lda, row0: ic, col0: pc, rows: mc, depth: kc, into: packedA)
                var jr = 0
                while jr < nc {
                    let cols = min(nr, nc - jr)
                    let panelB = packedB + jr * kc
                    var ir = 0
                    while ir < mc {
                        let rows = min(mr, mc - ir)
                        let panelA = packedA + ir * kc
                        let cTile = c + (ic + ir) * ldc + jc + jr
                        if rows == mr && cols == nr {
                            microKernel6x16(depth: kc, a: panelA, b: panelB, c: cTile, ldc: ldc,
                                            alpha: alpha, beta: blockBeta)
                        } else {
                            // Edge tile: run the same kernel on a padded copy, then copy back.
                            if blockBeta != 0 {
                                for r in 0..<rows {
                                    for s in 0..<cols { tile[r * nr + s] = cTile[r * ldc + s] }
                                }
                            }
                            microKernel6x16(depth: kc, a: panelA, b: panelB, c: tile, ldc: nr,
                                            alpha: alpha, beta: blockBeta)
                            for r in 0..<rows {
                                for s in 0..<cols { cTile[r * ldc + s] = tile[r * nr + s] }
                            }
                        }
                        ir += mr
                    }
                    jr += nr
                }
                ic += mc
            }
            pc += kc
        }
        jc += nc
    }
}

/// C = beta * C over an m x n block (beta == 0 writes zeros without reading C).
private func scaleMatrix(_ c: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, by beta: Float) {
    if beta == 1 { return }
    for i in 0..<rows {
        let row = c + i * ld
        if beta == 0 {
            row.update(repeating: 0, count: cols)
        } else {
            for j in 0..<cols { row[j] *= beta }
        }
    }
}

// MARK: - Micro-kernel

/// The 6 x 16 register tile: C[0..<6, 0..<16] = alpha * sum_p a[p][r] * b[p][s] + beta * C,
/// where `a` is a packed 6-row panel (6 floats per p) and `b` a packed 16-column panel
/// (16 floats per p). Twelve SIMD8 accumulators, one broadcast per row and two B loads per step.
@inline(never)
func microKernel6x16(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var pa = a
    var pb = UnsafeRawPointer(b)
    for _ in 0..<depth {
        let b0 = pb.load(as: V.self)
        let b1 = pb.load(fromByteOffset: 32, as: V.self)
        var x = V(repeating: pa[0])
        c00.addProduct(x, b0); c01.addProduct(x, b1)
        x = V(repeating: pa[1])
        c10.addProduct(x, b0); c11.addProduct(x, b1)
        x = V(repeating: pa[2])
        c20.addProduct(x, b0); c21.addProduct(x, b1)
        x = V(repeating: pa[3])
        c30.addProduct(x, b0); c31.addProduct(x, b1)
        x = V(repeating: pa[4])
        c40.addProduct(x, b0); c41.addProduct(x, b1)
        x = V(repeating: pa[5])
        c50.addProduct(x, b0); c51.addProduct(x, b1)
        pa += 6
        pb += 64
    }
    let va = V(repeating: alpha)
    @inline(__always) func store(_ row: Int, _ lo: V, _ hi: V) {
        let p = UnsafeMutableRawPointer(c + row * ldc)
        if beta == 0 {
            p.storeBytes(of: va * lo, as: V.self)
            p.storeBytes(of: va * hi, toByteOffset: 32, as: V.self)
        } else {
            let vb = V(repeating: beta)
            p.storeBytes(of: va * lo + vb * p.load(as: V.self), as: V.self)
            p.storeBytes(of: va * hi + vb * p.load(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
        }
    }
    store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
    store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
}

// MARK: - Packing

/// Two-source shuffle: lanes 0..<8 name `x`, 8..<16 name `y` (constant indices become one
/// vunpcklps / vshufps / vperm2f128 after inlining).
@inline(__always)
private func shuffle(_ x: SIMD8<Float>, _ y: SIMD8<Float>, _ index: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD16<Float>(lowHalf: x, highHalf: y)[index]
}

/// Transposes the 8 x 8 block held in r0...r7 (row i in r_i) in place: r_j becomes column j.
@inline(__always)
private func transpose8x8(_ r0: inout SIMD8<Float>, _ r1: inout SIMD8<Float>, _ r2: inout SIMD8<Float>,
                          _ r3: inout SIMD8<Float>, _ r4: inout SIMD8<Float>, _ r5: inout SIMD8<Float>,
                          _ r6: inout SIMD8<Float>, _ r7: inout SIMD8<Float>) {
    let lo = SIMD8<Int32>(0, 8, 1, 9, 4, 12, 5, 13), hi = SIMD8<Int32>(2, 10, 3, 11, 6, 14, 7, 15)
    let t0 = shuffle(r0, r1, lo), t1 = shuffle(r0, r1, hi)
    let t2 = shuffle(r2, r3, lo), t3 = shuffle(r2, r3, hi)
    let t4 = shuffle(r4, r5, lo), t5 = shuffle(r4, r5, hi)
    let t6 = shuffle(r6, r7, lo), t7 = shuffle(r6, r7, hi)
    let even = SIMD8<Int32>(0, 1, 8, 9, 4, 5, 12, 13), odd = SIMD8<Int32>(2, 3, 10, 11, 6, 7, 14, 15)
    let s0 = shuffle(t0, t2, even), s1 = shuffle(t0, t2, odd)
    let s2 = shuffle(t1, t3, even), s3 = shuffle(t1, t3, odd)
    let s4 = shuffle(t4, t6, even), s5 = shuffle(t4, t6, odd)
    let s6 = shuffle(t5, t7, even), s7 = shuffle(t5, t7, odd)
    let low = SIMD8<Int32>(0, 1, 2, 3, 8, 9, 10, 11), high = SIMD8<Int32>(4, 5, 6, 7, 12, 13, 14, 15)
    r0 = shuffle(s0, s4, low); r4 = shuffle(s0, s4, high)
    r1 = shuffle(s1, s5, low); r5 = shuffle(s1, s5, high)
    r2 = shuffle(s2, s6, low); r6 = shuffle(s2, s6, high)
    r3 = shuffle(s3, s7, low); r7 = shuffle(s3, s7, high)
}

/// Packs op(A)[row0 ..< row0+rows, col0 ..< col0+depth] into 6-row micro-panels:
/// panel q holds, for each p, the 6 values op(A)[row0 + 6q + r, col0 + p] (zero past the last row).
private func packA(transA: Bool, a: UnsafePointer<Float>, lda: Int, row0: Int, col0: Int,
                   rows: Int, depth: Int, into dst: UnsafeMutablePointer<Float>) {
    let mr = GEMMBlocking.mr
    var panel = 0
    while panel < rows {
        let valid = min(mr, rows - panel)
        let out = dst + panel * depth
        if transA {
            // op(A)[i, p] = a[p * lda + i]: the 6 values of one p are contiguous.
            let src = a + col0 * lda + row0 + panel
            if valid == mr {
                for p in 0..<depth {
                    let s = UnsafeRawPointer(src + p * lda), d = UnsafeMutableRawPointer(out + p * mr)
                    d.storeBytes(of: s.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
                    d.storeBytes(of: s.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self),
                                 toByteOffset: 16, as: SIMD2<Float>.self)
                }
            } else {
                for p in 0..<depth {
                    for r in 0..<mr { out[p * mr + r] = r < valid ? src[p * lda + r] : 0 }
                }
            }
        } else {
            // op(A)[i, p] = a[i * lda + p]: six rows, each contiguous in p; transpose 8 p at a time.
            let src = a + (row0 + panel) * lda + col0
            var p = 0
            if valid == mr {
                let zero = SIMD8<Float>()
                while p + 8 <= depth {
                    @inline(__always) func row(_ r: Int) -> SIMD8<Float> {
                        UnsafeRawPointer(src + r * lda + p).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    var r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
                    var r6 = zero, r7 = zero
                    transpose8x8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7)
                    // Overlapping 8-wide stores 6 apart; each later store overwrites the 2 spare lanes.
                    let d = UnsafeMutableRawPointer(out + p * mr)
                    d.storeBytes(of: r0, toByteOffset: 0, as: SIMD8<Float>.self)
                    d.storeBytes(of: r1, toByteOffset: 24, as: SIMD8<Float>.self)
                    d.storeBytes(of: r2, toByteOffset: 48, as: SIMD8<Float>.self)
                    d.storeBytes(of: r3, toByteOffset: 72, as: SIMD8<Float>.self)
                    d.storeBytes(of: r4, toByteOffset: 96, as: SIMD8<Float>.self)
                    d.storeBytes(of: r5, toByteOffset: 120, as: SIMD8<Float>.self)
                    d.storeBytes(of: r6, toByteOffset: 144, as: SIMD8<Float>.self)
                    d.storeBytes(of: r7, toByteOffset: 168, as: SIMD8<Float>.self)
                    p += 8
                }
            }
            while p < depth {
                for r in 0..<mr { out[p * mr + r] = r < valid ? src[r * lda + p] : 0 }
                p += 1
            }
        }
        panel += mr
    }
}

/// Packs op(B)[row0 ..< row0+rows, col0 ..< col0+cols] (rows = depth) into 16-column micro-panels:
/// panel q holds, for each p, the 16 values op(B)[row0 + p, col0 + 16q + s] (zero past the last column).
private func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, row0: Int, col0: Int,
                   rows depth: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
    let nr = GEMMBlocking.nr
    var panel = 0
    while panel < cols {
        let valid = min(nr, cols - panel)
        let out = dst + panel * depth
        if !transB {
            // op(B)[p, j] = b[p * ldb + j]: the 16 values of one p are contiguous.
            let src = b + row0 * ldb + col0 + panel
            if valid == nr {
                for p in 0..<depth {
                    let s = UnsafeRawPointer(src + p * ldb), d = UnsafeMutableRawPointer(out + p * nr)
                    d.storeBytes(of: s.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                    d.storeBytes(of: s.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                                 toByteOffset: 32, as: SIMD8<Float>.self)
                }
            } else {
                for p in 0..<depth {
                    let s = src + p * ldb, d = out + p * nr
                    for j in 0..<nr { d[j] = j < valid ? s[j] : 0 }
                }
            }
        } else {
            // op(B)[p, j] = b[j * ldb + p]: sixteen rows of B, each contiguous in p; two 8 x 8
            // transposes per 8 values of p.
            let src = b + (col0 + panel) * ldb + row0
            var p = 0
            if valid == nr {
                while p + 8 <= depth {
                    @inline(__always) func row(_ j: Int) -> SIMD8<Float> {
                        UnsafeRawPointer(src + j * ldb + p).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    let d = UnsafeMutableRawPointer(out + p * nr)
                    var r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
                    var r4 = row(4), r5 = row(5), r6 = row(6), r7 = row(7)
                    transpose8x8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7)
                    d.storeBytes(of: r0, toByteOffset: 0, as: SIMD8<Float>.self)
                    d.storeBytes(of: r1, toByteOffset: 64, as: SIMD8<Float>.self)
                    d.storeBytes(of: r2, toByteOffset: 128, as: SIMD8<Float>.self)
                    d.storeBytes(of: r3, toByteOffset: 192, as: SIMD8<Float>.self)
                    d.storeBytes(of: r4, toByteOffset: 256, as: SIMD8<Float>.self)
                    d.storeBytes(of: r5, toByteOffset: 320, as: SIMD8<Float>.self)
                    d.storeBytes(of: r6, toByteOffset: 384, as: SIMD8<Float>.self)
                    d.storeBytes(of: r7, toByteOffset: 448, as: SIMD8<Float>.self)
                    r0 = row(8); r1 = row(9); r2 = row(10); r3 = row(11)
                    r4 = row(12); r5 = row(13); r6 = row(14); r7 = row(15)
                    transpose8x8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7)
                    d.storeBytes(of: r0, toByteOffset: 32, as: SIMD8<Float>.self)
                    d.storeBytes(of: r1, toByteOffset: 96, as: SIMD8<Float>.self)
                    d.storeBytes(of: r2, toByteOffset: 160, as: SIMD8<Float>.self)
                    d.storeBytes(of: r3, toByteOffset: 224, as: SIMD8<Float>.self)
                    d.storeBytes(of: r4, toByteOffset: 288, as: SIMD8<Float>.self)
                    d.storeBytes(of: r5, toByteOffset: 352, as: SIMD8<Float>.self)
                    d.storeBytes(of: r6, toByteOffset: 416, as: SIMD8<Float>.self)
                    d.storeBytes(of: r7, toByteOffset: 480, as: SIMD8<Float>.self)
                    p += 8
                }
            }
            while p < depth {
                for j in 0..<nr { out[p * nr + j] = j < valid ? src[j * ldb + p] : 0 }
                p += 1
            }
        }
        panel += nr
    }
}
