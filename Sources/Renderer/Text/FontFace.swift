// One TrueType face opened with FreeType, and the glyph bitmaps rendered from it.
//
// Terms (as in FreeType and stb_truetype): the baseline is the line glyphs sit on; ascent is how
// far the tallest glyphs rise above it and descent how far they hang below (positive here);
// the advance is how far the pen moves after a glyph; the bearing places the bitmap's top-left
// corner relative to the pen position on the baseline.

import CFreeType
import Foundation

/// A glyph rendered to 8-bit coverage at one pixel size and horizontal sub-pixel phase.
struct GlyphBitmap {
    var width: Int
    var height: Int
    /// Pixels from the pen position to the bitmap's left edge.
    var left: Int
    /// Pixels from the baseline up to the bitmap's top row.
    var top: Int
    /// Row-major coverage, 0 (none) ... 255 (full).
    var coverage: [UInt8]
}

final class FontFace {
    let path: String
    private var library: FT_Library?
    private var face: FT_Face?
    /// Font units per em, and the face's ascent and descent in font units (descent positive).
    let unitsPerEm: Double
    let ascent: Double
    let descent: Double
    private let hasKerning: Bool
    private var currentSize: Int = -1
    private var glyphIndices: [Unicode.Scalar: UInt32] = [:]
    private var bitmaps: [BitmapKey: GlyphBitmap] = [:]
    private var advances: [AdvanceKey: Double] = [:]

    /// Horizontal positions are rendered at quarter-pixel phases; vertical ones are whole pixels.
    static let subpixelPhases = 4

    private struct BitmapKey: Hashable { var glyph: UInt32; var size64: Int; var phase: Int }
    private struct AdvanceKey: Hashable { var glyph: UInt32; var size64: Int }

    // freetype.h defines these with function-like macros that Swift does not import.
    private static let loadTargetLight: Int32 = 1 << 16  // FT_LOAD_TARGET_(FT_RENDER_MODE_LIGHT)
    private static let faceFlagKerning: Int = 1 << 6     // FT_FACE_FLAG_KERNING

    init(path: String) throws {
        self.path = path
        var lib: FT_Library?
        let initError = FT_Init_FreeType(&lib)
        guard initError == 0, let lib else { throw RendererError.freetype(operation: "FT_Init_FreeType", error: initError) }
        library = lib
        var f: FT_Face?
        let openError = FT_New_Face(lib, path, 0, &f)
        guard openError == 0, let f else {
            FT_Done_FreeType(lib)
            library = nil
            throw RendererError.fontUnreadable(path: path, freetypeError: openError)
        }
        face = f
        let units = Double(f.pointee.units_per_EM)
        unitsPerEm = units > 0 ? units : 2048
        ascent = Double(f.pointee.ascender)
        descent = -Double(f.pointee.descender)
        hasKerning = (f.pointee.face_flags & FontFace.faceFlagKerning) != 0
    }

    deinit {
        if let face { FT_Done_Face(face) }
        if let library { FT_Done_FreeType(library) }
    }

    /// Ascent and descent in pixels at `pixelSize` (pixels per em).
    func verticalMetrics(pixelSize: Double) -> (ascent: Double, descent: Double) {
        (ascent * pixelSize / unitsPerEm, descent * pixelSize / unitsPerEm)
    }

    /// The glyph index of `scalar`; 0 (the "missing glyph" box) when the font lacks it.
    func glyphIndex(_ scalar: Unicode.Scalar) -> UInt32 {
        if let cached = glyphIndices[scalar] { return cached }
        let index = face.map { FT_Get_Char_Index($0, FT_ULong(scalar.value)) } ?? 0
        glyphIndices[scalar] = index
        return index
    }

    /// Unhinted advance in pixels (fractional), so text measures the same at every phase.
    func advance(glyph: UInt32, pixelSize: Double) throws -> Double {
        let key = AdvanceKey(glyph: glyph, size64: FontFace.size64(pixelSize))
        if let cached = advances[key] { return cached }
        try load(glyph: glyph, size64: key.size64)
        let advance = Double(face!.pointee.glyph.pointee.linearHoriAdvance) / 65536
        advances[key] = advance
        return advance
    }

    /// Kerning between two glyphs in pixels (negative pulls them together); 0 without a kern table.
    func kerning(_ left: UInt32, _ right: UInt32, pixelSize: Double) -> Double {
        guard hasKerning, let face, left != 0, right != 0 else { return 0 }
        setSize(FontFace.size64(pixelSize))
        var vector = FT_Vector()
        guard FT_Get_Kerning(face, left, right, UInt32(FT_KERNING_UNFITTED.rawValue), &vector) == 0 else { return 0 }
        return Double(vector.x) / 64
    }

    /// The coverage bitmap of `glyph` with its origin shifted right by `phase / subpixelPhases` pixel.
    func bitmap(glyph: UInt32, pixelSize: Double, phase: Int) throws -> GlyphBitmap {
        let key = BitmapKey(glyph: glyph, size64: FontFace.size64(pixelSize), phase: phase)
        if let cached = bitmaps[key] { return cached }
        try load(glyph: glyph, size64: key.size64)
        let slot = face!.pointee.glyph!
        if slot.pointee.format == FT_GLYPH_FORMAT_OUTLINE {
            FT_Outline_Translate(&slot.pointee.outline, FT_Pos(phase * 64 / FontFace.subpixelPhases), 0)
        }
        let renderError = FT_Render_Glyph(slot, FT_RENDER_MODE_NORMAL)
        guard renderError == 0 else { throw RendererError.freetype(operation: "FT_Render_Glyph", error: renderError) }
        let bitmap = slot.pointee.bitmap
        let width = Int(bitmap.width), height = Int(bitmap.rows), pitch = Int(bitmap.pitch)
        var coverage = [UInt8](repeating: 0, count: width * height)
        if let buffer = bitmap.buffer, width > 0, height > 0 {
            // A negative pitch means the rows are stored bottom-up.
            for row in 0..<height {
                let source = pitch >= 0 ? row * pitch : (height - 1 - row) * -pitch
                for col in 0..<width { coverage[row * width + col] = buffer[source + col] }
            }
        }
        let glyphBitmap = GlyphBitmap(width: width, height: height, left: Int(slot.pointee.bitmap_left),
                                      top: Int(slot.pointee.bitmap_top), coverage: coverage)
        bitmaps[key] = glyphBitmap
        return glyphBitmap
    }

    private func load(glyph: UInt32, size64: Int) throws {
        guard let face else { throw RendererError.fontUnreadable(path: path, freetypeError: -1) }
        setSize(size64)
        let error = FT_Load_Glyph(face, glyph, FontFace.loadTargetLight)
        guard error == 0 else { throw RendererError.freetype(operation: "FT_Load_Glyph", error: error) }
    }

    private func setSize(_ size64: Int) {
        guard size64 != currentSize, let face else { return }
        FT_Set_Char_Size(face, 0, FT_F26Dot6(size64), 72, 72)
        currentSize = size64
    }

    /// Pixel size in 26.6 fixed point (1/64 pixel), the unit FreeType sizes are given in.
    static func size64(_ pixelSize: Double) -> Int { max(64, Int((pixelSize * 64).rounded())) }
}
