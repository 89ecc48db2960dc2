// Writes every chart and the report for a set of run folders.
//
// Runs may lie anywhere: next to the report (`output/lstm`, `output/rnn`) or in folders downloaded
// from separate CI jobs (`artifacts/job-1/lstm`, `artifacts/job-2/rnn`). The report links to each
// run with a path relative to the report's folder, so the whole tree can be moved or archived.
//
// Order of work: read every record and draw every chart in memory first, then write the PNGs,
// then `report.html` last, each file atomically. A missing or invalid record therefore changes
// nothing on disk, and a failure while writing leaves the previous report in place.

import DiagnoseRecord
import Dispatch
import Foundation

/// What `ReportWriter.renderRuns` wrote.
public struct ReportSummary: Sendable, Equatable {
    /// `<outputDirectory>/report.html`.
    public var report: URL
    /// `<runDir>/<id>.png` for every run, runs in report order (simple RNN, GRU, LSTM; runs of one
    /// cell in the order given).
    public var runCharts: [URL]
    /// `<outputDirectory>/compare/<id>.png` (the comparison charts, then the sweep charts
    /// `sweep-*.png` when a flag varies across the runs); empty for a single run.
    public var comparisonCharts: [URL]
    /// The names the report shows for the runs (record names, made unique), in report order.
    public var runNames: [String]

    /// `<runDir>/report.html` for every run when the report has more than
    /// `ReportWriter.inlineRunLimit` runs; empty otherwise.
    public var runPages: [URL]

    public init(report: URL, runCharts: [URL], comparisonCharts: [URL], runNames: [String], runPages: [URL] = []) {
        self.report = report
        self.runCharts = runCharts
        self.comparisonCharts = comparisonCharts
        self.runNames = runNames
        self.runPages = runPages
    }

    /// Every file written, the report last.
    public var files: [URL] { runCharts + runPages + comparisonCharts + [report] }
}

public enum ReportError: Error, CustomStringConvertible, Equatable {
    case noRuns(outputDirectory: String)
    case missingRecord(directory: String)
    case notADirectory(path: String)
    case cannotCreateFolder(path: String, reason: String)

    public var description: String {
        switch self {
        case let .noRuns(outputDirectory):
            return "no runs to report in \(outputDirectory): run `diagnose` first, or name run folders "
                + "(folders that hold a run.json) after `diagnose report`"
        case let .missingRecord(directory):
            return "\(directory)/run.json not found: run `diagnose` first or name a folder that holds a run.json"
        case let .notADirectory(path):
            return "\(path) is not a folder: name the run's folder (the one that holds run.json), not a file"
        case let .cannotCreateFolder(path, reason):
            return "cannot create the folder \(path): \(reason); check that its parent exists and is writable"
        }
    }
}

public enum ReportWriter {
    public static let reportFileName = "report.html"
    public static let recordFileName = "run.json"
    public static let comparisonFolderName = "compare"
    /// Up to this many runs the report inlines every run's charts; with more, it holds the summary,
    /// comparison and sweep charts and links to a self-contained `report.html` in each run's folder,
    /// so it stays small (about 1 MB of charts per run otherwise).
    public static let inlineRunLimit = 6

    /// `body` applied to every record on all cores; results in order. Rendering is independent per
    /// run (each has its own FreeType library and buffers), so the bytes do not depend on the threads.
    static func renderConcurrently<T>(_ records: [RunRecord], _ body: (RunRecord) throws -> T) throws -> [T] {
        let results = ResultSlots<T>(count: records.count)
        DispatchQueue.concurrentPerform(iterations: records.count) { index in
            results.set(index, Result { try body(records[index]) })
        }
        return try results.values.map { try $0!.get() }
    }

    /// Loads `run.json` from each folder, writes each run's charts as `<runDir>/<id>.png`, the
    /// comparison charts as `<outputDirectory>/compare/<id>.png` (two or more runs), and
    /// `<outputDirectory>/report.html`, all atomically. A folder named twice is reported once; the
    /// report shows the simple RNN first, then GRU, then LSTM, runs of one cell by flags and seed, then in the order given.
    /// Throws `ReportError`, `RecordError` (a record that cannot be read), `AtomicFileError`, or
    /// whatever the chart renderer throws.
    public static func renderRuns(runDirectories: [URL], outputDirectory: URL,
                                  options: RenderOptions) throws -> ReportSummary {
        let output = outputDirectory.standardizedFileURL
        // Read and draw everything before writing anything.
        let given = try uniqueRunDirectories(runDirectories)
        guard !given.isEmpty else { throw ReportError.noRuns(outputDirectory: output.path) }
        let loaded = try given.map { ($0, try loadRecord(from: $0)) }
        // The lecture's order: simple RNN, then GRU, then LSTM; runs of one cell by their flags and
        // seed (so shards merge in the same order as one sweep), then in the order given.
        let ordered = loaded.enumerated().sorted { a, b in
            let ca = a.element.1.config.cell, cb = b.element.1.config.cell
            if ca != cb { return ca < cb }
            return RunGroups.precedes(a.element.1.config, b.element.1.config) ?? (a.offset < b.offset)
        }.map(\.element)
        let directories = ordered.map(\.0)
        var records = ordered.map(\.1)
        let names = uniqueNames(records.map(\.name), directories: directories)
        for index in records.indices { records[index].name = names[index] }
        let runCharts = try renderConcurrently(records) { try RunCharts.render($0, options: options) }
        let comparison = records.count >= 2
            ? try CompareCharts.render(records, options: options) + SweepCharts.render(records, options: options) : []
        let ownPages = records.count > inlineRunLimit

        do {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        } catch {
            throw ReportError.cannotCreateFolder(path: output.path, reason: error.localizedDescription)
        }
        let outputResolved = output.resolvingSymlinksInPath()

        var runChartFiles: [URL] = []
        var runPages: [URL] = []
        var runs: [ReportRun] = []
        for (index, directory) in directories.enumerated() {
            for chart in runCharts[index] {
                let file = directory.appendingPathComponent(chart.id + ".png")
                try AtomicFile.write(chart.png, to: file)
                runChartFiles.append(file)
            }
            let link = relativePath(from: outputResolved, to: directory.resolvingSymlinksInPath())
            runs.append(ReportRun(record: records[index], directoryLink: link, charts: runCharts[index]))
            if ownPages {
                // The run's own self-contained page, next to its charts.
                let own = ReportRun(record: records[index], directoryLink: ".", charts: runCharts[index])
                let page = HTMLReport.build(runs: [own], comparison: [], generatedBy: "\(records[index].tool.name) \(records[index].tool.version)")
                let file = directory.appendingPathComponent(reportFileName)
                try AtomicFile.write(page, to: file)
                runPages.append(file)
            }
        }

        var comparisonFiles: [URL] = []
        if !comparison.isEmpty {
            let folder = output.appendingPathComponent(comparisonFolderName)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw ReportError.cannotCreateFolder(path: folder.path, reason: error.localizedDescription)
            }
            for chart in comparison {
                let file = folder.appendingPathComponent(chart.id + ".png")
                try AtomicFile.write(chart.png, to: file)
                comparisonFiles.append(file)
            }
        }

