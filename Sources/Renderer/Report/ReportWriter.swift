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
    /// `<chart folder>/<id>.png` for every run (see `ReportRunInput.chartDirectory`), runs in report order (simple RNN, GRU, LSTM; runs of one
    /// cell in the order given).
    public var runCharts: [URL]
    /// `<outputDirectory>/compare/<id>.png` (the comparison charts, then the sweep charts
    /// `sweep-*.png` when a flag varies across the runs); empty for a single run.
    public var comparisonCharts: [URL]
    /// The names the report shows for the runs (record names, made unique), in report order.
    public var runNames: [String]
    /// Runs left out because their records could not be read: one message each, naming the file.
    public var skipped: [String]

    /// `<chart folder>/report.html` for every run when the runs get their own pages
    /// (`ReportWriter.usesRunPages`); empty otherwise.
    public var runPages: [URL]

    public init(report: URL, runCharts: [URL], comparisonCharts: [URL], runNames: [String], runPages: [URL] = [],
                skipped: [String] = []) {
        self.report = report
        self.runCharts = runCharts
        self.comparisonCharts = comparisonCharts
        self.runNames = runNames
        self.runPages = runPages
        self.skipped = skipped
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

/// One run to report: where its folder is (the report links there) and, when already in memory
/// (a run being written), its record and where its charts go.
public struct ReportRunInput {
    public var directory: URL
    public var record: RunRecord?
    /// Where the run's PNGs are written; nil: the run folder when it lies directly in the output
    /// folder, otherwise `<output>/charts/<name>/`, so nothing is ever written outside the output folder.
    public var chartDirectory: URL?

    public init(directory: URL, record: RunRecord? = nil, chartDirectory: URL? = nil) {
        self.directory = directory
        self.record = record
        self.chartDirectory = chartDirectory
    }
}

public enum ReportWriter {
    public static let reportFileName = "report.html"
    public static let recordFileName = "run.json"
    public static let comparisonFolderName = "compare"
    /// Charts of runs whose folders lie outside the output folder.
    public static let chartsFolderName = "charts"
    /// Up to this many runs the report inlines every run's charts; with more, it holds the summary,
    /// comparison and sweep charts and links to a self-contained `report.html` in each run's folder,
    /// so it stays small (about 1 MB of charts per run otherwise).
    public static let inlineRunLimit = 6
    /// The most chart bytes (base64 in the page, so 4/3 of the PNGs) the index may inline: six
    /// single-layer runs come to about 10 MB, and deeper or bidirectional runs have more charts, so
    /// past this the runs get their own pages too and the index stays well under 10 MB.
    public static let inlineChartBudget = 7_000_000

    /// Whether the runs get their own pages: more than `inlineRunLimit` of them, or their charts and
    /// the comparison charts (`chartBytes` of PNG) would take the index past `inlineChartBudget`.
    public static func usesRunPages(runs: Int, chartBytes: Int) -> Bool {
        runs > inlineRunLimit || chartBytes / 3 * 4 > inlineChartBudget
    }

    /// `body` applied to every record on all cores; results in order. Rendering is independent per
    /// run (each has its own FreeType library and buffers), so the bytes do not depend on the threads.
    static func renderConcurrently<T>(_ records: [RunRecord], _ body: (RunRecord) throws -> T) throws -> [T] {
        try concurrently(records, body).map { try $0.get() }
    }

    /// `body` applied to every item on all cores; each result or error in the items' order.
    static func concurrently<Item, T>(_ items: [Item], _ body: (Item) throws -> T) -> [Result<T, Error>] {
        let results = ConcurrentSlots<Result<T, Error>>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { index in
            results.set(index, Result { try body(items[index]) })
        }
        return results.values.map { $0! }
    }

    /// Loads `run.json` from each folder, writes each run's charts, the comparison charts as
    /// `<outputDirectory>/compare/<id>.png` (two or more runs), and `<outputDirectory>/report.html`,
    /// all atomically. A folder named twice is reported once; the report shows the simple RNN first,
    /// then GRU, then LSTM, runs of one cell in the order given. With `skipUndrawable`, a run whose
    /// record cannot be read is left out and named in `ReportSummary.skipped` (the others are still
    /// drawn); without it, or when no run is left, the first such error is thrown. Runs of one cell
    /// are ordered by flags and seed, then in the order given.
    /// Throws `ReportError`, `RecordError` (a record that cannot be read), `AtomicFileError`, or
    /// whatever the chart renderer throws.
    public static func renderRuns(runDirectories: [URL], outputDirectory: URL, options: RenderOptions,
                                  skipUndrawable: Bool = false) throws -> ReportSummary {
        try renderRuns(runDirectories.map { ReportRunInput(directory: $0) }, outputDirectory: outputDirectory,
                       options: options, skipUndrawable: skipUndrawable)
    }

    /// The same for runs of which some may already be in memory. `beforeReport` runs after every
    /// chart is written and before `compare/` and `report.html` (a run being written is put in
    /// place there, so the report never links to a folder that is not yet complete).
    public static func renderRuns(_ inputs: [ReportRunInput], outputDirectory: URL, options: RenderOptions,
                                  skipUndrawable: Bool = false,
                                  beforeReport: () throws -> Void = {}) throws -> ReportSummary {
        let output = outputDirectory.standardizedFileURL
        // Read and draw everything before writing anything.
        var seen = Set<String>()
        var given: [ReportRunInput] = []
        for input in inputs {
            var input = input
            input.directory = input.directory.standardizedFileURL
            if input.record == nil {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: input.directory.path, isDirectory: &isDirectory),
                   !isDirectory.boolValue {
                    throw ReportError.notADirectory(path: input.directory.path)
                }
            }
            if seen.insert(input.directory.resolvingSymlinksInPath().path).inserted { given.append(input) }
        }
        guard !given.isEmpty else { throw ReportError.noRuns(outputDirectory: output.path) }
        var loaded: [(ReportRunInput, RunRecord)] = []
        var skipped: [String] = []
        var firstError: Error?
        // Decoded on all cores: a sweep's records are read back in a fraction of the time.
        let decoded = concurrently(given) { input in try input.record ?? loadRecord(from: input.directory) }
        for (input, record) in zip(given, decoded) {
            do {
                loaded.append((input, try record.get()))
            } catch {
                guard skipUndrawable else { throw error }
                firstError = firstError ?? error
                skipped.append("\(error)")
            }
        }
        if loaded.isEmpty, let firstError { throw firstError }
        // The lecture's order: simple RNN, then GRU, then LSTM; runs of one cell by their flags and
        // seed (so shards merge in the same order as one sweep), then in the order given.
        let ordered = loaded.enumerated().sorted { a, b in
            let ca = a.element.1.config.cell, cb = b.element.1.config.cell
            if ca != cb { return ca < cb }
            return RunGroups.precedes(a.element.1.config, b.element.1.config) ?? (a.offset < b.offset)
        }.map(\.element)
        let directories = ordered.map(\.0.directory)
        var records = ordered.map(\.1)
        let names = uniqueNames(records.map(\.name), directories: directories)
        for index in records.indices { records[index].name = names[index] }
        let chartDirectories = chartFolders(ordered.map(\.0), names: names, output: output)
        let runCharts = try renderConcurrently(records) { try RunCharts.render($0, options: options) }
        let comparison = records.count >= 2
            ? try CompareCharts.render(records, options: options) + SweepCharts.render(records, options: options) : []
        let chartBytes = (runCharts.joined() + comparison).map(\.png.count).reduce(0, +)
        let ownPages = usesRunPages(runs: records.count, chartBytes: chartBytes)

        do {
            try OutputFolder.createFolder(output)
        } catch let error as AtomicFileError {
            throw ReportError.cannotCreateFolder(path: output.path, reason: error.reason)
        }
        let outputResolved = output.resolvingSymlinksInPath()

        // Each run's charts and own page are written on all cores (every file is synced to disk, so
        // one at a time a sweep would mostly wait for the disk).
        let written = try concurrently(Array(directories.indices)) { index -> (charts: [URL], page: URL?, run: ReportRun) in
            let directory = directories[index], chartDirectory = chartDirectories[index]
            do {
                try OutputFolder.createFolder(chartDirectory)
            } catch let error as AtomicFileError {
                throw ReportError.cannotCreateFolder(path: chartDirectory.path, reason: error.reason)
            }
            var files: [URL] = []
            for chart in runCharts[index] {
                let file = chartDirectory.appendingPathComponent(chart.id.rawValue + ".png")
                try AtomicFile.write(chart.png, to: file)
                files.append(file)
            }
            let link = relativePath(from: outputResolved, to: directory.resolvingSymlinksInPath())
            let run = ReportRun(record: records[index], directoryLink: link, charts: runCharts[index])
            guard ownPages else { return (files, nil, run) }
            // The run's own self-contained page, next to its charts (under the output folder).
            let ownLink = relativePath(from: chartDirectory.resolvingSymlinksInPath(), to: directory.resolvingSymlinksInPath())
            let own = ReportRun(record: records[index], directoryLink: ownLink, charts: runCharts[index])
            let page = HTMLReport.build(runs: [own], comparison: [], generatedBy: "\(records[index].tool.name) \(records[index].tool.version)")
            let file = chartDirectory.appendingPathComponent(reportFileName)
            try AtomicFile.write(page, to: file)
            return (files, file, run)
        }.map { try $0.get() }
        let runChartFiles = written.flatMap(\.charts)
        let runPages = written.compactMap(\.page)
        let runs = written.map(\.run)
        try beforeReport()

        var comparisonFiles: [URL] = []
        if !comparison.isEmpty {
            let folder = output.appendingPathComponent(comparisonFolderName)
            do {
                try OutputFolder.createFolder(folder)
            } catch let error as AtomicFileError {
                throw ReportError.cannotCreateFolder(path: folder.path, reason: error.reason)
            }
            for chart in comparison {
                let file = folder.appendingPathComponent(chart.id.rawValue + ".png")
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
                             runNames: names, runPages: runPages, skipped: skipped)
    }

    /// Where each run's PNGs go: as given, else its own folder when that lies directly in the
    /// output folder, else `<output>/charts/<name>` (the display name made a safe, unique folder name).
    static func chartFolders(_ inputs: [ReportRunInput], names: [String], output: URL) -> [URL] {
        let outputResolved = output.resolvingSymlinksInPath().path
        var used = Set<String>()
        return zip(inputs, names).map { input, name in
            if let chartDirectory = input.chartDirectory { return chartDirectory }
            if input.directory.resolvingSymlinksInPath().deletingLastPathComponent().path == outputResolved {
                return input.directory
            }
            var base = String(name.unicodeScalars.map { scalar -> Character in
                CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" ? Character(scalar) : "_"
            }.prefix(100))
            if base.isEmpty { base = "run" }
            var folder = base, n = 1
            while !used.insert(folder).inserted {
                n += 1
                folder = "\(base)-\(n)"
            }
            return output.appendingPathComponent(chartsFolderName).appendingPathComponent(folder)
        }
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
