import DiagnoseRecord
import Foundation
import Renderer
import Testing
@testable import diagnose

/// A trained pair of tiny runs (rnn, lstm), made once by the real command.
enum TrainedRuns {
    static let output: URL = {
        let output = try! temporaryDirectory()
        let result = try! Command.run(["--cell", "rnn,lstm", "--output", output.path] + quickFlags)
        precondition(result.status == 0, result.stderr)
        return output
    }()

    static func record(_ name: String) throws -> RunRecord {
        try RecordCoding.load(from: output.appendingPathComponent("\(name)/run.json"))
    }
}

/// A copy of a trained run with chosen summary figures, for exact expectations.
func run(_ name: String, horizonFirst: Int?, recall: Double?, diverged: Bool = false) throws -> NamedRun {
    var record = try TrainedRuns.record("lstm")
    record.name = name
    record.summary.horizonFirst = horizonFirst
    record.summary.recallAccuracy = recall
    record.status.divergedAtStep = diverged ? 3 : nil
    return NamedRun(name: name, record: record)
}

@Suite struct ExpectationParserTests {
    @Test func readsFiguresNumbersAndComparators() throws {
        let e = try parseExpectation("lstm.horizonFirst > rnn.horizonFirst")
        #expect(e.comparator == .greater)
        #expect(e.left == .figure(FigureReference(run: .named("lstm"), figure: "horizonFirst", argument: nil,
                                                  runColumn: 0, figureColumn: 5)))
        #expect(e.namedRuns == ["lstm", "rnn"])
        #expect(!e.usesEveryRun)

        let star = try parseExpectation("*.diverged == 0")
        #expect(star.usesEveryRun)
        #expect(star.right == .number(0))

        let lag = try parseExpectation("rnn.gradientAtLagFirst(8)<=1e-3")
        #expect(lag.comparator == .lessOrEqual)
        guard case .figure(let reference) = lag.left else { Issue.record("not a figure"); return }
        #expect(reference.argument == .number(8))
        #expect(lag.right == .number(0.001))

        let quoted = try parseExpectation("\"2 layers\".horizon != -inf")
        #expect(quoted.namedRuns == ["2 layers"])
        #expect(quoted.right == .number(-.infinity))
        #expect(try parseExpectation("-0.5 < wide-lstm.decayPerStep").left == .number(-0.5))
        #expect(try parseExpectation("lstm.gateSaturation(forget) < .5").right == .number(0.5))

        let scaled = try parseExpectation("lstm.gradientAtLag(8) > 10 * rnn.gradientAtLag(8)")
        guard case .figure(let right) = scaled.right else { Issue.record("not a figure"); return }
        #expect(right.factor == 10 && right.run == .named("rnn") && right.runColumn == 29)
        guard case .figure(let every) = try parseExpectation("2*  *.horizon <= 40").left else { Issue.record("not a figure"); return }
        #expect(every.factor == 2 && every.run == .every)
    }

    @Test(arguments: [
        ("lstm.horizonFirst >> 3", 19, "expected a run's figure"),
        ("lstm horizon > 3", 5, "expected '.'"),
        ("lstm. > 3", 6, "expected a figure name"),
        ("lstm.horizon 3", 13, "expected a comparison"),
        ("lstm.horizon > 3 rnn", 17, "expected the end"),
        ("lstm.horizon = 3", 13, "'=' is not a comparison"),
        ("lstm.horizon > 1e", 16, "an exponent needs digits"),
        ("lstm.gradientAtLag(8 > 1", 21, "expected ')'"),
        ("2layers.horizon > 1", 1, "a number runs into a name"),
        ("\"lstm.horizon > 1", 0, "quote is not closed"),
        ("lstm.horizon > 3 ; rm", 17, "unexpected character ';'"),
        ("3 < 4", 0, "compares two numbers"),
        ("lstm.horizon > 10 * 3", 20, "expected a run's figure after '*'"),
        ("lstm.horizon > 10 *.horizon", 18, "expected the end"),
        ("   ", 0, "empty"),
        ("lstm.horizon > nan", 15, "'nan' is not a number a figure can be compared with"),
        ("Inf <= rnn.horizon", 0, "'Inf' is not a number"),
    ])
    func errorsNameTheColumn(text: String, column: Int, message: String) throws {
        do {
            _ = try parseExpectation(text)
            Issue.record("\(text) parsed")
        } catch let error as ExpectationSyntaxError {
            #expect(error.column == column, "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error.message)")
            // The caret line points at the column.
            let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.last == Substring("  " + String(repeating: " ", count: column) + "^"))
        }
    }
}

