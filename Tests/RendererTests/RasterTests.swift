import Foundation
import Testing
@testable import Renderer

@Suite struct RasterTests {
    let red = Color(hex: 0xFF0000)

    @Test func integerRectangleFillsExactlyItsPixels() {
        var canvas = Canvas(width: 20, height: 16, scale: 1)
        canvas.fillRect(Rect(x: 3, y: 4, width: 10, height: 7), red)
        for y in 0..<16 {
            for x in 0..<20 {
                let inside = x >= 3 && x < 13 && y >= 4 && y < 11
                let p = canvas.pixmap.rgba8(x: x, y: y)
                if inside { #expect(p == (255, 0, 0, 255), "pixel \(x),\(y) = \(p)") } else {
                    #expect(p == (255, 255, 255, 255), "pixel \(x),\(y) = \(p)")
                }
            }
        }
    }

    @Test func halfPixelEdgesGiveHalfCoverage() {
        var canvas = Canvas(width: 10, height: 10, scale: 1, background: .white)
        canvas.fillRect(Rect(x: 2.5, y: 2, width: 5, height: 3), .black)
        // Columns 2 and 7 are half covered: 255 * 0.5 rounds to 128 (or 127).
        let edge = Int(canvas.pixmap.rgba8(x: 2, y: 3).0)
        #expect(abs(edge - 128) <= 1)
        #expect(Int(canvas.pixmap.rgba8(x: 7, y: 3).0) - 128 <= 1)
        #expect(canvas.pixmap.rgba8(x: 4, y: 3).0 == 0)
    }

    @Test func onePixelHorizontalLineCoversOneRow() {
        var canvas = Canvas(width: 30, height: 10, scale: 1)
        canvas.line(from: Point(5, 4.5), to: Point(25, 4.5), style: StrokeStyle(width: 1), .black)
        for x in 0..<30 {
            for y in 0..<10 {
                let expectBlack = y == 4 && x >= 5 && x < 25
                #expect(canvas.pixmap.rgba8(x: x, y: y).0 == (expectBlack ? 0 : 255), "pixel \(x),\(y)")
            }
        }
    }

    @Test func onePixelVerticalLineCoversOneColumn() {
        var canvas = Canvas(width: 10, height: 30, scale: 1)
        canvas.line(from: Point(6.5, 2), to: Point(6.5, 22), style: StrokeStyle(width: 1), .black)
        for y in 0..<30 {
            for x in 0..<10 {
                let expectBlack = x == 6 && y >= 2 && y < 22
                #expect(canvas.pixmap.rgba8(x: x, y: y).0 == (expectBlack ? 0 : 255), "pixel \(x),\(y)")
            }
        }
    }

    @Test func circleAreaMatchesPiRSquared() {
        var canvas = Canvas(width: 64, height: 64, scale: 1, background: .white)
        canvas.fillCircle(center: Point(32.3, 31.7), radius: 20, .black)
        var area = 0.0
        for i in 0..<(64 * 64) { area += 1 - Double(canvas.pixmap.bytes[4 * i]) / 255 }
        let expected = Double.pi * 400
        #expect(abs(area - expected) / expected < 0.002, "area \(area) vs \(expected)")
    }

    @Test func overlappingSameDirectionShapesDoNotDoubleCover() {
        // Two overlapping squares in one path: non-zero winding fills the union once.
        var path = Path()
        path.addRect(Rect(x: 2, y: 2, width: 8, height: 8))
        path.addRect(Rect(x: 6, y: 6, width: 8, height: 8))
        var canvas = Canvas(width: 16, height: 16, scale: 1)
        canvas.fill(path, Color(hex: 0x000000, alpha: 0.5))
        // Single and double coverage both give 50 % black over white.
        #expect(canvas.pixmap.rgba8(x: 3, y: 3).0 == canvas.pixmap.rgba8(x: 7, y: 7).0)
        #expect(canvas.pixmap.rgba8(x: 1, y: 1).0 == 255)
    }

    @Test func oppositeWindingCutsAHole() {
        var path = Path()
        path.addCircle(center: Point(16, 16), radius: 12, clockwise: true)
        path.addCircle(center: Point(16, 16), radius: 5, clockwise: false)
        var canvas = Canvas(width: 32, height: 32, scale: 1)
        canvas.fill(path, .black)
        #expect(canvas.pixmap.rgba8(x: 16, y: 16).0 == 255)
        #expect(canvas.pixmap.rgba8(x: 16, y: 7).0 == 0)
    }

    @Test func clipDiscardsEverythingOutside() {
        var canvas = Canvas(width: 20, height: 20, scale: 1)
        canvas.withClip(Rect(x: 5, y: 5, width: 10, height: 10)) { c in
            c.fillRect(Rect(x: -100, y: -100, width: 300, height: 300), .black)
        }
        #expect(canvas.pixmap.rgba8(x: 4, y: 10).0 == 255)
        #expect(canvas.pixmap.rgba8(x: 5, y: 5).0 == 0)
        #expect(canvas.pixmap.rgba8(x: 14, y: 14).0 == 0)
        #expect(canvas.pixmap.rgba8(x: 15, y: 14).0 == 255)
    }

    @Test func translucentBlendIsSourceOver() {
        var canvas = Canvas(width: 4, height: 4, scale: 1, background: .white)
        canvas.fillRect(Rect(x: 0, y: 0, width: 4, height: 4), Color(hex: 0x0000FF, alpha: 0.5))
        let p = canvas.pixmap.rgba8(x: 1, y: 1)
        #expect(abs(Int(p.0) - 128) <= 1 && p.2 == 255 && p.3 == 255)
    }

