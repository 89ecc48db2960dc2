// PNG files through libpng's simplified API (`png_image`), which reports errors in the struct
// instead of longjmp-ing out of a callback (Swift cannot call setjmp).
//
// Encoding writes RGB when every pixel is opaque (every chart is) and RGBA otherwise. The file
// carries no time or text chunks, so the same pixmap always gives the same bytes.

import CPNG
import Foundation

public enum PNGCodec {
    // png.h's format macros are compound expressions that Swift does not import.
    private static let formatRGB: UInt32 = 0x02   // PNG_FORMAT_FLAG_COLOR
    private static let formatRGBA: UInt32 = 0x03  // PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA
    /// PNG_IMAGE_FLAG_FAST: one fixed row filter and faster zlib settings. Charts are large flat
    /// areas, so the files grow little and encoding is several times faster.
    private static let flagFast: UInt32 = UInt32(PNG_IMAGE_FLAG_FAST)

    /// Encodes `pixmap` (premultiplied in memory) as an 8-bit sRGB PNG with straight alpha.
    public static func encode(_ pixmap: Pixmap) throws -> Data {
        let count = pixmap.width * pixmap.height
        var opaque = true
        var straight: [UInt8] = []
        pixmap.bytes.withUnsafeBufferPointer { src in
            var i = 3
            while i < src.count {
                if src[i] != 255 { opaque = false; break }
                i += 4
            }
            let channels = opaque ? 3 : 4
            straight = [UInt8](unsafeUninitializedCapacity: count * channels) { dst, written in
                if opaque {
                    for p in 0..<count {
                        dst[3 * p] = src[4 * p]
                        dst[3 * p + 1] = src[4 * p + 1]
                        dst[3 * p + 2] = src[4 * p + 2]
                    }
                } else {
                    for p in 0..<count {
                        // Un-premultiply with rounding: c = round(255 * p / a).
                        let a = UInt32(src[4 * p + 3])
                        for k in 0..<3 {
                            dst[4 * p + k] = a == 0 ? 0 : UInt8(min(255, (UInt32(src[4 * p + k]) * 255 + a / 2) / a))
                        }
                        dst[4 * p + 3] = UInt8(a)
                    }
                }
                written = count * channels
            }
        }
        let channels = opaque ? 3 : 4

        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(pixmap.width)
        image.height = UInt32(pixmap.height)
        image.format = opaque ? formatRGB : formatRGBA
        image.flags = flagFast
        let rowStride = Int32(pixmap.width * channels)

        // Charts compress about tenfold: write into a buffer of a quarter of the raw size, and only
        // if libpng reports that was too small (it then says how much it needs) write again.
        var capacity = png_alloc_size_t(straight.count / 4 + 65_536)
        var out = Data()
        for _ in 0..<2 {
            out = Data(count: Int(capacity))
            var size = capacity
            let ok = out.withUnsafeMutableBytes { target in
                straight.withUnsafeBytes { buffer in
                    png_image_write_to_memory(&image, target.baseAddress, &size, 0, buffer.baseAddress, rowStride, nil)
                }
            }
            if ok != 0 {
                png_image_free(&image)
                out.count = Int(size)
                return out
            }
            guard size > capacity else { break }
            capacity = size
            image.warning_or_error = 0
            image.opaque = nil
        }
        let reason = message(of: &image)
        png_image_free(&image)
        throw RendererError.pngEncode(reason)
    }

    /// Decodes any PNG libpng reads into an RGBA8 pixmap (premultiplied in memory).
    public static func decode(_ data: Data) throws -> Pixmap {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = data.withUnsafeBytes { buffer in
            png_image_begin_read_from_memory(&image, buffer.baseAddress, buffer.count)
        }
        guard begun != 0 else {
            let text = message(of: &image)
            png_image_free(&image)
            throw RendererError.pngDecode(text)
        }
        image.format = formatRGBA
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0 else {
            png_image_free(&image)
            throw RendererError.pngDecode("image has size \(width) x \(height)")
        }
        var straight = [UInt8](repeating: 0, count: width * height * 4)
        let finished = straight.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width * 4), nil)
        }
        guard finished != 0 else {
            let text = message(of: &image)
            png_image_free(&image)
            throw RendererError.pngDecode(text)
        }
        // Premultiply: p = round(c * a / 255).
        for i in 0..<(width * height) {
            let a = UInt32(straight[4 * i + 3])
            if a == 255 { continue }
            for k in 0..<3 {
                straight[4 * i + k] = UInt8((UInt32(straight[4 * i + k]) * a + 127) / 255)
            }
        }
        return Pixmap(width: width, height: height, premultipliedBytes: straight)
    }

    /// The NUL-terminated message libpng left in the struct.
    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "libpng gave no reason" : text
        }
    }
}