@Suite struct CheckEvaluationTests {
    @Test func comparesRunsAndNumbersAndExpandsTheStar() throws {
        let runs = [try run("rnn", horizonFirst: 8, recall: 0.06), try run("lstm", horizonFirst: nil, recall: 0.95),
                    try run("gru", horizonFirst: 12, recall: 0.5, diverged: true)]
        func results(_ text: String) throws -> [ExpectationResult] {
            let e = try parseExpectation(text)
            try CheckEvaluator.validate(e, runs: runs)
            return CheckEvaluator.evaluate(e, runs: runs)
        }
        // A horizon beyond the window is larger than any.
        let beyond = try results("lstm.horizonFirst > rnn.horizonFirst")
        #expect(beyond.map(\.holds) == [true])
        #expect(beyond[0].measuredText.hasPrefix("lstm.horizonFirst = beyond "))
        #expect(beyond[0].measuredText.hasSuffix("rnn.horizonFirst = 8"))
        #expect(try results("gru.horizonFirst >= 12").map(\.holds) == [true])
        #expect(try results("gru.horizonFirst > 12").map(\.holds) == [false])
        #expect(try results("lstm.recallAccuracy >= 0.9").map(\.holds) == [true])
        #expect(try results("rnn.recallAccuracy >= 0.9").map(\.holds) == [false])
        let star = try results("*.diverged == 0")
        #expect(star.map(\.text) == ["rnn.diverged == 0", "lstm.diverged == 0", "gru.diverged == 0"])
        #expect(star.map(\.holds) == [true, true, false])
        // A factor scales the figure; the measured value printed is the figure's own.
        let scaled = try results("gru.horizonFirst < 2 * rnn.horizonFirst")
        #expect(scaled.map(\.holds) == [true])
        #expect(scaled[0].text == "gru.horizonFirst < 2 * rnn.horizonFirst")
        #expect(scaled[0].measuredText == "gru.horizonFirst = 12, rnn.horizonFirst = 8")
        #expect(try results("gru.horizonFirst > 1.5 * rnn.horizonFirst").map(\.holds) == [false])
        #expect(try results("2 * *.horizonFirst > 20").map(\.text)
            == ["2 * rnn.horizonFirst > 20", "2 * lstm.horizonFirst > 20", "2 * gru.horizonFirst > 20"])
        // `*` is the same run on both sides.
        #expect(try results("*.recallAccuracy <= *.recallAccuracy").map(\.holds) == [true, true, true])
        // A figure the run did not record fails the expectation and says so.
        let missing = [try run("text", horizonFirst: 8, recall: nil)]
        let e = try parseExpectation("text.recallAccuracy > 0")
        let result = CheckEvaluator.evaluate(e, runs: missing)
        #expect(result.map(\.holds) == [false])
        #expect(result[0].measuredText == "text.recallAccuracy = not recorded")
    }

    @Test func gradientAtLagIsTheLagProfileRatio() throws {
        let record = try TrainedRuns.record("rnn")
        let profile = try #require(record.probes.first?.topForward?.lagProfile)
        let value = Figures.find("gradientAtLagFirst")!.measure(record, .number(3)).value
        #expect(value == profile[3] / profile[0])
        #expect(Figures.find("diverged")!.measure(record, nil).value == 0)
    }

    @Test(arguments: [
        ("lsmt.horizon > 3", "no run named 'lsmt'; the runs are rnn, lstm"),
        ("lstm.horizn > 3", "no figure 'horizn' (did you mean horizon?); the figures are finalTrainLoss"),
        ("lstm.Diverged > 3", "(did you mean diverged?)"),
        ("lstm.speed > 3", "no figure 'speed'; the figures are"),
        ("lstm.gradientAtLag > 0", "needs a lag"),
        ("lstm.gradientAtLag(99) > 0", "measures lags 0 to 9"),
        ("lstm.gradientAtLag(1.5) > 0", "whole number"),
        ("lstm.horizon(3) > 0", "takes no argument"),
        ("lstm.gateSaturation(update) > 0", "its gates are candidate, forget, input, output"),
    ])
    func unknownRunsAndFiguresListWhatExists(text: String, message: String) throws {
        let runs = [NamedRun(name: "rnn", record: try TrainedRuns.record("rnn")),
                    NamedRun(name: "lstm", record: try TrainedRuns.record("lstm"))]
        let e = try parseExpectation(text)
        #expect {
            try CheckEvaluator.validate(e, runs: runs)
        } throws: { error in
            (error as? CheckUsageError)?.message.contains(message) == true
        }
    }
}

