import ArgumentParser
import Foundation
import Renderer

/// `diagnose report`: redraw every chart and the report from run records alone, without training.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Redraw charts and output/report.html from run records (no training). Merges runs from any folders.")

    @Argument(help: "Run folders (each holding a run.json). Default: every run folder under --output.")
    var runDirectories: [String] = []

    @OptionGroup var output: OutputFlags

    func run() throws {
        let outputDirectory = URL(fileURLWithPath: output.output)
        let runs = runDirectories.isEmpty
            ? ReportWriter.discoverRuns(in: outputDirectory)
            : runDirectories.map { URL(fileURLWithPath: $0) }
        guard !runs.isEmpty else {
            printError("error: no runs found in \(outputDirectory.path); run `diagnose` first or name run folders")
            throw ExitCode(66)
        }
        try reportingErrors {
            try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
            let summary = try ReportWriter.renderRuns(runDirectories: runs, outputDirectory: outputDirectory,
                                                      options: output.renderOptions())
            print("report: \(summary.report.path)")
            if GitHubActions.annotates || GitHubActions.environment["GITHUB_STEP_SUMMARY"] != nil {
                let records = try runs.map(loadRunRecord)
                annotateDivergence(records)
                try GitHubActions.appendStepSummary(MarkdownSummary.runs(records, title: "diagnose report"))
            }
        }
    }
}
