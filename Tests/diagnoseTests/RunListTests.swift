import Foundation
import DiagnoseRecord
import Testing
@testable import diagnose

@Suite struct RunListTests {
    @Test func listsAndRangesExpandInclusively() throws {
        #expect(try FlagList<UInt64>.parse("0,1,2") == [0, 1, 2])
        #expect(try FlagList<Int>.parse("8:20:4") == [8, 12, 16, 20])
        #expect(try FlagList<Int>.parse("8:21:4") == [8, 12, 16, 20])
        #expect(try FlagList<Double>.parse("0.25:2:0.25") == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2])
        // Decimal steps land on the decimal values, not on their accumulated binary error.
        #expect(try FlagList<Double>.parse("0.1:0.5:0.1") == [0.1, 0.2, 0.3, 0.4, 0.5])
        #expect(try FlagList<Double>.parse("0:3:1") == [0, 1, 2, 3])
        // Lists and ranges mix; repeated values count once, in first-seen order.
        #expect(try FlagList<Int>.parse("4, 1:3:1, 4, 2") == [4, 1, 2, 3])
        #expect(try FlagList<Double>.parse("-1:1:1") == [-1, 0, 1])
        #expect(FlagList<Double>(argument: "1e-3")!.values == [0.001])
    }

    @Test(arguments: [
        ("1:0:1", "STOP must be at least START"),
        ("0:1:0", "STEP of 0:1:0 must be positive"),
        ("0:1:-1", "must be positive"),
        ("0:1", "START:STOP:STEP"),
        ("0:1:1:1", "START:STOP:STEP"),
        ("1,,2", "empty item"),
        ("a", "'a' is not a number"),
        ("0:1e9:1", "more than 10000 values"),
    ])
    func badListsAreFlagErrors(text: String, message: String) throws {
        let list = FlagList<Double>(argument: text)!
        do {
            try list.check("--spectral-radius")
            Issue.record("\(text) was accepted")
        } catch {
            let described = "\(error)"
            #expect(described.contains("--spectral-radius \(text)"), "\(described)")
            #expect(described.contains(message), "\(described)")
        }
    }

    @Test func negativeAndNonIntegerSeedsAreRefused() {
        #expect(throws: (any Error).self) { try FlagList<UInt64>(argument: "-1")!.check("--seed") }
        #expect(throws: (any Error).self) { try FlagList<UInt64>(argument: "0.5")!.check("--seed") }
        #expect(throws: (any Error).self) { try FlagList<Double>(argument: "nan")!.check("--lr") }
    }

    @Test func valuesPrintShort() {
        #expect(1.0.text == "1")
        #expect(1.25.text == "1.25")
        #expect((-2.0).text == "-2")
        #expect(0.001.text == "0.001")
    }

