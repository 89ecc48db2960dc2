import Foundation
import Testing
@testable import Renderer

@Suite struct PNGCodecTests {
    @Test func opaqueRoundTripKeepsEveryByte() throws {
        var pixmap = Pixmap(width: 7, height: 5, background: .white)
        for y in 0..<5 {
            for x in 0..<7 {
                let i = 4 * (y * 7 + x)
                pixmap.bytes[i] = UInt8(x * 30)
                pixmap.bytes[i + 1] = UInt8(y * 50)
                pixmap.bytes[i + 2] = UInt8((x * y * 13) % 256)
            }
        }
        let png = try PNGCodec.encode(pixmap)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let decoded = try PNGCodec.decode(png)
        #expect(decoded.width == 7 && decoded.height == 5)
        #expect(decoded.bytes == pixmap.bytes)
    }

    @Test func translucentPixelsSurviveWithinRounding() throws {
        var pixmap = Pixmap(width: 3, height: 1)
        // Premultiplied 50 % red, 25 % grey, fully transparent.
        pixmap.bytes = [128, 0, 0, 128, 32, 32, 32, 64, 0, 0, 0, 0]
        let decoded = try PNGCodec.decode(try PNGCodec.encode(pixmap))
        let diff = zip(decoded.bytes, pixmap.bytes).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(diff <= 1, "largest byte difference \(diff)")
        #expect(decoded.rgba8(x: 0, y: 0).3 == 128)
    }

    @Test func sameImageGivesSameBytes() throws {
        let pixmap = Pixmap(width: 16, height: 16, background: Color(hex: 0x336699))
        #expect(try PNGCodec.encode(pixmap) == PNGCodec.encode(pixmap))
    }

    @Test func garbageIsRejectedWithAMessage() {
        #expect(throws: RendererError.self) { try PNGCodec.decode(Data("not a png".utf8)) }
    }
}

@Suite struct PNGCodecBufferTests {
    /// Noise does not compress: the first buffer guess is too small and the encoder must retry.
    @Test func incompressibleImageStillEncodes() throws {
        var state: UInt64 = 12345
        var pixmap = Pixmap(width: 300, height: 200, background: .white)
        for i in 0..<(300 * 200) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            pixmap.bytes[4 * i] = UInt8(truncatingIfNeeded: state >> 24)
            pixmap.bytes[4 * i + 1] = UInt8(truncatingIfNeeded: state >> 32)
            pixmap.bytes[4 * i + 2] = UInt8(truncatingIfNeeded: state >> 40)
        }
        let png = try PNGCodec.encode(pixmap)
        #expect(png.count > 300 * 200 * 3 / 2)
        #expect(try PNGCodec.decode(png).bytes == pixmap.bytes)
    }
}
