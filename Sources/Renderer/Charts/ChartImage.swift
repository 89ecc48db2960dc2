// Renderer: raster, text, PNG, charts and the HTML report. It reads run records only
// (module DiagnoseRecord) and never imports training code.

import Foundation

/// One rendered chart: what the renderer hands to the file writer and the HTML report.
public struct ChartImage: Sendable, Equatable {
    /// Which chart; its raw value is the file stem (`.gradientFlow` is written as `gradient-flow.png`).
    public var id: ChartID
    /// Short human title, e.g. "Gradient flow over time".
    public var title: String
    /// Encoded PNG bytes.
    public var png: Data
    /// Size in pixels of the PNG (at the render scale).
    public var width: Int
    public var height: Int
    /// The render scale the pixels were drawn at (2 for high-density screens): CSS width = width / scale.
    public var scale: Double
    /// What the report's pointer readout needs (panel geometry, axis mappings, data), as compact
    /// JSON; nil when the chart has nothing to read out. See `HoverExport`.
    public var hover: String?

    public init(id: ChartID, title: String, png: Data, width: Int, height: Int, scale: Double,
                hover: String? = nil) {
        self.id = id
        self.title = title
        self.png = png
        self.width = width
        self.height = height
        self.scale = scale
        self.hover = hover
    }
}