@Suite struct BaselineTests {
    @Test func anIdenticalRunPassesAtToleranceZero() throws {
        let record = try TrainedRuns.record("lstm")
        let results = BaselineComparison.compare(NamedRun(name: "lstm", record: record), with: record, tolerance: 0)
        #expect(!results.isEmpty)
        #expect(results.allSatisfy { $0.holds })
        #expect(results.allSatisfy { $0.change == nil || $0.change == 0 })
        #expect(results.map(\.figure).contains("gradientAtLag(8)"))
    }

    @Test func aChangedRunFailsNamingTheFigure() throws {
        let old = try TrainedRuns.record("lstm")
        var new = old
        new.summary.finalValidLoss = old.summary.finalValidLoss! * 1.2   // 20% worse
        new.summary.recallAccuracy = 1                                    // better: passes
        new.summary.spectralRadiusLast = old.summary.spectralRadiusLast! * 0.95  // within 10%
        let results = BaselineComparison.compare(NamedRun(name: "lstm", record: new), with: old, tolerance: 0.1)
        #expect(results.filter { !$0.holds }.map(\.figure) == ["finalValidLoss"])
        let loss = try #require(results.first { $0.figure == "finalValidLoss" })
        #expect(abs(loss.change! - 0.2) < 1e-12)
        #expect(loss.changeText == "+20.0%")
        // The same run at tolerance 0.25 passes.
        #expect(BaselineComparison.compare(NamedRun(name: "lstm", record: new), with: old, tolerance: 0.25).allSatisfy { $0.holds })

        // Gradient shares are compared in decades, either way; divergence on any rise.
        var vanished = old
        for index in vanished.probes.indices {
            for layer in vanished.probes[index].layers.indices {
                vanished.probes[index].layers[layer].lagProfile = vanished.probes[index].layers[layer].lagProfile
                    .enumerated().map { $0.offset == 0 ? $0.element : $0.element / 100 }
            }
        }
        vanished.status.divergedAtStep = 4
        let failed = BaselineComparison.compare(NamedRun(name: "lstm", record: vanished), with: old, tolerance: 1.5)
        #expect(failed.filter { !$0.holds }.map(\.figure) == ["gradientAtLag(8)", "gradientAtLagFirst(8)", "diverged"])
        #expect(abs(failed.first { $0.figure == "gradientAtLag(8)" }!.change! + 2) < 1e-9)
    }

    @Test func changesOnEachScale() {
        #expect(BaselineComparison.change(.infinity, .infinity, scale: .relative) == 0)
        #expect(BaselineComparison.change(.nan, .nan, scale: .relative) == 0)
        #expect(BaselineComparison.change(20, .infinity, scale: .relative) == -.infinity)
        #expect(BaselineComparison.change(1, 0, scale: .relative) == .infinity)
        #expect(BaselineComparison.change(1e-4, 1e-2, scale: .decades) == -2)
        #expect(BaselineComparison.change(1, 0, scale: .exact) == 1)
        #expect(BaselineComparison.change(nil, 3, scale: .exact) == nil)
    }
}

@Suite struct GitHubOutputTests {
    @Test func annotationsEscapeWorkflowCommandCharacters() {
        #expect(GitHubActions.annotation("error", title: "a: b, c", message: "50% off\nnext")
            == "::error title=a%3A b%2C c::50%25 off%0Anext")
    }

    @Test func markdownEscapesNamesThatWouldBreakATable() {
        #expect(MarkdownSummary.escape("a|b*c_[x](y)<script>`\n#1 $x$ &amp;") == "a\\|b\\*c\\_\\[x\\](y)\\<script\\>\\` \\#1 \\$x\\$ \\&amp;")
        var record = SummaryFixture.record
        record.name = "x|y"
        let markdown = MarkdownSummary.runs([record])
        #expect(markdown.contains("| | x\\|y |\n|---|---|\n"))
        #expect(markdown.contains("- **x\\|y**: "))
    }
}

enum SummaryFixture {
    static var record: RunRecord { try! TrainedRuns.record("lstm") }
}