    @Test func dashedLineHasGaps() {
        var canvas = Canvas(width: 40, height: 5, scale: 1)
        canvas.line(from: Point(0, 2.5), to: Point(40, 2.5), style: StrokeStyle(width: 1, dash: [4, 4]), .black)
        for x in 0..<40 {
            let on = (x / 4) % 2 == 0
            #expect(canvas.pixmap.rgba8(x: x, y: 2).0 == (on ? 0 : 255), "pixel \(x)")
        }
    }

    @Test func strokeOfZigzagIsSolidInside() {
        // A dense zig-zag (segments shorter than the width) must not leave holes.
        var points: [Point] = []
        for i in 0..<200 { points.append(Point(5 + Double(i) * 0.4, i % 2 == 0 ? 20 : 22)) }
        var canvas = Canvas(width: 100, height: 40, scale: 1)
        canvas.stroke(points, style: StrokeStyle(width: 6), .black)
        for x in 10..<80 { #expect(canvas.pixmap.rgba8(x: x, y: 21).0 == 0, "hole at \(x)") }
    }

    @Test func nonFinitePointsBreakTheLine() {
        var canvas = Canvas(width: 30, height: 6, scale: 1)
        canvas.stroke([Point(0, 3), Point(10, 3), Point(.nan, 3), Point(20, 3), Point(30, 3)],
                      style: StrokeStyle(width: 2), .black)
        #expect(canvas.pixmap.rgba8(x: 5, y: 2).0 == 0)
        #expect(canvas.pixmap.rgba8(x: 15, y: 2).0 == 255)
        #expect(canvas.pixmap.rgba8(x: 25, y: 2).0 == 0)
    }
}

@Suite struct ClipPolylineTests {
    @Test func keepsTheInsideAndCutsAtTheEdges() {
        let rect = Rect(x: 0, y: 0, width: 10, height: 10)
        // In from the left, down and out, back up through the whole rectangle, then away outside.
        let pieces = clipPolyline([Point(-5, 5), Point(5, 5), Point(5, 50), Point(5, -50), Point(20, 5)], to: rect)
        #expect(pieces.count == 2)
        #expect(pieces[0] == [Point(0, 5), Point(5, 5), Point(5, 10)])
        #expect(pieces[1] == [Point(5, 10), Point(5, 0)])
        #expect(clipPolyline([Point(20, 20), Point(30, 30)], to: rect).isEmpty)
    }

    @Test func farAwayDashedLinesAreCheap() {
        var canvas = Canvas(width: 100, height: 100, scale: 2)
        let start = ContinuousClock.now
        canvas.withClip(Rect(x: 10, y: 10, width: 80, height: 80)) { c in
            c.stroke([Point(0, 50), Point(1e9, -1e9)], style: StrokeStyle(width: 1, dash: [2, 2]), .black)
        }
        #expect(ContinuousClock.now - start < .seconds(1))
    }
}

@Suite struct StrokeShapeTests {
    /// Ink in row `y` (0...255 darkness summed over the row).
    static func ink(_ c: Canvas, row y: Int) -> Int {
        (0..<c.pixmap.width).reduce(0) { $0 + 255 - Int(c.pixmap.rgba8(x: $1, y: y).0) }
    }

    @Test func capsExtendTheLineByHalfItsWidth() {
        // A 4-wide horizontal line from x = 10 to 30 at y = 10: butt 20 long, square 24, round 20 + a half disc each end.
        var butt = Canvas(width: 40, height: 20, scale: 1), square = butt, round = butt
        butt.line(from: Point(10, 10), to: Point(30, 10), style: StrokeStyle(width: 4, cap: .butt), .black)
        square.line(from: Point(10, 10), to: Point(30, 10), style: StrokeStyle(width: 4, cap: .square), .black)
        round.line(from: Point(10, 10), to: Point(30, 10), style: StrokeStyle(width: 4, cap: .round), .black)
        #expect(butt.pixmap.rgba8(x: 9, y: 9).0 == 255 && butt.pixmap.rgba8(x: 10, y: 9).0 == 0)
        #expect(square.pixmap.rgba8(x: 8, y: 9).0 == 0 && square.pixmap.rgba8(x: 31, y: 9).0 == 0)
        #expect(square.pixmap.rgba8(x: 7, y: 9).0 == 255)
        func area(_ c: Canvas) -> Double { Double((0..<20).reduce(0) { $0 + StrokeShapeTests.ink(c, row: $1) }) / 255 }
        #expect(abs(area(butt) - 80) < 0.5)
        #expect(abs(area(square) - 96) < 0.5)
        #expect(abs(area(round) - (80 + .pi * 4)) < 0.5, "round caps add a disc of radius 2: \(area(round))")
    }

    @Test func miterJoinFillsTheCornerAndBevelCutsIt() {
        // A right angle at (20, 20): the miter reaches the outer corner (22, 18), the bevel does not.
        let points = [Point(5, 20), Point(20, 20), Point(20, 35)]
        var miter = Canvas(width: 40, height: 40, scale: 1), bevel = miter
        miter.stroke(points, style: StrokeStyle(width: 4, join: .miter), .black)
        bevel.stroke(points, style: StrokeStyle(width: 4, join: .bevel), .black)
        #expect(miter.pixmap.rgba8(x: 21, y: 18).0 == 0)
        #expect(bevel.pixmap.rgba8(x: 21, y: 18).0 > 100)
        // The inside of the corner is solid either way.
        #expect(miter.pixmap.rgba8(x: 19, y: 21).0 == 0 && bevel.pixmap.rgba8(x: 19, y: 21).0 == 0)
    }
}
