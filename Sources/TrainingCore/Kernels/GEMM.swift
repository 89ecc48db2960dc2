// Single-precision matrix multiply, row-major. Unsafe pointers stay inside Kernels/.
//
// Structure (the Goto/BLIS scheme):
//   for each column block of C (nc columns)                      -- `GEMMBlocking.nc`
//     for each k block (kc)                                        -- `GEMMBlocking.depthBlock`
//       pack op(B)[k block, column block] into kc x 16 micro-panels
//         (or take them from an `SGEMMPackedB`, or, for <= 24 rows, read an untransposed B in place)
//       for each row block of C (mc rows)                          -- `GEMMBlocking.mc`
//         pack op(A)[row block, k block] into 6 x kc micro-panels
//         every 6 x 16 tile: `microKernel6x16` (12 SIMD8 accumulators; 6 x 8 for a narrow last panel)
//         a last panel of 1 or 2 rows: `microKernel2x48` across three B panels
//         (AVX-512 targets: every 6 x 32 pair of panels, partial row panels too, `microKernel6x32`)
// Transposes are absorbed by the packing, so the micro-kernels only read contiguous panels.
//
// Measured on this machine's Sapphire Rapids cores with the AVX-512 kernel (`diagnose bench`):
// 139-149 GFLOP/s at 128^3 and 512^3 on one thread; on two, 240 at 2048^3 and 213-250 on
// config c's decoder products.
//
// Determinism: every element of C is one fused-multiply-add chain over p = 0..<k in order, split
// at the same k-block boundaries (they depend on k alone) whatever the tile position, the kernel,
// the row/column block or the thread that computes it; the epilogue alpha * acc + beta * C is the
// same expression everywhere; edge tiles run the same kernels on a zero-padded copy. So results
// are bit-identical for any thread count, as long as threads split C, never k.
import CPUTarget
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// Up to this many rows of A, an untransposed B is read in place instead of packed.
    static let directRows = 24

    /// Whether the build target has 16-lane registers (AVX-512): then two panels side by side go
    /// through the 6 x 32 SIMD16 kernel; otherwise the 6 x 16 SIMD8 one, which is twelve AVX2 ymm
    /// registers on x86-64 and twenty-four of arm64's thirty-two NEON q registers. Read from the
    /// compiler's target (CPUTarget), so it folds to a constant and the other kernel is dropped.
    @inline(__always)
    static var wideTile: Bool { diagnose_target_vector_lanes() >= 16 }

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
    /// A 6 x 32 scratch tile for edge tiles of C.
    let tile: UnsafeMutablePointer<Float>

    init() {
        a = .allocate(capacity: 1)
        b = .allocate(capacity: 1)
        tile = UnsafeMutableRawPointer.allocate(byteCount: GEMMBlocking.mr * 2 * GEMMBlocking.nr * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: GEMMBlocking.mr * 2 * GEMMBlocking.nr)
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
            // The argument is optional in Glibc's signature and not in Darwin's.
            let workspace: UnsafeMutableRawPointer? = raw
            if let workspace { Unmanaged<GEMMWorkspace>.fromOpaque(workspace).release() }
        }
        return key
    }()
}

// MARK: - Public entry points

/// Float lanes of the widest vector registers the build targets (16 AVX-512, 8 AVX2, 4 NEON):
/// the 6 x 32 kernel runs at 16, the 6 x 16 one otherwise.
public var gemmVectorLanes: Int { Int(diagnose_target_vector_lanes()) }

/// C = alpha * op(A) * op(B) + beta * C, all row-major.
/// op(A) is m x k (A is k x m when `transA`), op(B) is k x n (B is n x k when `transB`).
/// lda, ldb, ldc are row strides in elements. When beta == 0, C is not read (may hold NaN);
/// when alpha == 0 or k == 0, A and B are not read.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    gemmDriver(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
               right: .raw(transB: transB, b: b, ldb: ldb), beta: beta, c: c, ldc: ldc,
               columns: 0..<n, workspace: .current)
}