@Suite(.serialized) struct CheckCommandTests {
    @Test func exitCodesAndEveryExpectationPrinted() throws {
        let output = TrainedRuns.output.path
        let pass = try Command.run(["check", "--output", output, "--expect", "*.diverged == 0",
                                    "--expect", "lstm.stepsCompleted == 6"])
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        #expect(pass.stdout.contains("pass  rnn.diverged == 0 "))
        #expect(pass.stdout.contains("pass  lstm.diverged == 0 "))
        #expect(pass.stdout.contains("lstm.stepsCompleted = 6"))
        #expect(pass.stdout.contains("check: all 3 hold"))

        let fail = try Command.run(["check", "--output", output, "--expect", "lstm.stepsCompleted > 6",
                                    "--expect", "*.diverged == 0"])
        #expect(fail.status == 1)
        #expect(fail.stdout.contains("FAIL  lstm.stepsCompleted > 6"))
        #expect(fail.stdout.contains("check: 1 of 3 failed"))
        #expect(!fail.stdout.contains("::error"))   // not in GitHub Actions

        let unknown = try Command.run(["check", "--output", output, "--expect", "gru.horizon > 1"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("no run named 'gru'; the runs are lstm, rnn"))
        let syntax = try Command.run(["check", "--output", output, "--expect", "lstm.horizon => 1"])
        #expect(syntax.status == 64)
        #expect(syntax.stderr.contains("column 14"))
        let empty = try temporaryDirectory()
        let none = try Command.run(["check", "--output", empty.path, "--expect", "*.diverged == 0"])
        #expect(none.status == 66)
        #expect(none.stderr.contains("no runs to check in \(empty.path)"))
        let nothing = try Command.run(["check", "--output", output])
        #expect(nothing.status == 64)
        let missing = try Command.run(["check", "/nonexistent/run", "--expect", "*.diverged == 0"])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("/nonexistent/run"))
    }

    @Test func baselineFromTheCommandLine() throws {
        let lstm = TrainedRuns.output.appendingPathComponent("lstm").path
        let same = try Command.run(["check", lstm, "--baseline", TrainedRuns.output.path, "--tolerance", "0"])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("lstm.finalValidLoss = "))
        #expect(same.stdout.contains("unchanged"))
        // A baseline with a different learning rate moves the figures.
        let other = try temporaryDirectory()
        let trained = try Command.run(["--cell", "lstm", "--lr", "0.05", "--output", other.path, "--no-tensorboard"] + quickFlags)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("lstm/\(TensorBoardEvents.fileName)").path))
        let changed = try Command.run(["check", lstm, "--baseline", other.path, "--tolerance", "0"])
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("FAIL  lstm.finalValidLoss"))
        let bad = try Command.run(["check", lstm, "--baseline", other.path, "--tolerance", "-1"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--tolerance"))
        // A baseline holding none of the runs compares nothing: that fails rather than passing empty.
        let rnn = TrainedRuns.output.appendingPathComponent("rnn").path
        let unmatched = try Command.run(["check", rnn, "--baseline", other.path])
        #expect(unmatched.status == 1, "\(unmatched.stdout)\(unmatched.stderr)")
        #expect(unmatched.stdout.contains("no run has a namesake in the baseline (its runs: lstm); point --baseline at"))
        // A file is not a baseline folder (and is there, so not "no such file").
        let file = try Command.run(["check", lstm, "--baseline", other.appendingPathComponent("lstm/run.json").path])
        #expect(file.status == 66)
        #expect(file.stderr.contains("run.json: is not a folder; give the folder that holds the baseline's"), "\(file.stderr)")
    }

    @Test func annotationsAndStepSummaryInGitHubActions() throws {
        let folder = try temporaryDirectory()
        let summary = folder.appendingPathComponent("summary.md")
        try Data("earlier step\n".utf8).write(to: summary)
        let environment = ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary.path]
        let result = try Command.run(["check", "--output", TrainedRuns.output.path, "--expect", "lstm.stepsCompleted > 6",
                                      "--expect", "rnn.stepsCompleted == 6"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stdout.contains("::error title=diagnose check::expected lstm.stepsCompleted > 6; measured lstm.stepsCompleted = 6"))
        let text = try String(contentsOf: summary, encoding: .utf8)
        #expect(text.hasPrefix("earlier step\n### diagnose check: 1 of 2 failed\n"))
        #expect(text.contains("| ❌ fail | lstm.stepsCompleted \\> 6 | lstm.stepsCompleted = 6 |"))
        #expect(text.contains("| ✅ pass | rnn.stepsCompleted == 6 | rnn.stepsCompleted = 6 |"))

        // Training and report append the verdicts and the table; divergence is a warning.
        let output = folder.appendingPathComponent("out")
        let train = try Command.run(["--cell", "rnn", "--activation", "linear", "--spectral-radius", "3", "--clip", "0",
                                     "--lr", "1", "--optimizer", "sgd", "--output", output.path] + quickFlags,
                                    environment: environment)
        #expect(train.status == 0, "\(train.stderr)")
        let record = try RecordCoding.load(from: output.appendingPathComponent("rnn/run.json"))
        let step = try #require(record.status.divergedAtStep)
        #expect(train.stdout.contains("::warning title=diagnose%3A rnn diverged::rnn diverged at step \(step)"))
        let report = try Command.run(["report", "--output", output.path], environment: environment)
        #expect(report.status == 0)
        let after = try String(contentsOf: summary, encoding: .utf8)
        #expect(after.contains("### diagnose\n\n- **rnn**: "))
        #expect(after.contains("### diagnose report\n\n- **rnn**: "))
        #expect(after.contains("diverged at \(step) |"))

        // A summary that cannot be written is an error naming the variable.
        let unwritable = try Command.run(["check", "--output", TrainedRuns.output.path, "--expect", "*.diverged == 0"],
                                         environment: ["GITHUB_STEP_SUMMARY": "/nonexistent/dir/summary.md"])
        #expect(unwritable.status == 73)
        #expect(unwritable.stderr.contains("GITHUB_STEP_SUMMARY=/nonexistent/dir/summary.md"))
    }
}

