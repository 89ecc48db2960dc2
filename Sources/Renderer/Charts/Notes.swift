// Red notes inside a plot: what is missing or what went wrong, so a chart never silently shows nothing.

import Foundation

enum Notes {
    /// Draws the lines in a white box at the top centre of `plot` (its middle when `centred`);
    /// returns the box.
    @discardableResult
    static func draw(_ lines: [String], on canvas: inout Canvas, in plot: Rect, centred: Bool, typesetter ts: Typesetter) -> Rect {
        let laid = lines.map { ts.layout(ts.fitting($0, Theme.note, maxWidth: plot.width - 16), Theme.note) }
        let width = (laid.map(\.width).max() ?? 0) + 14
        let height = laid.reduce(0) { $0 + $1.height + 2 } + 8
        let y0 = centred ? plot.midY - height / 2 : plot.minY + 8
        let box = Rect(x: plot.midX - width / 2, y: y0, width: width, height: height)
        canvas.fillRect(box, Color.white.withAlpha(0.92))
        canvas.strokeRect(box, style: StrokeStyle(width: 0.75), Theme.noteColor.withAlpha(0.6))
        var y = y0 + 5
        for line in laid {
            canvas.draw(line, at: Point(plot.midX, y + line.ascent), .center, .baseline)
            y += line.height + 2
        }
        return box
    }
}
