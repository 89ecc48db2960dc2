// The chart model: a figure is a title and a grid of panels; a panel is two axes and the marks
// drawn between them. Charts describe what to show with these values; `FigureRenderer` measures,
// lays out and draws them, so every chart gets the same margins, ticks, legends and notes.

import Foundation

struct AxisSpec {
    /// Axis title (markup).
    var title: String? = nil
    var kind: ScaleKind = .linear
    /// Fixed domain; nil fits the data of the panel's marks.
    var domain: (lo: Double, hi: Double)? = nil
    /// Values the fitted domain must include (e.g. 0 for a loss, 1 for a ratio).
    var include: [Double] = []
    /// Fraction of the span added on each side of a fitted domain (of the decades on a log axis).
    var padding: Double = 0.04
    /// Larger values first (downwards for y: matrix rows; leftwards for x).
    var inverted = false
    /// Ticks only at integers (steps, lags, indices).
    var integer = false
    /// Fitted log domains span at most this many decades below the largest value.
    var maxDecades: Double? = nil
    /// Replace the automatic ticks.
    var ticks: [Tick]? = nil
    var showTickLabels = true
}

enum MarkerShape: Equatable { case circle, square, triangle, diamond, cross, verticalBar }

struct LineMark {
    var points: [(x: Double, y: Double)]
    var color: Color
    var width: Double = Theme.dataWidth
    var dash: [Double] = []
    /// Legend label (markup); nil keeps it out of the legend.
    var label: String? = nil
    var marker: MarkerShape? = nil
    var markerSize: Double = 3
    /// Whether the points take part in fitting the axes' domains.
    var fitsDomain = true
    /// Which run of a comparison chart the line belongs to (the report's pointer readout highlights by it).
    var group: Int? = nil
}

struct ScatterMark {
    var points: [(x: Double, y: Double)]
    var color: Color
    var shape: MarkerShape = .circle
    /// Radius in points.
    var size: Double = 2.5
    var filled = true
    var label: String? = nil
    var fitsDomain = true
}

/// Cell (row r, column c) covers x in [c - 0.5, c + 0.5] and y in [r - 0.5, r + 0.5] (data units,
/// before `xOffset`/`yOffset`). Rows may be ragged; missing cells are left unpainted, NaN cells
/// are painted `Theme.missingColor`.
struct HeatmapMark {
    var values: [[Double]]
    var colorScale: ColorScale
    var xOffset: Double = 0
    var yOffset: Double = 0
}

/// A filled band between two curves over the same xs (a seed spread: min to max, or the
/// interquartile range). Points where either bound is not drawable split the band.
struct BandMark {
    var xs: [Double]
    var lower: [Double]
    var upper: [Double]
    var color: Color
    var label: String? = nil
    var fitsDomain = true
}

struct RuleMark {
    enum Orientation { case horizontal, vertical }
    var orientation: Orientation
    var value: Double
    var color: Color = Theme.referenceColor
    var width: Double = 1.2
    var dash: [Double] = [5, 3]
    /// Drawn beside the rule, at its end (top for vertical rules, right for horizontal ones).
    var label: String? = nil
    /// Put the label at the start (bottom / left) of the rule instead.
    var labelAtStart = false
    /// Horizontal rules: put the label under the rule (where there is room) instead of over it.
    var labelBelow = false
    var legendLabel: String? = nil
    var fitsDomain = true
}

struct CircleMark {
    var center: (x: Double, y: Double)
    var radius: Double
    var color: Color
    var width: Double = 1.2
    var dash: [Double] = []
    var label: String? = nil
}

struct TextMark {
    var x: Double
    var y: Double
    var text: String
    var style: TextStyle = Theme.annotation
    var horizontal: HorizontalAlignment = .left
    var vertical: VerticalAlignment = .middle
    /// White backing box so the text stays readable over data.
    var boxed = false
    /// Shift from the anchor, in points (after mapping the data position).
    var offset = Point(0, 0)
}

/// Short ticks along the bottom edge of the plot at the given x values (clipped steps).
struct RugMark {
    var xs: [Double]
    var color: Color
    var length: Double = 7
    var label: String? = nil
}

/// A label in the margin right of the plot, level with the end of a line (direct labelling);
/// labels that would overlap are pushed apart.
struct EndLabelMark {
    var y: Double
    var text: String
    var color: Color
    /// The run the label names, as in `LineMark.group`.
    var group: Int? = nil
}

enum Mark {
    case rug(RugMark)
    case endLabel(EndLabelMark)
    case line(LineMark)
    case scatter(ScatterMark)
    case heatmap(HeatmapMark)
    case band(BandMark)
    case rule(RuleMark)
    case circle(CircleMark)
    case text(TextMark)
}

struct LegendEntry {
    enum Sample {
        case line(Color, width: Double, dash: [Double])
        case marker(MarkerShape, Color, filled: Bool)
        case lineWithMarker(Color, width: Double, dash: [Double], MarkerShape, filled: Bool = true)
        case patch(Color)
        /// Text only (a remark that belongs with the legend).
        case none
    }
    var label: String
    var sample: Sample
    /// The run the entry stands for, from its line's `group`.
    var group: Int? = nil
}

enum LegendPlacement: Equatable { case none, auto, upperLeft, upperRight, lowerLeft, lowerRight, below }

struct ColorBarSpec {
    var scale: ColorScale
    var title: String
}

struct PanelSpec {
    var title: String? = nil
    var x = AxisSpec()
    var y = AxisSpec()
    var marks: [Mark] = []
    var legend: LegendPlacement = .auto
    /// Entries added after those collected from labelled marks.
    var extraLegend: [LegendEntry] = []
    var colorBar: ColorBarSpec? = nil
    /// Shown in red inside the plot ("no finite values", "diverged at step 412").
    var notes: [String] = []
    /// Quiet grey remarks in the plot's lower right corner (values below a clamped axis).
    var remarks: [String] = []
    /// Same units per point on both axes (the complex plane).
    var equalAspect = false
    var grid = true
    /// Labels under individual x positions (the probe text under a heatmap's columns); the numeric
    /// x ticks then move to the top edge.
    var columnLabels: [(x: Double, label: String)] = []
    /// Plot-area height for this panel's row, overriding the figure's.
    var plotHeight: Double? = nil
    /// Text shown when the panel has nothing to draw.
    var emptyMessage = "no data"
    /// Names for the report's pointer readout of this panel's heatmap; nil leaves the heatmap out of it.
    var heatmapReadout: HeatmapReadout? = nil
}

/// What the pointer readout calls a heatmap's row, column and value, and the token at each step.
struct HeatmapReadout {
    var row: String
    var column: String
    /// The value's name, with `{row}` and `{column}` standing for the indices: "G[{row}][{column}]".
    var value: String
    /// The token at each step (row and column index the same sequence), or empty.
    var tokens: [String] = []
}

struct FigureSpec {
    var title: String
    var subtitle: String? = nil
    /// Red notes under the subtitle (a diverged run, missing probes).
    var notes: [String] = []
    var width: Double = 960
    var columns: Int = 1
    /// Relative column widths (default equal).
    var columnWeights: [Double]? = nil
    /// Height of every plot area unless a panel overrides it.
    var plotHeight: Double = 260
    var panels: [PanelSpec]
}
