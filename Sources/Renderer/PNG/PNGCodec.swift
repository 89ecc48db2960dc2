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

    /// Encodes `pixmap` (premultiplied in memory) as an 8-bit sRGB PNG with straight alpha.
    public static func encode(_ pixmap: Pixmap) throws -> Data {
        let count = pixmap.width * pixmap.height
        let opaque = stride(from: 3, to: pixmap.bytes.count, by: 4).allSatisfy { pixmap.bytes[$0] == 255 }
        let channels = opaque ? 3 : 4
        var straight = [UInt8](repeating: 0, count: count * channels)
        pixmap.bytes.withUnsafeBufferPointer { src in
            straight.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    let a = src[4 * i + 3]
                    if opaque {
                        dst[3 * i] = src[4 * i]
                        dst[3 * i + 1] = src[4 * i + 1]
                        dst[3 * i + 2] = src[4 * i + 2]
                    } else if a == 0 {
                        continue
                    } else {
                        // Un-premultiply with rounding: c = round(255 * p / a).
                        let af = UInt32(a)
                        for k in 0..<3 {
                            dst[4 * i + k] = UInt8(min(255, (UInt32(src[4 * i + k]) * 255 + af / 2) / af))
                        }
                        dst[4 * i + 3] = a
                    }
                }
            }
        }

        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(pixmap.width)
        image.height = UInt32(pixmap.height)
        image.format = opaque ? formatRGB : formatRGBA
        let rowStride = Int32(pixmap.width * channels)

        // First call measures, second writes.
        var size: png_alloc_size_t = 0
        let measured = straight.withUnsafeBytes { buffer in
            png_image_write_to_memory(&image, nil, &size, 0, buffer.baseAddress, rowStride, nil)
        }
        guard measured != 0, size > 0 else { throw RendererError.pngEncode(message(of: &image)) }
        var out = Data(count: Int(size))
        let written = out.withUnsafeMutableBytes { target in
            straight.withUnsafeBytes { buffer in
                png_image_write_to_memory(&image, target.baseAddress, &size, 0, buffer.baseAddress, rowStride, nil)
            }
        }
        png_image_free(&image)
        guard written != 0 else { throw RendererError.pngEncode(message(of: &image)) }
        out.count = Int(size)
        return out
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
