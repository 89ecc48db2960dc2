import ArgumentParser
import DiagnoseRecord
import Foundation
import Renderer

/// `diagnose export`: a run's tables as CSV, or its TensorBoard event file, from the record alone.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's per-step, per-evaluation and per-probe tables as CSV (or its TensorBoard events).",
        discussion: """
            --format csv writes steps.csv (step, loss, perplexity, gradientNorm, clippedGradientNorm, clipped,
            learningRate), evaluations.csv (step, trainLoss, validLoss, validPerplexity, recallAccuracy) and
            probes.csv (step, layer, direction, decayPerStep, horizon, spectralRadius, gate saturations).
            --format tensorboard rewrites the run's \(TensorBoardEvents.fileName) from run.json and the
            charts in the folder.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, tensorboard
    }

    @Argument(help: "Run folders (each holding a run.json).")
    var runDirectories: [String]

    @Option(help: "csv or tensorboard.")
    var format: Format = .csv

    @Option(name: .customLong("to"), help: "Folder for the CSV files or the event file (default: the run's own folder).")
    var destination: String?

    func validate() throws {
        guard !runDirectories.isEmpty else { throw ValidationError("name a run folder (one that holds a run.json)") }
        if let destination { try requireNonEmptyPath(destination, flag: "--to") }
        if destination != nil, runDirectories.count > 1 {
            throw ValidationError("--to takes one run folder; the files of several runs would overwrite each other")
        }
    }

    func run() throws {
        // Read every record before writing anything.
        let folders = runDirectories.map { URL(fileURLWithPath: $0) }
        let records = try folders.map(loadRunRecord)
        for (folder, record) in zip(folders, records) {
            let target = destination.map { URL(fileURLWithPath: $0) } ?? folder
            try writing(flag: "--to") {
                try OutputFolder.createFolder(target)
                switch format {
                case .csv:
                    for table in CSVExport.tables(record) {
                        let file = target.appendingPathComponent(table.name)
                        try AtomicFile.write(table.text, to: file)
                        print(file.path)
                    }
                case .tensorboard:
                    print(try writeTensorBoardEvents(record, charts: folder, in: target).path)
                }
            }
        }
    }
}

/// Writes `<folder>/events.out.tfevents.0.diagnose` from the record and the charts drawn in the folder.
@discardableResult
func writeTensorBoardEvents(_ record: RunRecord, charts chartFolder: URL? = nil, in folder: URL) throws -> URL {
    let charts: [(id: ChartID, png: Data)] = RunCharts.ids.compactMap { id in
        (try? Data(contentsOf: (chartFolder ?? folder).appendingPathComponent(id.rawValue + ".png"))).map { (id, $0) }
    }
    let file = folder.appendingPathComponent(TensorBoardEvents.fileName)
    try AtomicFile.write(TensorBoardEvents.file(for: record, charts: charts), to: file)
    return file
}
