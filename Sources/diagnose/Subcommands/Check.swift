import ArgumentParser
import DiagnoseRecord
import Foundation
import Renderer

/// `diagnose check`: expectations about runs' figures, and comparison with a baseline, as a CI gate.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check expectations about runs (exit 1 when one fails) and compare runs with a baseline.",
        discussion: """
            Each --expect compares a figure of a run with a number or with another run's figure:

              lstm.horizonFirst > rnn.horizonFirst
              lstm.recallAccuracy >= 0.9
              rnn.gradientAtLagFirst(8) < 1e-2
              lstm.gradientAtLagFirst(8) > 10 * rnn.gradientAtLagFirst(8)
              *.diverged == 0                  (* = every run, one line each)

            Comparisons: <  <=  >  >=  ==  !=; a number before "*" scales the figure after it. Runs go by their records' names (the run folder names diagnose gave them); quote any other name: "2-layers".horizon. Numbers: 0.5, 1e-3, inf. A figure a run did not record (recall accuracy on a text corpus) fails the expectation.

            Figures (First: the first probe, the initialisation; otherwise the last probe; top layer, forward direction):
            \(Figures.helpText)

            --baseline DIR compares each run with the run of the same name under DIR on the figures that describe gradient health and quality: the summary figures above, gradientAtLag at the recall lag (else 8) and diverged. A figure that moves the wrong way by more than --tolerance fails: a relative change, or decades for gradientAtLag. Decay, horizon, spectral radius and gradient share fail on a change either way, losses on a rise, recall accuracy on a fall, diverged on any rise. Same seed and flags give identical bits, so an unchanged model passes at --tolerance 0.

            In GitHub Actions (GITHUB_ACTIONS=true) failures are also printed as ::error annotations and divergence as ::warning; with GITHUB_STEP_SUMMARY set, a Markdown summary is appended to that file.

            Exit status: 0 all hold, 1 one fails, 64 a bad expression or an unknown run or figure, 65 a damaged record, 66 a missing run, 73 a job summary that cannot be written.
            """)

    @Argument(help: "Run folders (each holding a run.json). Default: every run folder under --output.")
    var runDirectories: [String] = []

    @Option(help: "Folder whose run folders are checked when none are named.")
    var output: String = "output"

    @Option(name: .customLong("expect"), help: "An expectation, e.g. 'lstm.horizonFirst > rnn.horizonFirst' (repeatable).")
    var expectations: [String] = []

    @Option(help: "Folder holding the baseline runs (run folders, or one run.json), matched by run name.")
    var baseline: String?

    @Option(help: "How far a baseline figure may move the wrong way: relative (0.1 = 10%), or decades on a log scale.")
    var tolerance: Double = 0.1

    func validate() throws {
        guard tolerance.isFinite, tolerance >= 0, tolerance <= 1e6 else {
            throw ValidationError("--tolerance \(tolerance): must be a number from 0 to 1e6 (0.1 = 10%)")
        }
        guard !expectations.isEmpty || baseline != nil else {
            throw ValidationError("nothing to check: give at least one --expect EXPR or --baseline DIR")
        }
        // Syntax first: a typo is reported before any record is read.
        for text in expectations {
            do { _ = try parseExpectation(text) } catch let error as ExpectationSyntaxError {
                throw ValidationError(error.description)
            }
        }
    }

    func run() throws {
        let outputDirectory = URL(fileURLWithPath: output)
        let folders = runDirectories.isEmpty
            ? ReportWriter.discoverRuns(in: outputDirectory)
            : runDirectories.map { URL(fileURLWithPath: $0) }
        guard !folders.isEmpty else {
            throw CommandError.nothingFound("no runs to check in \(outputDirectory.path): name run folders (folders that "
                + "hold a run.json) or point --output at the folder that holds them")
        }
        let runs = try loadNamedRuns(folders)
        let parsed = try expectations.map(parseExpectation)
        for expectation in parsed { try CheckEvaluator.validate(expectation, runs: runs) }
        var baselineRuns: [String: RunRecord]?
        if let baseline {
            baselineRuns = try loadBaseline(URL(fileURLWithPath: baseline))
        }

        let results = parsed.flatMap { CheckEvaluator.evaluate($0, runs: runs) }
        var lines: [String] = []
        let width = results.map(\.text.count).max() ?? 0
        for result in results {
            lines.append("\(result.holds ? "pass" : "FAIL")  " + result.text.padding(toLength: width, withPad: " ", startingAt: 0)
                + (result.measured.isEmpty ? "" : "   \(result.measuredText)"))
        }
        var baselineResults: [BaselineResult] = []
        var unmatched: [String] = []
        if let baselineRuns, let baseline {
            lines.append("against the baseline \(baseline) (tolerance \(formatNumber(tolerance))):")
            for run in runs {
                guard let old = baselineRuns[run.name] else {
                    unmatched.append(run.name)
                    lines.append("note  \(run.name): no run of that name in the baseline; nothing to compare")
                    continue
                }
                let compared = BaselineComparison.compare(run, with: old, tolerance: tolerance)
                baselineResults += compared
                let labels = compared.map { "\(run.name).\($0.figure) = \($0.current.text)" }
                let width = labels.map(\.count).max() ?? 0
                for (label, result) in zip(labels, compared) {
                    let change = result.changeText.isEmpty ? "" : ", \(result.changeText)"
                    lines.append("\(result.holds ? "pass" : "FAIL")  " + label.padding(toLength: width, withPad: " ", startingAt: 0)
                        + "   baseline \(result.baseline.text)\(change)")
                }
            }
        }
        var failures = results.filter { !$0.holds }.count + baselineResults.filter { !$0.holds }.count
        let total = results.count + baselineResults.count
        lines.append(failures == 0 ? "check: all \(total) hold" : "check: \(failures) of \(total) failed")
        // A baseline that matches no run compares nothing: a gate that cannot fail, so it fails.
        if let baselineRuns, !runs.isEmpty, unmatched.count == runs.count {
            failures += 1
            lines.append("check: no run has a namesake in the baseline (its runs: "
                + baselineRuns.keys.sorted().joined(separator: ", ")
                + "); point --baseline at the folder of the same runs, or name the runs alike (diagnose --name)")
        }
        print(lines.joined(separator: "\n"))

        for result in results where !result.holds {
            GitHubActions.annotate("error", title: "diagnose check",
                                   message: "expected \(result.text)" + (result.measured.isEmpty ? "" : "; measured \(result.measuredText)"))
        }
        for result in baselineResults where !result.holds {
            GitHubActions.annotate("error", title: "diagnose check (baseline)",
                                   message: "\(result.run).\(result.figure) moved from \(result.baseline.text) to "
                                       + "\(result.current.text) (\(result.changeText); tolerance \(formatNumber(tolerance)))")
        }
        annotateDivergence(runs.map(\.record))
        try GitHubActions.appendStepSummary(CheckSummary.markdown(results: results, baseline: baselineResults,
                                                                  baselineFolder: baseline, tolerance: tolerance,
                                                                  unmatched: unmatched))
        if failures > 0 { throw CommandError.checkFailed(nil) }
    }

    /// Runs named by their records; two runs with one name cannot be told apart in an expression.
    func loadNamedRuns(_ folders: [URL]) throws -> [NamedRun] {
        var runs: [NamedRun] = []
        var folderOf: [String: String] = [:]
        for folder in folders {
            let record = try loadRunRecord(folder)
            if let other = folderOf[record.name] {
                if URL(fileURLWithPath: other).standardizedFileURL == folder.standardizedFileURL { continue }
                throw CommandError.usage("\(other) and \(folder.path) both hold a run named '\(record.name)'; "
                    + "check them separately or rename one (diagnose --name)")
            }
            folderOf[record.name] = folder.path
            runs.append(NamedRun(name: record.name, record: record))
        }
        return runs
    }

    /// Baseline runs by name: DIR itself when it holds a run.json, else its run folders, else its
    /// folders' run folders (an artifact download: DIR/run-lstm/run.json or DIR/job/lstm/run.json).
    func loadBaseline(_ directory: URL) throws -> [String: RunRecord] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            if FileManager.default.fileExists(atPath: directory.path) {
                throw CommandError.unusableInput(flag: "--baseline", path: directory.path,
                                                 reason: "is not a folder; give the folder that holds the baseline's run folders or run.json")
            }
            throw CommandError.missingInput(flag: "--baseline", path: directory.path)
        }
        var folders = FileManager.default.fileExists(atPath: directory.appendingPathComponent("run.json").path)
            ? [directory] : ReportWriter.discoverRuns(in: directory)
        if folders.isEmpty {
            let children = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            folders = children.sorted().filter { !$0.hasPrefix(".") }
                .flatMap { ReportWriter.discoverRuns(in: directory.appendingPathComponent($0)) }
        }
        guard !folders.isEmpty else {
            throw CommandError.missingInput(flag: "--baseline", path: directory.path + " (no run.json in it or its folders)")
        }
        var records: [String: RunRecord] = [:]
        for folder in folders {
            let record = try loadRunRecord(folder)
            if records[record.name] == nil { records[record.name] = record }
        }
        return records
    }
}