/// `sgemm` split over up to `threads.count` threads (the caller's plus its pool's workers).
/// C is cut into independent row or column blocks, never along k, so the result is bit-identical
/// to the single-threaded call for every thread count. Small products run on the caller's thread.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: ComputeThreads) {
    gemmParallel(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                 right: .raw(transB: transB, b: b, ldb: ldb), beta: beta, c: c, ldc: ldc, threads: threads)
}

/// C = alpha * op(A) * B' + beta * C with B' a right operand packed in advance.
/// Bit-identical to `sgemm` with the matrix `packedB` was made from; `threads` as above.
public func sgemm(transA: Bool, m: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                  packedB: SGEMMPackedB, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                  threads: ComputeThreads = 1) {
    gemmParallel(transA: transA, m: m, n: packedB.n, k: packedB.k, alpha: alpha, a: a, lda: lda,
                 right: .packed(UnsafePointer(packedB.storage)), beta: beta, c: c, ldc: ldc, threads: threads)
}

/// A k x n right operand op(B) in the layout the micro-kernel reads, for products that reuse it:
/// the recurrent weights across the T steps of one forward or backward pass. Packing costs about
/// a third as much as a whole 32 x 512 x 128 product; with the operand packed once, each step
/// pays only for its arithmetic (and for packing its small left operand).
///
/// Layout: for each k block [p0, p0 + kc) of `GEMMBlocking.depthBlock(k)`, ceil(n / 16) panels of
/// kc x 16 floats (panel q holds op(B)[p, 16q + s], zero past column n), the block starting at
/// p0 * 16 ceil(n / 16).
public final class SGEMMPackedB {
    /// Rows of op(B) (the depth of the product).
    public let k: Int
    /// Columns of op(B) and of C.
    public let n: Int
    let storage: UnsafeMutablePointer<Float>

    /// Packs op(B): B is k x n (row stride ldb), or n x k when `transB`.
    public init(transB: Bool, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int) {
        precondition(k >= 0 && n >= 0, "SGEMMPackedB: negative dimension")
        self.k = k
        self.n = n
        let count = k * (n + GEMMBlocking.nr - 1) / GEMMBlocking.nr * GEMMBlocking.nr + 32
        storage = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        update(transB: transB, b: b, ldb: ldb)
    }

    /// Repacks from a matrix of the same shape (after the weights changed), without allocating.
    public func update(transB: Bool, b: UnsafePointer<Float>, ldb: Int) {
        let panels = (n + GEMMBlocking.nr - 1) / GEMMBlocking.nr
        let kc = GEMMBlocking.depthBlock(k)
        var pc = 0
        while pc < k {
            packB(transB: transB, b: b, ldb: ldb, row0: pc, col0: 0, rows: min(kc, k - pc), cols: n,
                  into: storage + pc * panels * GEMMBlocking.nr)
            pc += kc
        }
    }

    deinit { storage.deallocate() }
}

// MARK: - Threading

/// Where the k x n right operand comes from.
enum RightOperand {
    /// op(B) read from B (k x n, or n x k when transposed) and packed on the fly.
    case raw(transB: Bool, b: UnsafePointer<Float>, ldb: Int)
    /// Already in `SGEMMPackedB` layout.
    case packed(UnsafePointer<Float>)
}

