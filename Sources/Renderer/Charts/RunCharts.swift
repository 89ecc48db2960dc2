// The six charts drawn for every run.

import DiagnoseRecord
import Foundation

public enum RunCharts {
    /// Ids in the order `render` returns them; stacks of two or more layers also get `.depth`, last.
    public static let ids: [ChartID] = [.gradientFlow, .gradientDecay, .spectrum, .jacobianProducts, .gates, .training]

    /// The ids `render` returns for `record`.
    public static func ids(for record: RunRecord) -> [ChartID] {
        ids + (DepthChart.applies(to: record) ? [.depth] : [])
    }

    /// Every chart of one run, in the order of `ids`. Throws only when no font can be loaded or
    /// libpng fails; missing or broken data gives a chart with a note instead.
    public static func render(_ record: RunRecord, options: RenderOptions) throws -> [ChartImage] {
        try renderFigures(record, options: options).map(\.image)
    }

    static func figures(_ record: RunRecord) -> [ChartFigure] {
        [GradientFlowChart.figure(record), GradientDecayChart.figure(record), SpectrumChart.figure(record),
         JacobianChart.figure(record), GatesChart.figure(record),
         TrainingChart.figure(record)] + (DepthChart.applies(to: record) ? [DepthChart.figure(record)] : [])
    }

    static func renderFigures(_ record: RunRecord, options: RenderOptions) throws -> [(image: ChartImage, figure: RenderedFigure)] {
        let typesetter = try Typesetter(options: options)
        return try ChartFigure.renderAll(figures(record), typesetter: typesetter)
    }
}