    @Test func runsAreTheProductWithFoldersNamedFromWhatVaries() throws {
        let runs = try RunPlan.expand(cells: [.rnn, .lstm],
                                      lists: [(.seed, ["0", "1"]), (.hidden, ["64"]), (.spectralRadius, ["0.5", "1.25"])],
                                      name: nil, confirmed: false)
        #expect(runs.map(\.name) == ["rnn-sr0.5-s0", "rnn-sr0.5-s1", "rnn-sr1.25-s0", "rnn-sr1.25-s1",
                                     "lstm-sr0.5-s0", "lstm-sr0.5-s1", "lstm-sr1.25-s0", "lstm-sr1.25-s1"])
        #expect(runs[3].flags == ["--cell", "rnn", "--spectral-radius", "1.25", "--seed", "1"])
        #expect(runs[3].values == [.spectralRadius: "1.25", .seed: "1"])
    }

    @Test func nameIsThePrefix() throws {
        // A single run keeps today's names: the cell, or --name alone.
        #expect(try RunPlan.expand(cells: [.lstm], lists: [], name: nil, confirmed: false).map(\.name) == ["lstm"])
        #expect(try RunPlan.expand(cells: [.lstm], lists: [], name: "wide", confirmed: false).map(\.name) == ["wide"])
        #expect(try RunPlan.expand(cells: [.rnn, .lstm], lists: [], name: "wide", confirmed: false).map(\.name)
            == ["wide-rnn", "wide-lstm"])
        #expect(try RunPlan.expand(cells: [.lstm], lists: [(.forgetBias, ["0", "1"])], name: "fb", confirmed: false).map(\.name)
            == ["fb-fb0", "fb-fb1"])
    }

    @Test func manyRunsNeedYesAndAllNeedALimit() throws {
        let seeds = (0..<60).map(String.init)
        #expect(throws: RunPlanError.self) {
            try RunPlan.expand(cells: [.rnn, .lstm], lists: [(.seed, seeds)], name: nil, confirmed: false)
        }
        #expect(try RunPlan.expand(cells: [.rnn, .lstm], lists: [(.seed, seeds)], name: nil, confirmed: true).count == 120)
        let big = (0..<10_000).map(String.init)
        #expect(throws: RunPlanError.self) {
            try RunPlan.expand(cells: [.rnn], lists: [(.seed, big), (.lag, big)], name: nil, confirmed: true)
        }
    }

    @Test func shardsPartitionThePlan() throws {
        let runs = try RunPlan.expand(cells: [.rnn, .lstm], lists: [(.seed, ["0", "1", "2", "3", "4"])],
                                      name: nil, confirmed: false)
        for n in 1...12 {
            let slices = (1...n).map { RunPlan.shard(runs, Shard(index: $0, count: n)) }
            let union = slices.flatMap { $0 }.map(\.name)
            #expect(union.sorted() == runs.map(\.name).sorted(), "n = \(n)")
            #expect(Set(union).count == runs.count)
            // Slices differ in size by at most one run.
            let sizes = slices.map(\.count)
            #expect(sizes.max()! - sizes.min()! <= 1)
        }
        #expect(RunPlan.shard(runs, Shard(index: 2, count: 3)).map(\.name) == ["rnn-s1", "rnn-s4", "lstm-s2"])
    }

    @Test func shardTextIsChecked() {
        #expect(Shard(argument: "2/3")!.problem == nil)
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "1/20000"] {
            #expect(throws: (any Error).self, "\(bad)") { try Shard(argument: bad)!.check() }
        }
    }

    @Test func eachRunRecordsTheCommandThatMakesItAlone() {
        let run = PlannedRun(name: "lstm-sr1.25-s2", cell: .lstm, values: [.spectralRadius: "1.25", .seed: "2"])
        let arguments = ["--cell", "rnn,lstm", "--spectral-radius=0.25:2:0.25", "--seed", "0:2:1", "--steps", "300",
                         "--shard", "1/3", "--yes", "--name", "x", "--quiet", "--forget-bias", "3", "--lr=0.05", "--activation", "linear"]
        // The flags that vary take this run's values; those with one value stay as typed.
        #expect(RunPlan.command(for: run, arguments: arguments)
            == ["--steps", "300", "--quiet", "--forget-bias", "3", "--lr=0.05", "--activation", "linear",
                "--cell", "lstm", "--spectral-radius", "1.25", "--seed", "2", "--name", "lstm-sr1.25-s2"])
    }

    @Test func dropoutTakesAList() throws {
        let train = try Train.parseAsRoot(["--dropout", "0:0.5:0.25", "--cell", "lstm"]) as! Train
        let runs = try train.plannedRuns()
        #expect(runs.map(\.name) == ["lstm-drop0", "lstm-drop0.25", "lstm-drop0.5"])
        #expect(train.training.picking(runs[1]).dropout.values == [0.25])
        #expect(throws: (any Error).self) { try Train.parseAsRoot(["--dropout", "0.5,1"]) }
    }
}

/// Sweeps from the command line.
@Suite(.serialized) struct SweepCommandTests {
    static let sweep = ["--cell", "rnn,lstm", "--seed", "0,1", "--lag", "3:4:1", "--steps", "4", "--hidden", "6", "--embed", "4",
                        "--batch", "2", "--bptt", "6", "--probe-every", "2", "--eval-every", "2", "--quiet", "--threads", "2"]

