// Renderer: raster, text, PNG, charts and the HTML report. It reads run records only
// (module DiagnoseRecord) and never imports training code.

import Foundation

/// One rendered chart: what the renderer hands to the file writer and the HTML report.
public struct ChartImage: Sendable, Equatable {
    /// File name stem, e.g. "gradient-flow" (written as `gradient-flow.png`).
    public var id: String
    /// Short human title, e.g. "Gradient flow over time".
    public var title: String
    /// One or two sentences saying what the picture shows and how to read it.
    public var caption: String
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

    public init(id: String, title: String, caption: String, png: Data, width: Int, height: Int, scale: Double,
                hover: String? = nil) {
        self.id = id
        self.title = title
        self.caption = caption
        self.png = png
        self.width = width
        self.height = height
        self.scale = scale
        self.hover = hover
    }
}
