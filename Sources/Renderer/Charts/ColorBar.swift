// The colour bar beside a heatmap: the same `ColorScale` value the heatmap used, drawn as a
// gradient with its own ticks, so a colour can be read back as a number.

import Foundation

enum ColorBar {
    static let gap = 12.0
    static let width = 12.0

    /// Draws the bar to the right of `plot`; returns the bar's rectangle.
    @discardableResult
    static func draw(_ spec: ColorBarSpec, on canvas: inout Canvas, beside plot: Rect, typesetter ts: Typesetter) -> Rect {
        let bar = Rect(x: plot.maxX + gap, y: plot.minY, width: width, height: plot.height)
        let map = spec.scale.map
        // Top of the bar is the high end.
        // One cell per pixel row: the colour at that height, high end at the top.
        let steps = max(1, Int((bar.height * canvas.scale).rounded()))
        canvas.paintGrid(bar, column: { _ in 0 }, row: { v in min(steps - 1, max(0, Int(v * Double(steps)))) },
                         color: { r, _ in map.color(at: 1 - (Double(r) + 0.5) / Double(steps)) })
        canvas.strokeRect(bar, style: StrokeStyle(width: 0.75, join: .miter), Color(hex: 0x666666))
        let axis = Scale(kind: spec.scale.kind, lo: spec.scale.lo, hi: spec.scale.hi, start: bar.maxY, end: bar.minY)
        let ticks = PanelLayout.colorBarTicks(spec.scale, target: max(2, Int(plot.height / 40)))
        var widest = 0.0
        for t in ticks {
            let y = canvas.snap(axis.map(t.value), width: 1)
            canvas.line(from: Point(bar.maxX, y), to: Point(bar.maxX + Theme.tickLength, y), style: StrokeStyle(width: 1), Theme.axisColor)
            let line = canvas.text(t.label, Theme.tickLabel, at: Point(bar.maxX + Theme.tickLength + 3, y), using: ts, .left, .middle)
            widest = max(widest, line.width)
        }
        let titleX = bar.maxX + Theme.tickLength + 3 + widest + 5
        canvas.text(spec.title, Theme.axisTitle, at: Point(titleX, bar.midY), using: ts, .center, .top, rotated: true)
        return bar
    }
}