func loadRunRecord(_ folder: URL) throws -> RunRecord {
    let file = folder.appendingPathComponent(ReportWriter.recordFileName)
    guard FileManager.default.fileExists(atPath: file.path) else {
        throw ReportError.missingRecord(directory: folder.path)
    }
    return try RecordCoding.load(from: file)
}

/// `::warning` for every diverged run (GitHub Actions only).
func annotateDivergence(_ records: [RunRecord]) {
    for record in records {
        guard let step = record.status.divergedAtStep else { continue }
        GitHubActions.annotate("warning", title: "diagnose: \(record.name) diverged",
                               message: "\(record.name) diverged at step \(step) "
                                   + "(\(record.status.divergenceReason ?? "non-finite loss or gradient")); "
                                   + "its record keeps everything up to that step")
    }
}

/// The expectations and baseline comparison as Markdown for the job summary.
enum CheckSummary {
    static func markdown(results: [ExpectationResult], baseline: [BaselineResult], baselineFolder: String?,
                         tolerance: Double, unmatched: [String]) -> String {
        let e = MarkdownSummary.escape
        let failures = results.filter { !$0.holds }.count + baseline.filter { !$0.holds }.count
        let total = results.count + baseline.count
        var text = "### diagnose check: " + (failures == 0 ? "all \(total) hold" : "\(failures) of \(total) failed") + "\n\n"
        if !results.isEmpty {
            text += "| | expectation | measured |\n|---|---|---|\n"
            for result in results {
                text += "| \(result.holds ? "✅ pass" : "❌ fail") | \(e(result.text)) | \(e(result.measuredText)) |\n"
            }
            text += "\n"
        }
        if let baselineFolder {
            text += "Against the baseline \(e(baselineFolder)) (tolerance \(formatNumber(tolerance))):\n\n"
            if !baseline.isEmpty {
                text += "| | run | figure | now | baseline | change |\n|---|---|---|---|---|---|\n"
                for result in baseline {
                    text += "| \(result.holds ? "✅" : "❌") | \(e(result.run)) | \(e(result.figure)) | "
                        + "\(e(result.current.text)) | \(e(result.baseline.text)) | \(e(result.changeText)) |\n"
                }
                text += "\n"
            }
            for name in unmatched { text += "- \(e(name)): no run of that name in the baseline\n" }
            if !unmatched.isEmpty { text += "\n" }
        }
        return text
    }
}