    @Test func dryRunPrintsOneLinePerRunAndWritesNothing() throws {
        let output = try temporaryDirectory()
        let result = try Command.run(Self.sweep + ["--dry-run", "--output", output.path, "--shard", "2/3"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n") == ["rnn-lag3-s1 --cell rnn --lag 3 --seed 1",
                                                         "lstm-lag3-s0 --cell lstm --lag 3 --seed 0",
                                                         "lstm-lag4-s1 --cell lstm --lag 4 --seed 1"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }

    @Test func badRangesAndTooManyRunsExit64() throws {
        let output = try temporaryDirectory()
        for (arguments, phrase) in [(["--seed", "1:0:1"], "--seed 1:0:1"), (["--lr", "0.1:1:0"], "--lr 0.1:1:0"),
                                    (["--seed", "0:200:1"], "--yes"), (["--shard", "3/2"], "--shard 3/2"),
                                    (["--layers", "0,1"], "--layers 0")] {
            let result = try Command.run(arguments + ["--output", output.path] + quickFlags)
            #expect(result.status == 64, "\(arguments): exit \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(phrase), "\(arguments): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }

    /// The command recorded for one run of a sweep makes that run again on its own: constant flags
    /// (`--spectral-radius 0.7`, `--activation linear`, `--dropout 0.1`) included, the varying ones at this run's value.
    @Test func aRunsRecordedCommandMakesTheSameRun() throws {
        let root = try temporaryDirectory()
        let sweep = root.appendingPathComponent("sweep")
        let result = try Command.run(["--cell", "rnn,gru", "--activation", "linear", "--spectral-radius", "0.7", "--forget-bias", "2",
                                      "--dropout", "0.1", "--lr", "0.05,0.02", "--output", sweep.path, "--no-tensorboard"] + quickFlags)
        #expect(result.status == 0, "\(result.stderr)")
        let original = try RecordCoding.load(from: sweep.appendingPathComponent("rnn-lr0.02/run.json"))
        #expect(original.config.spectralRadius == 0.7 && original.config.activation == .linear && original.config.dropout == 0.1)
        var command = original.command
        let output = try #require(command.firstIndex(of: "--output"))
        let again = root.appendingPathComponent("again")
        command[output + 1] = again.path
        let rerun = try Command.run(command)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        var a = try RecordCoding.load(from: again.appendingPathComponent("rnn-lr0.02/run.json"))
        var b = original
        for record in [\RunRecord.summary.seconds, \RunRecord.summary.tokensPerSecond] {
            a[keyPath: record] = nil
            b[keyPath: record] = nil
        }
        // The thread count differs (two runs shared the cores) and does not change the numbers.
        a.config.threads = 0
        b.config.threads = 0
        a.command = []
        b.command = []
        #expect(try RecordCoding.encode(a) == RecordCoding.encode(b))
    }

    /// Three shards trained into three folders and merged with `diagnose report` give the runs, numbers
    /// and PNG bytes of the unsharded sweep.
    @Test func threeShardsMergedEqualTheWholeSweep() throws {
        let root = try temporaryDirectory()
        let whole = root.appendingPathComponent("whole")
        let result = try Command.run(Self.sweep + ["--output", whole.path])
        #expect(result.status == 0, "\(result.stderr)")
        var shardRuns: [URL] = []
        for k in 1...3 {
            let folder = root.appendingPathComponent("shard-\(k)")
            let shard = try Command.run(Self.sweep + ["--output", folder.path, "--shard", "\(k)/3"])
            #expect(shard.status == 0, "\(shard.stderr)")
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.contains(".") && $0 != "compare" }
            shardRuns += names.map { folder.appendingPathComponent($0) }
        }
        // As the workflow's merge job does it: the shards' output folders, not their run folders.
        let merged = root.appendingPathComponent("merged")
        let report = try Command.run(["report", "--output", merged.path] + (1...3).map { root.appendingPathComponent("shard-\($0)").path })
        #expect(report.status == 0, "\(report.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: whole.path).filter { !$0.contains(".") && $0 != "compare" }.sorted()
        #expect(names.count == 8)
        #expect(shardRuns.map(\.lastPathComponent).sorted() == names)
        for run in shardRuns {
            let reference = whole.appendingPathComponent(run.lastPathComponent)
            var a = try RecordCoding.load(from: run.appendingPathComponent("run.json"))
            var b = try RecordCoding.load(from: reference.appendingPathComponent("run.json"))
            for field in [\RunRecord.summary.seconds, \RunRecord.summary.tokensPerSecond] {
                a[keyPath: field] = nil
                b[keyPath: field] = nil
            }
            // The commands differ only in --output.
            #expect(a.command.filter { !$0.hasPrefix("/") } == b.command.filter { !$0.hasPrefix("/") })
            a.command = []
            b.command = []
            #expect(a == b, "\(run.lastPathComponent)")
            for file in ["gradient-flow.png", "gradient-decay.png", "spectrum.png", "gates.png", "training.png", "model.safetensors"] {
                #expect(try Data(contentsOf: run.appendingPathComponent(file)) == Data(contentsOf: reference.appendingPathComponent(file)),
                        "\(run.lastPathComponent)/\(file)")
            }
            // The merge redraws each run's charts from its record alone: the same bytes again.
            let redrawn = merged.appendingPathComponent("charts/\(run.lastPathComponent)/gradient-flow.png")
            #expect(try Data(contentsOf: redrawn) == Data(contentsOf: reference.appendingPathComponent("gradient-flow.png")))
        }
        let charts = try FileManager.default.contentsOfDirectory(atPath: whole.appendingPathComponent("compare").path).sorted()
        #expect(!charts.isEmpty)
        for chart in charts {
            #expect(try Data(contentsOf: merged.appendingPathComponent("compare/\(chart)"))
                == Data(contentsOf: whole.appendingPathComponent("compare/\(chart)")), "\(chart)")
        }
    }
}