func gemmParallel(transA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                  right: RightOperand, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: ComputeThreads) {
    let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
    // Split the dimension whose duplicated work is cheaper: cutting rows repacks B (n x k) in every
    // part, cutting columns packs (transposed) or reads (in place) all of A (m x k) in every part.
    // A packed B is never repacked: cut columns. (Cutting columns for an untransposed A measured
    // no faster on config c's d h product.)
    var splitRows = m >= n
    if case .packed = right { splitRows = m >= 4 * n }
    let units = splitRows ? (m + mr - 1) / mr : (n + nr - 1) / nr
    // Below ~1 MFLOP per part the hand-off costs more than it saves.
    let parts = min(threads.count, units, threads.pool.width, max(1, m * n * k / 262_144))
    if parts <= 1 {
        gemmDriver(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, right: right,
                   beta: beta, c: c, ldc: ldc, columns: 0..<n, workspace: .current)
        return
    }
    threads.pool.run(parts: parts) { part in
        let first = units * part / parts, last = units * (part + 1) / parts
        if splitRows {
            let row0 = first * mr, rows = min(m, last * mr) - row0
            gemmDriver(transA: transA, m: rows, n: n, k: k, alpha: alpha,
                       a: transA ? a + row0 : a + row0 * lda, lda: lda, right: right,
                       beta: beta, c: c + row0 * ldc, ldc: ldc, columns: 0..<n, workspace: .current)
        } else {
            gemmDriver(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, right: right,
                       beta: beta, c: c, ldc: ldc, columns: first * nr ..< min(n, last * nr),
                       workspace: .current)
        }
    }
}

// MARK: - Blocked driver

