import Foundation
import Testing
@testable import Renderer

@Suite struct TextTests {
    let typesetter: Typesetter
    init() throws { typesetter = try Typesetter(options: RenderOptions(scale: 2)) }

    /// Dark pixels (luminance below 0.5) inside `rect` (pixels).
    static func darkPixels(_ pixmap: Pixmap, x0: Int, y0: Int, x1: Int, y1: Int) -> Int {
        var n = 0
        for y in max(0, y0)..<min(pixmap.height, y1) {
            for x in max(0, x0)..<min(pixmap.width, x1) where pixmap.pixel(x: x, y: y).luminance < 0.5 { n += 1 }
        }
        return n
    }

    @Test func measuresBeforeDrawingAndDrawsInsideTheMeasuredBox() {
        let style = TextStyle(size: 12)
        let line = typesetter.layout("Gradient flow", style)
        // DejaVu Sans at 12 pt: about 0.6 em per character on average.
        #expect(line.width > 60 && line.width < 100, "width \(line.width)")
        #expect(abs(line.ascent - 12 * 0.928) < 0.5 && abs(line.descent - 12 * 0.236) < 0.5)
        var canvas = Canvas(width: 120, height: 30, scale: 2)
        canvas.draw(line, at: Point(10, 20))
        let inside = TextTests.darkPixels(canvas.pixmap, x0: 20, y0: Int((20 - line.ascent) * 2),
                                          x1: Int((10 + line.width) * 2) + 2, y1: Int((20 + line.descent) * 2) + 1)
        let total = TextTests.darkPixels(canvas.pixmap, x0: 0, y0: 0, x1: 240, y1: 60)
        #expect(inside > 200)
        #expect(inside == total, "all ink inside the measured box")
    }

    @Test func alignmentMovesTheInk() {
        let line = typesetter.layout("Centred", TextStyle(size: 10))
        var canvas = Canvas(width: 100, height: 20, scale: 2)
        canvas.draw(line, at: Point(50, 10), .center, .middle)
        let left = TextTests.darkPixels(canvas.pixmap, x0: 0, y0: 0, x1: 100, y1: 40)
        let right = TextTests.darkPixels(canvas.pixmap, x0: 100, y0: 0, x1: 200, y1: 40)
        #expect(left > 20 && right > 20)
        #expect(Double(abs(left - right)) / Double(left + right) < 0.25)
        // Capitals centred on y = 10 pt: ink above and below the middle row.
        let above = TextTests.darkPixels(canvas.pixmap, x0: 0, y0: 0, x1: 200, y1: 20)
        let below = TextTests.darkPixels(canvas.pixmap, x0: 0, y0: 20, x1: 200, y1: 40)
        #expect(above > 10 && below > 10)
    }

    @Test func rotatedTextRunsUpwards() {
        let line = typesetter.layout("loss per step", TextStyle(size: 10))
        var canvas = Canvas(width: 30, height: 100, scale: 2)
        canvas.draw(line, at: Point(15, 90), .left, .middle, rotated: true)
        // Ink spans about `width` points upwards from y = 90 and stays in a narrow column.
        var minY = Int.max, maxY = Int.min, minX = Int.max, maxX = Int.min
        for y in 0..<200 {
            for x in 0..<60 where canvas.pixmap.pixel(x: x, y: y).luminance < 0.5 {
                minY = min(minY, y); maxY = max(maxY, y); minX = min(minX, x); maxX = max(maxX, x)
            }
        }
        #expect(abs(Double(maxY - minY) / 2 - line.width) < 3, "height \(maxY - minY) vs width \(line.width * 2)")
        #expect(maxX - minX < 24)
        #expect(maxY <= 181)
    }

    @Test func superscriptIsSmallerAndRaised() {
        let plain = typesetter.layout("10-3", TextStyle(size: 10))
        let marked = typesetter.layout("10^{-3}", TextStyle(size: 10))
        #expect(marked.width < plain.width)
        #expect(marked.ascent > plain.ascent)
        #expect(Markup.plain("σ_{max}·10^{−3}") == "σmax·10−3")
    }

