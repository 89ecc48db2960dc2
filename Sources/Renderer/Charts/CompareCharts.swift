// Charts that put several runs side by side.

import DiagnoseRecord
import Foundation

public enum CompareCharts {
    /// Ids in the order `render` returns them.
    public static let ids = ["compare-lag-profiles", "compare-training", "compare-spectra"]

    public static func render(_ records: [RunRecord], options: RenderOptions) throws -> [ChartImage] {
        []
    }
}