/// Computes the columns `columns` of C (its lower bound a multiple of 16) for the full product.
func gemmDriver(transA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                right: RightOperand, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                columns: Range<Int>, workspace: GEMMWorkspace) {
    precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension")
    if m == 0 || columns.isEmpty { return }
    if k == 0 || alpha == 0 {
        scaleMatrix(c + columns.lowerBound, rows: m, cols: columns.count, ld: ldc, by: beta)
        return
    }
    let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
    let kcMax = GEMMBlocking.depthBlock(k)
    let mcMax = min(GEMMBlocking.mc, (m + mr - 1) / mr * mr)
    let ncMax = min(GEMMBlocking.nc, (columns.count + nr - 1) / nr * nr)
    // With few rows of A each B panel serves only m / 6 tiles: packing it would cost about as
    // much as using it, so the kernel reads an untransposed B in place (only a ragged last panel
    // is copied, so that no read runs past the end of a row).
    var direct = false
    if case .raw(transB: false, _, _) = right, m <= GEMMBlocking.directRows { direct = true }
    workspace.reserve(aCount: mcMax * kcMax, bCount: direct ? nr * kcMax : ncMax * kcMax)
    let packedA = workspace.a, packedB = workspace.b, tile = workspace.tile
    let totalPanels = (n + nr - 1) / nr

    var jc = columns.lowerBound
    while jc < columns.upperBound {
        let nc = min(ncMax, columns.upperBound - jc)
        var pc = 0
        while pc < k {
            let kc = min(kcMax, k - pc)
            // The first k block applies the caller's beta; later blocks accumulate onto it.
            let blockBeta: Float = pc == 0 ? beta : 1
            // B panel jr / 16 of this block starts at panels + (jr / 16) * panelStride and has
            // `rowStride` floats between consecutive p.
            let panels: UnsafePointer<Float>, panelStride: Int, rowStride: Int
            var raggedPanel: UnsafePointer<Float>? = nil
            switch right {
            case .packed(let storage):
                panels = storage + pc * totalPanels * nr + jc * kc
                panelStride = kc * nr
                rowStride = nr
            case .raw(let transB, let b, let ldb):
                if direct {
                    panels = b + pc * ldb + jc
                    panelStride = nr
                    rowStride = ldb
                    let full = nc / nr * nr
                    if full < nc {
                        packB(transB: false, b: b, ldb: ldb, row0: pc, col0: jc + full, rows: kc,
                              cols: nc - full, into: packedB)
                        raggedPanel = UnsafePointer(packedB)
                    }
                } else {
                    packB(transB: transB, b: b, ldb: ldb, row0: pc, col0: jc, rows: kc, cols: nc,
                          into: packedB)
                    panels = UnsafePointer(packedB)
                    panelStride = kc * nr
                    rowStride = nr
                }
            }
            var ic = 0
            while ic < m {
                let mc = min(mcMax, m - ic)
                // An untransposed A is read in place, six rows at a time (six sequential streams;
                // packing them cost 10-15% of training and of the probe); only a last panel of
                // fewer than six rows is packed, onto zero padding. A transposed A is packed.
                let packedFrom = transA ? 0 : mc / mr * mr
                if packedFrom < mc {
                    packA(transA: transA, a: a, lda: lda, row0: ic + packedFrom, col0: pc, rows: mc - packedFrom,
                          depth: kc, into: packedA + packedFrom * kc)
                }
                /// The row tile at ir of A: its first element, the distance between its rows, and
                /// the distance between consecutive p.
                @inline(__always) func panelOfA(_ ir: Int) -> (UnsafePointer<Float>, Int, Int) {
                    ir < packedFrom ? (a + (ic + ir) * lda + pc, lda, 1) : (UnsafePointer(packedA) + ir * kc, 1, mr)
                }
                // A last panel of one or two rows (m = 32, 512, 2048 leave two) goes through the
                // 2 x 48 kernel instead of a 6-row tile that would be two-thirds padding. (The
                // 6 x 32 kernel takes the last, partial row panel too, on its zero padding.)
                let wide = GEMMBlocking.wideTile
                let thinRows = wide ? 0 : mc % mr <= 2 ? mc % mr : 0
                let fullRows = mc - thinRows

                /// The 6-row tile at (ir, jr); ragged ones through the padded scratch tile.
                @inline(__always) func sixRowTile(_ ir: Int, _ jr: Int) {
                    let rows = min(mr, mc - ir), cols = min(nr, nc - jr)
                    var panelB = panels + (jr / nr) * panelStride, stride = rowStride
                    if cols < nr, let ragged = raggedPanel { panelB = ragged; stride = nr }
                    // Eight columns or fewer: the half-width kernel (same arithmetic per element).
                    let width = cols <= 8 ? 8 : nr
                    let (panelA, aRow, aStep) = panelOfA(ir)
                    let cTile = c + (ic + ir) * ldc + jc + jr
                    if rows == mr && cols == width {
                        microKernel(width: width, depth: kc, a: panelA, aRow: aRow, aStep: aStep, b: panelB,
                                    bStride: stride, c: cTile, ldc: ldc, alpha: alpha, beta: blockBeta)
                        return
                    }
                    // Edge tile: run the same kernel on a padded copy, then copy back.
                    if blockBeta != 0 {
                        for r in 0..<rows {
                            for s in 0..<cols { tile[r * nr + s] = cTile[r * ldc + s] }
                        }
                    }
                    microKernel(width: width, depth: kc, a: panelA, aRow: aRow, aStep: aStep, b: panelB,
                                bStride: stride, c: tile, ldc: nr, alpha: alpha, beta: blockBeta)
                    for r in 0..<rows {
                        for s in 0..<cols { cTile[r * ldc + s] = tile[r * nr + s] }
                    }
                }

                var jr = 0
                while jr < nc {
                    var ir = 0
                    // Two whole panels side by side: one 6 x 32 tile of SIMD16 registers.
                    if wide && jr + 2 * nr <= nc {
                        let panelB = panels + (jr / nr) * panelStride
                        while ir + mr <= fullRows {
                            let (panelA, aRow, aStep) = panelOfA(ir)
                            microKernel6x32(depth: kc, a: panelA, aRow: aRow, aStep: aStep, b: panelB,
                                            panelStride: panelStride, bStride: rowStride,
                                            c: c + (ic + ir) * ldc + jc + jr, ldc: ldc, alpha: alpha, beta: blockBeta)
                            ir += mr
                        }
                        if ir < fullRows {
                            // The last 1 to 5 rows: the same kernel on the zero-padded panel of A,
                            // into the scratch tile (as fast as a whole tile; the padding rows of
                            // the result are dropped).
                            let rows = fullRows - ir, width = 2 * nr
                            let cTile = c + (ic + ir) * ldc + jc + jr
                            if blockBeta != 0 {
                                for r in 0..<rows { for s in 0..<width { tile[r * width + s] = cTile[r * ldc + s] } }
                            }
                            microKernel6x32(depth: kc, a: packedA + ir * kc, aRow: 1, aStep: mr, b: panelB,
                                            panelStride: panelStride, bStride: rowStride, c: tile, ldc: width,
                                            alpha: alpha, beta: blockBeta)
                            for r in 0..<rows { for s in 0..<width { cTile[r * ldc + s] = tile[r * width + s] } }
                        }
                        jr += 2 * nr
                        continue
                    }
                    while ir < fullRows {
                        sixRowTile(ir, jr)
                        ir += mr
                    }
                    jr += nr
                }
                if thinRows > 0 {
                    let panelA = packedA + fullRows * kc
                    let width = 3 * nr
                    jr = 0
                    while jr + width <= nc {
                        let panelB = panels + (jr / nr) * panelStride
                        let cTile = c + (ic + fullRows) * ldc + jc + jr
                        if thinRows == 2 {
                            microKernel2x48(depth: kc, a: panelA, b: panelB, panelStride: panelStride,
                                            bStride: rowStride, c: cTile, ldc: ldc, alpha: alpha, beta: blockBeta)
                        } else {
                            // One row: the second row of the kernel lands in scratch.
                            if blockBeta != 0 { for s in 0..<width { tile[s] = cTile[s] } }
                            microKernel2x48(depth: kc, a: panelA, b: panelB, panelStride: panelStride,
                                            bStride: rowStride, c: tile, ldc: width, alpha: alpha, beta: blockBeta)
                            for s in 0..<width { cTile[s] = tile[s] }
                        }
                        jr += width
                    }
                    while jr < nc {
                        sixRowTile(fullRows, jr)
                        jr += nr
                    }
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

// MARK: - Micro-kernels

@inline(__always)
private func microKernel(width: Int, depth: Int, a: UnsafePointer<Float>, aRow: Int, aStep: Int,
                         b: UnsafePointer<Float>, bStride: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
    if width == 8 {
        microKernel6x8(depth: depth, a: a, aRow: aRow, aStep: aStep, b: b, bStride: bStride, c: c, ldc: ldc,
                       alpha: alpha, beta: beta)
    } else {
        microKernel6x16(depth: depth, a: a, aRow: aRow, aStep: aStep, b: b, bStride: bStride, c: c, ldc: ldc,
                        alpha: alpha, beta: beta)
    }
}

/// The 6 x 16 register tile: C[r, s] = alpha * sum_p a[p * aStep + r * aRow] * b[p * bStride + s]
/// + beta * C[r, s] for r < 6, s < 16, where `a` is a packed 6-row panel (aRow 1, aStep 6) or six
/// rows of A itself (aRow lda, aStep 1) and `b` a 16-column panel (packed with bStride 16, or B
/// itself). Twelve SIMD8 accumulators (`sixRowKernel`).
@inline(never)
func microKernel6x16(depth: Int, a: UnsafePointer<Float>, aRow: Int, aStep: Int, b: UnsafePointer<Float>,
                     bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
    sixRowKernel(SIMD8<Float>.self, depth: depth, a: a, aRow: aRow, aStep: aStep, b: b, secondHalf: 8,
                 bStride: bStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
}

/// `microKernel6x16` over two adjacent 16-column panels (the second at b + panelStride) with
/// SIMD16 registers, for builds whose target has AVX-512 (`GEMMBlocking.wideTile`): twelve
/// 16-lane accumulators (`sixRowKernel`), the same FMA chain and epilogue per C element as the
/// 6 x 16 kernel, so the bits do not change.
@inline(never)
func microKernel6x32(depth: Int, a: UnsafePointer<Float>, aRow: Int, aStep: Int, b: UnsafePointer<Float>,
                     panelStride: Int, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                     alpha: Float, beta: Float) {
    sixRowKernel(SIMD16<Float>.self, depth: depth, a: a, aRow: aRow, aStep: aStep, b: b, secondHalf: panelStride,
                 bStride: bStride, c: c, ldc: ldc, alpha: alpha, beta: beta)
}

/// The 6-row register tile two vectors V wide: rows r < 6 of `a` (element p of row r at
/// p * aStep + r * aRow) against columns [0, lanes) of `b` and [0, lanes) of `b + secondHalf`
/// (element p at p * bStride). Twelve accumulators: one broadcast per row and two B loads per
/// step feed twelve FMAs; each C element is one FMA chain over p in order, then
/// alpha * acc + beta * C. Specialised into each caller (SIMD8: the 16 columns of one panel;
/// SIMD16: two panels side by side).
@inline(__always)
private func sixRowKernel<V: SIMD>(_: V.Type, depth: Int, a: UnsafePointer<Float>, aRow: Int, aStep: Int,
                                   b: UnsafePointer<Float>, secondHalf: Int, bStride: Int,
                                   c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float)
where V.Scalar == Float {
    // The tile's rows of C are written (and read, when beta != 0) only after the depth loop; asking
    // for their cache lines now hides the miss behind the loop. (A large product's C lives in
    // memory: config c's logits rows are 40 KB apart.) Measured: 1.07-1.17x on products of
    // 2048^3 and config c's decoder, no change on small ones.
    let width = MemoryLayout<V>.size
    for r in 0..<6 {
        let row = UnsafeRawPointer(c + r * ldc)
        diagnose_prefetch_for_write(row)
        diagnose_prefetch_for_write(row + (2 * width - 1))
        if width > 32 { diagnose_prefetch_for_write(row + 64) }
    }
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var pa = a
    var pb = UnsafeRawPointer(b)
    let step = bStride * 4, second = secondHalf * 4
    let r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow
    for _ in 0..<depth {
        let b0 = pb.loadUnaligned(as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: second, as: V.self)
        var x = V(repeating: pa[0])
        c00.addProduct(x, b0); c01.addProduct(x, b1)
        x = V(repeating: pa[r1])
        c10.addProduct(x, b0); c11.addProduct(x, b1)
        x = V(repeating: pa[r2])
        c20.addProduct(x, b0); c21.addProduct(x, b1)
        x = V(repeating: pa[r3])
        c30.addProduct(x, b0); c31.addProduct(x, b1)
        x = V(repeating: pa[r4])
        c40.addProduct(x, b0); c41.addProduct(x, b1)
        x = V(repeating: pa[r5])
        c50.addProduct(x, b0); c51.addProduct(x, b1)
        pa += aStep
        pb += step
    }
    let va = V(repeating: alpha)
    @inline(__always) func store(_ row: Int, _ lo: V, _ hi: V) {
        let p = UnsafeMutableRawPointer(c + row * ldc)
        if beta == 0 {
            p.storeBytes(of: va * lo, as: V.self)
            p.storeBytes(of: va * hi, toByteOffset: width, as: V.self)
        } else {
            let vb = V(repeating: beta)
            p.storeBytes(of: va * lo + vb * p.loadUnaligned(as: V.self), as: V.self)
            p.storeBytes(of: va * hi + vb * p.loadUnaligned(fromByteOffset: width, as: V.self),
                         toByteOffset: width, as: V.self)
        }
    }
    store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
    store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
}

/// The left half of `microKernel6x16` (columns 0..<8, same arithmetic per element), for panels
/// with at most eight valid columns, such as the last one of n = 65.
@inline(never)
func microKernel6x8(depth: Int, a: UnsafePointer<Float>, aRow: Int, aStep: Int, b: UnsafePointer<Float>,
                    bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
    typealias V = SIMD8<Float>
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
    var pa = a
    var pb = UnsafeRawPointer(b)
    let step = bStride * 4
    let r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow
    for _ in 0..<depth {
        let b0 = pb.loadUnaligned(as: V.self)
        c0.addProduct(V(repeating: pa[0]), b0)
        c1.addProduct(V(repeating: pa[r1]), b0)
        c2.addProduct(V(repeating: pa[r2]), b0)
        c3.addProduct(V(repeating: pa[r3]), b0)
        c4.addProduct(V(repeating: pa[r4]), b0)
        c5.addProduct(V(repeating: pa[r5]), b0)
        pa += aStep
        pb += step
    }
    let va = V(repeating: alpha)
    @inline(__always) func store(_ row: Int, _ v: V) {
        let p = UnsafeMutableRawPointer(c + row * ldc)
        if beta == 0 {
            p.storeBytes(of: va * v, as: V.self)
        } else {
            p.storeBytes(of: va * v + V(repeating: beta) * p.loadUnaligned(as: V.self), as: V.self)
        }
    }
    store(0, c0); store(1, c1); store(2, c2); store(3, c3); store(4, c4); store(5, c5)
}

/// Two rows by three 16-column panels: C[r, 16q + s] for r < 2, q < 3, with panel q of B at
/// b + q * panelStride. Twelve accumulators again, and the same FMA chain per element as the
/// 6 x 16 kernel, for the one or two rows left over when m is not a multiple of 6.
@inline(never)
func microKernel2x48(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, panelStride: Int,
                     bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c04 = V(), c05 = V()
    var c10 = V(), c11 = V(), c12 = V(), c13 = V(), c14 = V(), c15 = V()
    var pa = a
    var pb = UnsafeRawPointer(b)
    let step = bStride * 4, second = panelStride * 4, third = 2 * panelStride * 4
    for _ in 0..<depth {
        let x0 = V(repeating: pa[0]), x1 = V(repeating: pa[1])
        var v = pb.loadUnaligned(as: V.self)
        c00.addProduct(x0, v); c10.addProduct(x1, v)
        v = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
        c01.addProduct(x0, v); c11.addProduct(x1, v)
        v = pb.loadUnaligned(fromByteOffset: second, as: V.self)
        c02.addProduct(x0, v); c12.addProduct(x1, v)
        v = pb.loadUnaligned(fromByteOffset: second + 32, as: V.self)
        c03.addProduct(x0, v); c13.addProduct(x1, v)
        v = pb.loadUnaligned(fromByteOffset: third, as: V.self)
        c04.addProduct(x0, v); c14.addProduct(x1, v)
        v = pb.loadUnaligned(fromByteOffset: third + 32, as: V.self)
        c05.addProduct(x0, v); c15.addProduct(x1, v)
        pa += 6
        pb += step
    }
    let va = V(repeating: alpha)
    @inline(__always) func store(_ row: Int, _ offset: Int, _ v: V) {
        let p = UnsafeMutableRawPointer(c + row * ldc + offset)
        if beta == 0 {
            p.storeBytes(of: va * v, as: V.self)
        } else {
            p.storeBytes(of: va * v + V(repeating: beta) * p.loadUnaligned(as: V.self), as: V.self)
        }
    }
    store(0, 0, c00); store(0, 8, c01); store(0, 16, c02); store(0, 24, c03); store(0, 32, c04); store(0, 40, c05)
    store(1, 0, c10); store(1, 8, c11); store(1, 16, c12); store(1, 24, c13); store(1, 32, c14); store(1, 40, c15)
}

// MARK: - Packing

/// Two-source shuffle: lanes 0..<8 name `x`, 8..<16 name `y` (constant indices become one
/// vunpcklps / vshufps / vperm2f128 after inlining).
@inline(__always)
private func shuffle(_ x: SIMD8<Float>, _ y: SIMD8<Float>, _ index: SIMD8<Int32>) -> SIMD8<Float> {
    // Element by element rather than the standard library's vector-indexed subscript: that one is
    // generic, and a -c release build called it out of line (a third of all training time); with
    // constant indices these eight extracts fold into one shuffle instruction in every build.
    let both = SIMD16<Float>(lowHalf: x, highHalf: y)
    return SIMD8<Float>(both[Int(index[0])], both[Int(index[1])], both[Int(index[2])], both[Int(index[3])],
                        both[Int(index[4])], both[Int(index[5])], both[Int(index[6])], both[Int(index[7])])
}

/// Transposes the 8 x 8 block held in r0...r7 (row i in r_i) in place: r_j becomes column j.
/// (Shared with Elementwise's row norms.)
@inline(__always)
func transpose8x8(_ r0: inout SIMD8<Float>, _ r1: inout SIMD8<Float>, _ r2: inout SIMD8<Float>,
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

/// Transposes the 8 x 8 block whose row i is `row(i)` for i < `rows` (zero below) and stores its
/// column j, eight floats, `stride` bytes after column j - 1, from `d` on.
@inline(__always)
private func transposeBlock(rows: Int, into d: UnsafeMutableRawPointer, stride: Int,
                            _ row: (Int) -> SIMD8<Float>) {
    let zero = SIMD8<Float>()
    var r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
    var r6 = rows > 6 ? row(6) : zero, r7 = rows > 7 ? row(7) : zero
    transpose8x8(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7)
    @inline(__always) func store(_ j: Int, _ column: SIMD8<Float>) {
        d.storeBytes(of: column, toByteOffset: j * stride, as: SIMD8<Float>.self)
    }
    store(0, r0); store(1, r1); store(2, r2); store(3, r3); store(4, r4); store(5, r5); store(6, r6); store(7, r7)
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
                while p + 8 <= depth {
                    // Overlapping 8-wide stores 6 apart; each later store overwrites the 2 spare lanes.
                    transposeBlock(rows: mr, into: UnsafeMutableRawPointer(out + p * mr), stride: 4 * mr) { r in
                        UnsafeRawPointer(src + r * lda + p).loadUnaligned(as: SIMD8<Float>.self)
                    }
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
func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, row0: Int, col0: Int,
                   rows depth: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
    let nr = GEMMBlocking.nr
    if !transB {
        // Row p of op(B) is row row0 + p of B: read it front to back (one sequential stream the
        // hardware prefetcher follows) and deal its 16-float pieces out to the panels.
        let full = cols / nr * nr
        for p in 0..<depth {
            let src = b + (row0 + p) * ldb + col0
            var panel = 0
            while panel < full {
                let s = UnsafeRawPointer(src + panel), d = UnsafeMutableRawPointer(dst + panel * depth + p * nr)
                d.storeBytes(of: s.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                d.storeBytes(of: s.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                             toByteOffset: 32, as: SIMD8<Float>.self)
                panel += nr
            }
            if full < cols {
                let d = dst + full * depth + p * nr
                for j in 0..<nr { d[j] = full + j < cols ? src[full + j] : 0 }
            }
        }
        return
    }
    var panel = 0
    while panel < cols {
        let valid = min(nr, cols - panel)
        let out = dst + panel * depth
        // op(B)[p, j] = b[j * ldb + p]: sixteen rows of B, each contiguous in p; two 8 x 8
        // transposes per 8 values of p.
        do {
            let src = b + (col0 + panel) * ldb + row0
            var p = 0
            if valid == nr {
                while p + 8 <= depth {
                    let d = UnsafeMutableRawPointer(out + p * nr)
                    for half in 0..<2 {
                        transposeBlock(rows: 8, into: d + 32 * half, stride: 4 * nr) { j in
                            UnsafeRawPointer(src + (8 * half + j) * ldb + p).loadUnaligned(as: SIMD8<Float>.self)
                        }
                    }
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