        let tool = records[0].tool
        let html = HTMLReport.build(runs: runs, comparison: comparison, generatedBy: "\(tool.name) \(tool.version)",
                                    runPages: ownPages)
        let report = output.appendingPathComponent(reportFileName)
        try AtomicFile.write(html, to: report)
        return ReportSummary(report: report, runCharts: runChartFiles, comparisonCharts: comparisonFiles,
                             runNames: names, runPages: runPages)
    }

    /// The immediate subfolders of `outputDirectory` that hold a `run.json`, sorted by name
    /// (byte order, so the result does not depend on the locale). Hidden folders are skipped.
    public static func discoverRuns(in outputDirectory: URL) -> [URL] {
        let fileManager = FileManager.default
        guard let entries = try? fileManager.contentsOfDirectory(atPath: outputDirectory.path) else { return [] }
        return entries
            .filter { !$0.hasPrefix(".") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { outputDirectory.appendingPathComponent($0, isDirectory: true) }
            .filter { folder in
                var isDirectory: ObjCBool = false
                return fileManager.fileExists(atPath: folder.path, isDirectory: &isDirectory) && isDirectory.boolValue
                    && fileManager.fileExists(atPath: folder.appendingPathComponent(recordFileName).path)
            }
    }

    // MARK: Helpers

    /// The folders, standardised, each kept once (first occurrence), checked to be folders.
    static func uniqueRunDirectories(_ directories: [URL]) throws -> [URL] {
        var seen = Set<String>()
        var result: [URL] = []
        for directory in directories {
            let url = directory.standardizedFileURL
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            if exists && !isDirectory.boolValue {
                throw ReportError.notADirectory(path: url.path)
            }
            let key = url.resolvingSymlinksInPath().path
            if seen.insert(key).inserted { result.append(url) }
        }
        return result
    }

    static func loadRecord(from directory: URL) throws -> RunRecord {
        let file = directory.appendingPathComponent(recordFileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ReportError.missingRecord(directory: directory.path)
        }
        return try RecordCoding.load(from: file)
    }

    /// Record names made unique: a name used by one run stays as it is; runs sharing a name get
    /// the shortest end of their folder path that tells the folders apart, "lstm (job-1/lstm)", and if
    /// that still collides, " #2", " #3" in the order given. Deterministic in the order and paths given.
    static func uniqueNames(_ names: [String], directories: [URL]) -> [String] {
        var counts: [String: Int] = [:]
        for name in names { counts[name, default: 0] += 1 }
        var result = names
        for index in names.indices where counts[names[index]]! > 1 {
            result[index] = "\(names[index]) (\(distinguishingLabel(of: directories[index], among: directories)))"
        }
        var used: [String: Int] = [:]
        for index in result.indices {
            let name = result[index]
            used[name, default: 0] += 1
            if used[name]! > 1 { result[index] = "\(name) #\(used[name]!)" }
        }
        return result
    }

    /// The shortest trailing run of path components that tells this folder apart from the others
    /// (`job-1/lstm` against `job-2/lstm` gives `job-1/lstm`); the whole path if none does.
    static func distinguishingLabel(of directory: URL, among directories: [URL]) -> String {
        let components = directory.pathComponents.filter { $0 != "/" }
        let others = directories.map { $0.pathComponents.filter { $0 != "/" } }.filter { $0 != components }
        guard !components.isEmpty else { return "/" }
        for length in 1...components.count {
            let suffix = Array(components.suffix(length))
            if !others.contains(where: { Array($0.suffix(length)) == suffix }) {
                return suffix.joined(separator: "/")
            }
        }
        return directory.path
    }

    /// The relative POSIX path from folder `base` to `target` (both absolute): "lstm",
    /// "../artifacts/job-1/lstm", or "." when they are the same folder.
    static func relativePath(from base: URL, to target: URL) -> String {
        let from = base.standardizedFileURL.pathComponents.filter { $0 != "/" }
        let to = target.standardizedFileURL.pathComponents.filter { $0 != "/" }
        var common = 0
        while common < from.count && common < to.count && from[common] == to[common] { common += 1 }
        let parts = Array(repeating: "..", count: from.count - common) + to[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}

/// Results filled in by index from concurrent work.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [Result<T, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<T, Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }
    var values: [Result<T, Error>?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
