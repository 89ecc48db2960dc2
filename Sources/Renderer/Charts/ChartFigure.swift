// A chart before it becomes pixels: id, title and the figure to draw. Its caption is the report's
// (ReportCaptions), which sees the numbers of every run.

import DiagnoseRecord
import Dispatch
import Foundation

struct ChartFigure {
    var id: ChartID
    var title: String
    var spec: FigureSpec

    /// Draws every figure (one after the other: the typesetter's FreeType faces are not
    /// thread-safe), then encodes the PNGs in parallel, where most of the time goes (zlib).
    /// The output does not depend on the order the encodings finish in.
    static func renderAll(_ figures: [ChartFigure], typesetter: Typesetter) throws -> [(image: ChartImage, figure: RenderedFigure)] {
        let drawn = figures.map { FigureRenderer.render($0.spec, typesetter: typesetter) }
        let encoded = ConcurrentSlots<Result<Data, Error>>(count: drawn.count)
        DispatchQueue.concurrentPerform(iterations: drawn.count) { i in
            encoded.set(i, Result { try PNGCodec.encode(drawn[i].pixmap) })
        }
        return try zip(figures, drawn).enumerated().map { i, pair in
            let (chart, figure) = pair
            let png = try (encoded.get(i) ?? .failure(RendererError.pngEncode("chart \(i) was not encoded"))).get()
            return (ChartImage(id: chart.id, title: chart.title, png: png, width: figure.pixmap.width,
                               height: figure.pixmap.height, scale: typesetter.scale,
                               hover: HoverExport.json(spec: chart.spec, rendered: figure)), figure)
        }
    }
}