    @Test func missingFontFileIsNamedWithoutPackageAdvice() {
        // The user named a file: the message is about that file, not about installing DejaVu.
        #expect {
            _ = try Typesetter(options: RenderOptions(fontPath: "/nonexistent/font.ttf"))
        } throws: { error in
            let text = String(describing: error)
            return text.contains("--font /nonexistent/font.ttf") && !text.contains("fonts-dejavu-core")
        }
    }

    @Test func fittingIsFastAndKeepsTheLongestPrefixThatFits() {
        let style = TextStyle(size: 10)
        // 50,000 characters: the old one-character-at-a-time loop measured 50,000 strings.
        let long = String(repeating: "abcdefghij", count: 5_000)
        let fitted = typesetter.fitting(long, style, maxWidth: 200)
        #expect(fitted.hasSuffix("…") && typesetter.width(fitted, style) <= 200)
        // One more character would not fit.
        let longer = String(long.prefix(fitted.count)) + "…"
        #expect(typesetter.width(longer, style) > 200)
        #expect(typesetter.fitting("short", style, maxWidth: 200) == "short")
        #expect(typesetter.layout(long, style).glyphs.count == Typesetter.maxGlyphs)
    }

    @Test func demoImageForLooking() throws {
        var canvas = Canvas(width: 360, height: 140, scale: 2)
        canvas.text("Vanishing gradients: g(ℓ)/g(0) ∝ (γ·σ_{max})^{ℓ}", TextStyle(size: 14, weight: .bold),
                    at: Point(10, 24), using: typesetter)
        canvas.text("10^{−3}  10^{0}  10^{12}  −0.5  AVAWAy To", TextStyle(size: 10), at: Point(10, 50), using: typesetter)
        canvas.text("probe: the quick brown fox\n", TextStyle(size: 9, family: .mono), at: Point(10, 70), using: typesetter)
        canvas.text("rotated title", TextStyle(size: 10), at: Point(340, 130), using: typesetter, .left, .middle, rotated: true)
        canvas.stroke([Point(10, 120), Point(60, 90), Point(110, 125), Point(160, 95), Point(170, 130)],
                      style: StrokeStyle(width: 2.5), Color(hex: 0xD55E00))
        canvas.stroke([Point(180, 120), Point(320, 90)], style: StrokeStyle(width: 1.5, dash: [5, 3]), Color(hex: 0x0072B2))
        canvas.strokeCircle(center: Point(250, 115), radius: 15, style: StrokeStyle(width: 1), .black)
        let png = try PNGCodec.encode(canvas.pixmap)
        if FileManager.default.fileExists(atPath: "/tmp/renderer-out") {
            try png.write(to: URL(fileURLWithPath: "/tmp/renderer-out/text-demo.png"))
        }
        #expect(TextTests.darkPixels(canvas.pixmap, x0: 20, y0: 20, x1: 600, y1: 60) > 500)
    }
}

@Suite struct MarkupTests {
    @Test func raisesLowersAndEscapes() {
        #expect(Markup.parse("10^{−3}") == [MarkupSpan(text: "10", position: .normal), MarkupSpan(text: "−3", position: .raised)])
        #expect(Markup.parse("σ_{max}(W)") == [MarkupSpan(text: "σ", position: .normal), MarkupSpan(text: "max", position: .lowered),
                                              MarkupSpan(text: "(W)", position: .normal)])
        #expect(Markup.parse("a^b_c") == [MarkupSpan(text: "a^b_c", position: .normal)])
        // A run called "x_{y}" keeps its name.
        let name = "x_{y}\\z^{"
        #expect(Markup.plain(Markup.escape(name)) == name)
        #expect(Markup.parse(Markup.escape(name)).allSatisfy { $0.position == .normal })
    }
}