@Suite struct ExportCommandTests {
    @Test func csvTablesAndTheEventFileFromTheRecord() throws {
        let run = TrainedRuns.output.appendingPathComponent("lstm")
        let target = try temporaryDirectory().appendingPathComponent("tables")
        let result = try Command.run(["export", run.path, "--format", "csv", "--to", target.path])
        #expect(result.status == 0, "\(result.stderr)")
        let steps = try String(contentsOf: target.appendingPathComponent("steps.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(steps.first == "step,loss,perplexity,gradientNorm,clippedGradientNorm,clipped,learningRate")
        let record = try TrainedRuns.record("lstm")
        #expect(steps.count == 1 + record.steps.count)
        #expect(steps[1].split(separator: ",").map(String.init)[1] == "\(record.steps[0].loss)")
        let evaluations = try String(contentsOf: target.appendingPathComponent("evaluations.csv"), encoding: .utf8)
        #expect(evaluations.split(separator: "\n").count == 1 + record.evaluations.count)
        // The event file written by training is the one the record and charts give.
        let events = run.appendingPathComponent(TensorBoardEvents.fileName)
        let trained = try Data(contentsOf: events)
        let again = try Command.run(["export", run.path, "--format", "tensorboard"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: events) == trained)
        let twoTo = try Command.run(["export", run.path, run.path, "--to", target.path])
        #expect(twoTo.status == 64)
        // --to places the event file too, drawn from the run folder's charts.
        let eventsTo = try Command.run(["export", run.path, "--format", "tensorboard", "--to", target.path])
        #expect(eventsTo.status == 0, "\(eventsTo.stderr)")
        #expect(try Data(contentsOf: target.appendingPathComponent(TensorBoardEvents.fileName)) == trained)
        // A --to that cannot be a folder is named as the flag to change.
        let blocked = try Command.run(["export", run.path, "--to", target.appendingPathComponent("steps.csv").path])
        #expect(blocked.status == 73)
        #expect(blocked.stderr.hasSuffix("it is a file, not a folder; check that the folder exists and is writable, or choose another --to\n"),
                "\(blocked.stderr)")
    }
}

@Suite struct ImportedRunEventsTests {
    /// `diagnose probe` writes the event file too (once per probed checkpoint in its scalars), and `--no-tensorboard` skips it.
    @Test func probeWritesTensorBoardEvents() throws {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try CheckpointSeriesTests.probe([], output: output)
        #expect(result.status == 0, "\(result.stderr)")
        let events = try Data(contentsOf: output.appendingPathComponent("imported/\(TensorBoardEvents.fileName)"))
        let record = try RecordCoding.load(from: output.appendingPathComponent("imported/run.json"))
        let charts = RunCharts.ids.map { id in
            (id: id, png: try! Data(contentsOf: output.appendingPathComponent("imported/\(id.rawValue).png")))
        }
        #expect(events == TensorBoardEvents.file(for: record, charts: charts))
        let skipped = try CheckpointSeriesTests.probe(["--no-tensorboard", "--name", "bare"], output: output)
        #expect(skipped.status == 0)
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("bare/\(TensorBoardEvents.fileName)").path))
    }
}
