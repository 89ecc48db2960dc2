import Foundation
import Testing
@testable import Renderer

@Suite struct TickTests {
    @Test func stepsAreOneTwoFive() {
        #expect(Ticks.niceStep(span: 1, target: 5) == 0.2)
        #expect(Ticks.niceStep(span: 7, target: 5) == 1)  // 1.4 is nearer 1 than 2 in ratio
        #expect(Ticks.niceStep(span: 1000, target: 4) == 200)
        #expect(Ticks.niceStep(span: 1000, target: 2) == 500)
        #expect(abs(Ticks.niceStep(span: 3e-7, target: 3) - 1e-7) < 1e-20)
    }

    @Test func linearTicksCoverTheRangeWithRoundLabels() {
        let ticks = Ticks.linear(lo: -0.03, hi: 1.02, target: 5)
        #expect(ticks.map(\.value).count == 6)
        #expect(ticks.map(\.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let negative = Ticks.linear(lo: -1, hi: 1, target: 4)
        #expect(negative.first?.label == "\u{2212}1.0")
        #expect(Ticks.linear(lo: 0, hi: 63, target: 6, integer: true).map(\.value) == [0, 10, 20, 30, 40, 50, 60])
    }

    @Test func hugeAndTinyLinearRangesUsePowersOfTen() {
        let huge = Ticks.linear(lo: -1e40, hi: 1e40, target: 4).filter { $0.value != 0 }
        #expect(!huge.isEmpty && huge.allSatisfy { $0.label.contains("10^{") }, "\(huge.map(\.label))")
        #expect(huge.contains { $0.label == "10^{40}" } || huge.contains { $0.label.hasSuffix("10^{40}") })
        let tiny = Ticks.linear(lo: 1e-9, hi: 5e-9, target: 4)
        #expect(tiny.allSatisfy { $0.label.contains("10^{\u{2212}9}") }, "\(tiny.map(\.label))")
    }

    @Test func logTicksArePowersOfTenThinnedOverManyDecades() {
        let many = Ticks.log(lo: 1e-14, hi: 1.2, target: 5).filter(\.major)
        #expect(many.map(\.value).map { log10($0).rounded() } == [-12, -9, -6, -3, 0])
        #expect(many.first?.label == "10^{\u{2212}12}" && many.last?.label == "1")
        let few = Ticks.log(lo: 0.002, hi: 2, target: 5)
        #expect(few.filter(\.major).map(\.label) == ["10^{\u{2212}2}", "10^{\u{2212}1}", "1"])
        #expect(few.contains { !$0.major }, "minor ticks at 2..9 x 10^k")
        let narrow = Ticks.log(lo: 4, hi: 60, target: 5)
        #expect(narrow.map(\.label) == ["5", "10", "20", "50"])
        let extreme = Ticks.log(lo: 1e-40, hi: 1e40, target: 6)
        #expect(extreme.count >= 3 && extreme.count <= 9)
    }

    @Test func scalesMapBothWaysAndRefuseNonPositiveLogs() {
        let s = Scale(kind: .log10, lo: 1e-3, hi: 1, start: 300, end: 0)
        #expect(abs(s.map(1e-3) - 300) < 1e-9 && abs(s.map(1) - 0) < 1e-9)
        #expect(abs(s.map(pow(10, -1.5)) - 150) < 1e-9)
        #expect(s.map(0).isNaN && s.map(-1).isNaN && s.map(.nan).isNaN)
        #expect(abs(s.value(at: 150) - pow(10, -1.5)) < 1e-12)
        let linear = Scale(kind: .linear, lo: 0, hi: 10, start: 50, end: 150)
        #expect(linear.map(2.5) == 75)
        // Far outside: limited, not infinite.
        #expect(linear.map(1e300).isFinite)
    }

    @Test func numbersReadWell() {
        #expect(NumberFormat.short(0.6012) == "0.601")
        #expect(NumberFormat.short(1234.5) == "1234")
        #expect(NumberFormat.short(-0.5) == "\u{2212}0.5")
        #expect(NumberFormat.short(2.5e-7) == "2.50×10^{\u{2212}7}")
        #expect(NumberFormat.short(.nan) == "NaN")
        #expect(NumberFormat.short(.infinity) == "∞")
        #expect(NumberFormat.plain(-0.0001, decimals: 2) == "0.00")
    }

    @Test func fittedDomainsSurviveDegenerateData() {
        var axis = AxisSpec()
        #expect(PanelLayout.fit(axis, []) == (0, 1))
        let constant = PanelLayout.fit(axis, [3, 3, 3])
        #expect(constant.lo < 3 && constant.hi > 3)
        let zero = PanelLayout.fit(axis, [0, 0])
        #expect(zero == (-1, 1))
        let huge = PanelLayout.fit(axis, [-1e308, 1e308])
        #expect(huge.lo.isFinite && huge.hi.isFinite && huge.hi > huge.lo)
        axis.kind = .log10
        #expect(PanelLayout.fit(axis, [0, -1, .nan]) == (0.1, 1))
        let capped = { () -> (lo: Double, hi: Double) in
            var a = axis
            a.maxDecades = 6
            return PanelLayout.fit(a, [1e-40, 1])
        }()
        #expect(log10(capped.lo) > -7 && log10(capped.lo) < -6)
    }
}

@Suite struct ColorMapTests {
    @Test func viridisRunsFromPurpleToYellowGettingLighter() {
        let first = ColorMap.viridis.color(at: 0), last = ColorMap.viridis.color(at: 1)
        let a = Pixels.bytes(first), b = Pixels.bytes(last)
        #expect(abs(a.0 - 0x44) <= 1 && abs(a.1 - 0x01) <= 1 && abs(a.2 - 0x54) <= 1)
        #expect(abs(b.0 - 0xFD) <= 1 && abs(b.1 - 0xE7) <= 1 && abs(b.2 - 0x25) <= 1)
        var previous = -1.0
        for i in 0...255 {
            let l = ColorMap.viridis.color(at: Double(i) / 255).luminance
            #expect(l > previous, "luminance falls at \(i)")
            previous = l
        }
    }

    @Test func divergingIsLightInTheMiddleAndDarkAtBothEnds() {
        let map = ColorMap.diverging
        let middle = map.color(at: 0.5)
        #expect(middle.luminance > 0.85)
        #expect(map.color(at: 0).blue > map.color(at: 0).red)
        #expect(map.color(at: 1).red > map.color(at: 1).blue)
        for i in 0..<127 {
            #expect(map.color(at: Double(i) / 255).luminance <= map.color(at: Double(i + 1) / 255).luminance + 1e-9)
        }
    }

    @Test func logColourScaleClampsAndSkipsNaN() {
        let scale = ColorScale(map: .viridis, kind: .log10, lo: 1e-3, hi: 1)
        #expect(scale.fraction(1e-3) == 0 && scale.fraction(1) == 1)
        #expect(abs(scale.fraction(pow(10, -1.5))! - 0.5) < 1e-12)
        #expect(scale.fraction(1e-9) == 0 && scale.fraction(1e9) == 1 && scale.fraction(0) == 0)
        #expect(scale.fraction(.nan) == nil && scale.color(.nan) == nil)
        #expect(scale.fraction(.infinity) == 1)
    }

    @Test func cellsKeepTheirColours() {
        #expect(Theme.cellColor(.rnn) == Color(hex: 0xD55E00))
        #expect(Theme.cellColor(.lstm) == Color(hex: 0x0072B2))
        #expect(Theme.cellColor(.gru) == Color(hex: 0x009E73))
    }
}
