import ArgumentParser
import DiagnoseRecord
import Foundation
import Renderer

/// `diagnose report`: redraw every chart and the report from run records alone, without training.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Redraw charts and output/report.html from run records (no training). Merges runs from any folders.")

    @Argument(help: "Run folders (each holding a run.json), or output folders whose run folders to take (a shard's --output). Default: every run folder under --output.")
    var runDirectories: [String] = []

    @OptionGroup var output: OutputFlags

    func run() throws {
        try output.renderOptions().validate()
        let outputDirectory = URL(fileURLWithPath: output.output)
        let runs = runDirectories.isEmpty
            ? ReportWriter.discoverRuns(in: outputDirectory)
            : runDirectories.flatMap { expandingOutputFolder(URL(fileURLWithPath: $0)) }
        guard !runs.isEmpty else {
            throw CommandError.nothingFound("no runs found in \(outputDirectory.path); run `diagnose` first or name run folders")
        }
        // Charts and the report are written under --output only, one process at a time.
        let folder = try OutputFolder(outputDirectory, waiting: { printError("note: \($0)") })
        defer { folder.unlock() }
        // Runs found in the folder: one that cannot be drawn is skipped; runs named are all required.
        let summary = try ReportWriter.renderRuns(runDirectories: runs, outputDirectory: outputDirectory,
                                                  options: output.renderOptions(), skipUndrawable: runDirectories.isEmpty)
        for message in summary.skipped { printError("warning: left out of the report: \(message)") }
        print("report: \(summary.report.path)")
        if GitHubActions.annotates || GitHubActions.environment["GITHUB_STEP_SUMMARY"] != nil {
            let records = try runs.map(loadRunRecord)
            annotateDivergence(records)
            try GitHubActions.appendStepSummary(MarkdownSummary.runs(records, title: "diagnose report"))
        }
    }
}

/// A folder without a run.json of its own that holds run folders (another command's `--output`,
/// such as one shard of a sweep) stands for those runs; anything else is taken as one run folder.
func expandingOutputFolder(_ folder: URL) -> [URL] {
    guard !FileManager.default.fileExists(atPath: folder.appendingPathComponent(ReportWriter.recordFileName).path) else {
        return [folder]
    }
    let runs = ReportWriter.discoverRuns(in: folder)
    return runs.isEmpty ? [folder] : runs
}
