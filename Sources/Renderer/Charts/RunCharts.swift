// The six charts drawn for every run.

import DiagnoseRecord
import Foundation

public enum RunCharts {
    /// Ids in the order `render` returns them.
    public static let ids = ["gradient-flow", "gradient-decay", "spectrum", "jacobian-products", "gates", "training"]

    public static func render(_ record: RunRecord, options: RenderOptions) throws -> [ChartImage] {
        []
    }
}
