// The command as a hostile user drives it: records that cannot be drawn beside good ones, names the
// report would hide, two processes on one folder, signals, temporaries of dead processes, weights of
// the wrong shape, and the exit code of every kind of failure.

import DiagnoseRecord
import Foundation
import Testing
import TrainingCore

/// Starts the real executable without waiting, for signals and concurrency.
func startCommand(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = Command.executable
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

func writeTensors(_ tensors: [SafetensorsTensor], to url: URL) throws {
    try Safetensors.encode(tensors: tensors, metadata: [:]).write(to: url)
}

@Suite(.serialized) struct ReliabilityTests {
    @Test func aBrokenSiblingRecordIsSkippedAndTheNewRunIsDrawn() throws {
        let output = try temporaryDirectory()
        // A record claiming T = 2^40 (it used to abort every later run in the folder) and a truncated one.
        for (name, text) in [("huge", ""), ("old", #"{"schemaVersion": 1, "na"#)] {
            let folder = output.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: folder.appendingPathComponent("run.json"))
        }
        var huge = try RecordCoding.encode(
            RunRecord(tool: ToolInfo(version: "0"), name: "huge", command: [],
                      config: RunConfig(cell: .rnn, activation: .tanh, layers: 1, bidirectional: false, hidden: 4, embed: 4,
                                        batch: 1, bptt: 1 << 40, steps: 1, optimizer: .sgd, learningRate: 1, clip: 0, seed: 0,
                                        initialization: .xavier, spectralRadius: nil, forgetBias: 0, probeEvery: 1, evalEvery: 1,
                                        tokenize: .char, vocabSizeLimit: nil, validFraction: 0.1, lag: nil, threads: 1),
                      corpus: CorpusInfo(name: "c", synthetic: false, sha256: "", tokens: 1, trainTokens: 1, validTokens: 0,
                                         vocabularySize: 2),
                      parameterCount: 0, parameters: []))
        try huge.write(to: output.appendingPathComponent("huge/run.json"))
        huge = Data()
        let result = try Command.run(["--cell", "rnn", "--output", output.path] + quickFlags)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("huge/run.json") && result.stderr.contains("config.bptt"), "\(result.stderr)")
        #expect(result.stderr.contains("old/run.json"), "\(result.stderr)")
        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("rnn/run.json"))
        // `report` skips them too; with only undrawable runs it fails cleanly (65, naming one).
        let report = try Command.run(["report", "--output", output.path])
        #expect(report.status == 0, "\(report.stderr)")
        try FileManager.default.removeItem(at: output.appendingPathComponent("rnn"))
        let none = try Command.run(["report", "--output", output.path])
        #expect(none.status == 65 && none.stderr.contains("run.json"), "\(none.status) \(none.stderr)")
    }

    @Test func namesTheReportWouldHideOrThatCannotBeFoldersAreRefused() throws {
        let output = try temporaryDirectory()
        for name in [".hidden", "compare", "charts", "report.html", String(repeating: "n", count: 300)] {
            let result = try Command.run(["--cell", "rnn", "--name", name, "--output", output.path] + quickFlags)
            #expect(result.status == 64, "\(name.prefix(20)): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--name") && !result.stderr.contains("--output:"), "\(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }

    @Test func outputProblemsAreFoundBeforeTraining() throws {
        let output = try temporaryDirectory()
        try FileManager.default.createDirectory(at: output.appendingPathComponent("report.html"), withIntermediateDirectories: true)
        var result = try Command.run(["--cell", "rnn", "--output", output.path, "--steps", "100000"] + quickFlags.dropFirst(2))
        #expect(result.status == 73 && result.stderr.contains("report.html"), "\(result.status) \(result.stderr)")
        try FileManager.default.removeItem(at: output.appendingPathComponent("report.html"))
        try Data("x".utf8).write(to: output.appendingPathComponent("rnn"))
        result = try Command.run(["--cell", "rnn", "--output", output.path, "--steps", "100000"] + quickFlags.dropFirst(2))
        #expect(result.status == 73 && result.stderr.contains("/rnn"), "\(result.status) \(result.stderr)")
        // A run folder whose run.json is a folder is simply replaced whole.
        try FileManager.default.removeItem(at: output.appendingPathComponent("rnn"))
        try FileManager.default.createDirectory(at: output.appendingPathComponent("rnn/run.json"), withIntermediateDirectories: true)
        result = try Command.run(["--cell", "rnn", "--output", output.path] + quickFlags)
        #expect(result.status == 0, "\(result.stderr)")
        #expect((try? RecordCoding.load(from: output.appendingPathComponent("rnn/run.json"))) != nil)
    }

    @Test func staleTemporariesOfDeadProcessesAreRemovedAndAnAbandonedSwapIsUndone() throws {
        let output = try temporaryDirectory()
        #expect(try Command.run(["--cell", "gru", "--output", output.path] + quickFlags).status == 0)
        // A process that is surely gone: one we started and waited for.
        let dead = try startCommand(["--version"])
        dead.waitUntilExit()
        let pid = dead.processIdentifier
        let fm = FileManager.default
        try Data("half".utf8).write(to: output.appendingPathComponent(".report.html.tmp-\(pid)"))
        try Data("half".utf8).write(to: output.appendingPathComponent("gru/.run.json.tmp-\(pid)"))
        try fm.createDirectory(at: output.appendingPathComponent(".rnn.tmp-\(pid)"), withIntermediateDirectories: true)
        // A run folder renamed aside by a process killed before its replacement arrived.
        try fm.moveItem(at: output.appendingPathComponent("gru"), to: output.appendingPathComponent(".gru.old-\(pid)"))
        let result = try Command.run(["--cell", "lstm", "--output", output.path] + quickFlags)
        #expect(result.status == 0, "\(result.stderr)")
        let left = try fm.contentsOfDirectory(atPath: output.path).filter { $0.contains(".tmp-") || $0.contains(".old-") }
        #expect(left.isEmpty, "\(left)")
        #expect(!fm.fileExists(atPath: output.appendingPathComponent("gru/.run.json.tmp-\(pid)").path))
        #expect(fm.fileExists(atPath: output.appendingPathComponent("gru/run.json").path))
        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("gru/run.json") && html.contains("lstm/run.json"))
    }

    @Test func twoProcessesOnOneOutputNeverMixTheirFiles() throws {
        let output = try temporaryDirectory()
        // The same run name, different seeds: each folder must hold one run's record, model and charts.
        let flags = ["--cell", "rnn", "--output", output.path, "--threads", "1"] + quickFlags
        let a = try startCommand(flags + ["--seed", "1"])
        let b = try startCommand(flags + ["--seed", "2"])
        a.waitUntilExit()
        b.waitUntilExit()
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0)
        let record = try RecordCoding.load(from: output.appendingPathComponent("rnn/run.json"))
        let weights = try Safetensors.read(from: output.appendingPathComponent("rnn/model.safetensors"))
        // The saved weights are the ones whose spectrum the record reports.
        let hh = try #require(weights.tensors["rnn.weight_hh_l0"])
        let radius = LinearAlgebra.spectralRadius(of: DenseMatrix(rows: hh.shape[0], cols: hh.shape[1], floatValues: hh.values))
        let recorded = record.probes.last!.layers[0].spectrum.whole.spectralRadius
        #expect(abs(radius - recorded) <= 1e-6 * recorded, "\(radius) vs \(recorded)")
        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        // The report shows the run whose record is in the folder (the synthetic corpus differs by seed).
        #expect(html.contains(record.corpus.sha256))
    }

    @Test func sigtermStopsLikeCtrlCAndQueuedCellsWriteNothing() throws {
        let output = try temporaryDirectory()
        // A complete earlier gru run must survive: the gru cell below is queued and never starts.
        #expect(try Command.run(["--cell", "gru", "--output", output.path] + quickFlags).status == 0)
        let before = try Data(contentsOf: output.appendingPathComponent("gru/run.json"))
        let process = try startCommand(["--cell", "rnn,gru", "--threads", "1", "--output", output.path, "--steps", "1000000",
                                        "--hidden", "8", "--embed", "4", "--batch", "4", "--bptt", "10", "--probe-every", "5",
                                        "--eval-every", "1000", "--quiet"])
        // Let training start (the handler is installed first thing, so an early signal is handled too).
        Thread.sleep(forTimeInterval: 4)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let record = try RecordCoding.load(from: output.appendingPathComponent("rnn/run.json"))
        #expect(record.status.interrupted)
        let steps = record.probes.map(\.step)
        #expect(Set(steps).count == steps.count, "probe steps \(steps)")
        #expect(try Data(contentsOf: output.appendingPathComponent("gru/run.json")) == before)
    }

    @Test func weightsOfTheWrongShapeOrWithExtraTensorsAreRefused() throws {
        let folder = try temporaryDirectory()
        let output = folder.appendingPathComponent("out")
        #expect(try Command.run(["--cell", "rnn", "--output", output.path] + quickFlags).status == 0)
        let saved = try Safetensors.read(from: output.appendingPathComponent("rnn/model.safetensors")).tensors
        let hh = saved["rnn.weight_hh_l0"]!
        func variant(_ name: String, _ edit: (inout [String: SafetensorsTensor]) -> Void) throws -> String {
            var tensors = saved
            edit(&tensors)
            let url = folder.appendingPathComponent(name)
            try writeTensors(tensors.values.sorted { $0.name < $1.name }, to: url)
            return url.path
        }
        let ih = saved["rnn.weight_ih_l0"]!  // (8, 4): its transpose has the same element count
        let cases: [(String, String)] = [
            (try variant("transposed.safetensors") {
                $0["rnn.weight_ih_l0"] = SafetensorsTensor(name: ih.name, shape: [ih.shape[1], ih.shape[0]], values: ih.values)
            }, "rnn.weight_ih_l0"),
            (try variant("flat.safetensors") {
                $0["rnn.weight_hh_l0"] = SafetensorsTensor(name: hh.name, shape: [hh.values.count], values: hh.values)
            }, "rnn.weight_hh_l0"),
            (try variant("extra.safetensors") {
                $0["rnn.weight_hh_l0_reverse"] = SafetensorsTensor(name: "rnn.weight_hh_l0_reverse", shape: hh.shape, values: hh.values)
            }, "rnn.weight_hh_l0_reverse"),
        ]
        for (path, tensor) in cases {
            let result = try Command.run(["--cell", "rnn", "--weights", path, "--output", output.path] + quickFlags)
            #expect(result.status == 65 && result.stderr.contains(tensor), "\(path): \(result.status) \(result.stderr)")
        }
        let allowed = try Command.run(["--cell", "rnn", "--weights", cases[2].0, "--ignore-extra-tensors",
                                       "--output", output.path] + quickFlags)
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func probeRefusesAmbiguousPrefixesAndOverlongRowsAndMarksNonFiniteWeights() throws {
        let folder = try temporaryDirectory()
        let output = folder.appendingPathComponent("out")
        #expect(try Command.run(["--cell", "rnn", "--output", output.path] + quickFlags).status == 0)
        let saved = try Safetensors.read(from: output.appendingPathComponent("rnn/model.safetensors")).tensors
        let V = saved["embedding.weight"]!.shape[0]
        // Both rnn.* and model.lstm.* in one file: --prefix model.lstm. is ambiguous.
        var both = Array(saved.values)
        for tensor in saved.values where tensor.name.hasPrefix("rnn.") {
            both.append(SafetensorsTensor(name: "model.lstm." + tensor.name.dropFirst(4), shape: tensor.shape, values: tensor.values))
        }
        let bothURL = folder.appendingPathComponent("both.safetensors")
        try writeTensors(both.sorted { $0.name < $1.name }, to: bothURL)
        let tokens = folder.appendingPathComponent("tokens.json")
        try Data("{\"tokens\": [[0, 1, 0, 1, 0]]}".utf8).write(to: tokens)
        var result = try Command.run(["probe", "--weights", bothURL.path, "--prefix", "model.lstm.", "--tokens", tokens.path,
                                      "--output", output.path])
        #expect(result.status == 65 && result.stderr.contains("model.lstm.") && result.stderr.contains("both"),
                "\(result.status) \(result.stderr)")

        // A row longer than --bptt may be: refused before anything runs.
        let long = folder.appendingPathComponent("long.json")
        let row = (0...RecordLimits.maxSteps + 1).map { String($0 % V) }.joined(separator: ",")
        try Data("{\"tokens\": [[\(row)]]}".utf8).write(to: long)
        let weights = output.appendingPathComponent("rnn/model.safetensors").path
        result = try Command.run(["probe", "--weights", weights, "--tokens", long.path, "--output", output.path])
        #expect(result.status == 65 && result.stderr.contains("\(RecordLimits.maxSteps)"), "\(result.status) \(result.stderr)")

        // NaN weights: a warning, and the record says which tensors.
        var nan = saved
        let w = nan["rnn.weight_hh_l0"]!
        nan["rnn.weight_hh_l0"] = SafetensorsTensor(name: w.name, shape: w.shape, values: w.values.map { _ in .nan })
        let nanURL = folder.appendingPathComponent("nan.safetensors")
        try writeTensors(nan.values.sorted { $0.name < $1.name }, to: nanURL)
        result = try Command.run(["probe", "--weights", nanURL.path, "--tokens", tokens.path, "--name", "nan", "--output", output.path])
        #expect(result.status == 0 && result.stderr.contains("warning") && result.stderr.contains("NaN"), "\(result.stderr)")
        let record = try RecordCoding.load(from: output.appendingPathComponent("nan/run.json"))
        #expect(record.status.nonFiniteWeights == ["rnn.weight_hh_l0"])
    }

    @Test func reportWritesOnlyUnderItsOutput() throws {
        let folder = try temporaryDirectory()
        let runs = folder.appendingPathComponent("runs")
        #expect(try Command.run(["--cell", "rnn", "--output", runs.path] + quickFlags).status == 0)
        let run = runs.appendingPathComponent("rnn")
        for file in try FileManager.default.contentsOfDirectory(atPath: run.path) where file.hasSuffix(".png") {
            try FileManager.default.removeItem(at: run.appendingPathComponent(file))
        }
        chmod(run.path, 0o555)
        defer { chmod(run.path, 0o755) }
        let output = folder.appendingPathComponent("elsewhere")
        let result = try Command.run(["report", run.path, "--output", output.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.path).allSatisfy { !$0.hasSuffix(".png") })
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("charts/rnn/gradient-flow.png").path))
    }

    @Test(arguments: [
        (["gradcheck", "--tolerance", "nan"], 64, "--tolerance"),
        (["gradcheck", "--tolerance", "-1"], 64, "--tolerance"),
        (["--layers", "-1"], 64, "negative"),
        (["--steps", "1000000000000"], 64, "--steps"),
        (["bench", "--child", "x"], 64, "--child"),
        (["bench", "--window-seconds", "inf"], 64, "--window-seconds"),
        (["bench", "--window-seconds", "1e300"], 64, "--window-seconds"),
        (["bench", "--warmup-seconds", "inf"], 64, "--warmup-seconds"),
        (["bench", "--json", "/nonexistent/x.json", "--skip-training"], 73, "/nonexistent/x.json: No such file or directory; check that the folder exists and is writable, or choose another --json"),
        (["bench", "--json", "/tmp", "--skip-training"], 73, "--json names a file; check that the folder exists and is writable, or choose another --json"),
        (["export", "/nonexistent-run"], 66, "/nonexistent-run/run.json not found"),
        // An empty path (an unset variable) would write into the current folder.
        (["--output", "", "--cell", "rnn"], 64, "--output is empty; give a path (--output . for the current folder)"),
        (["report", "--output", ""], 64, "--output is empty"),
        (["probe", "--output", "", "--weights", "m.safetensors", "--tokens", "t.json"], 64, "--output is empty"),
        (["export", "/nonexistent-run", "--to", ""], 64, "--to is empty"),
        (["bench", "--json", "", "--skip-training"], 64, "--json is empty"),
        (["probe", "--weights", "/nonexistent/m.safetensors", "--tokens", "/x.json"], 66, "/nonexistent/m.safetensors"),
        (["--weights", "/tmp"], 66, "folder"),
        (["--weights", "/dev/null"], 66, "not a regular file"),
        (["--hidden", "4096", "--layers", "16", "--cell", "lstm", "--batch", "4096"], 64, "memory"),
    ])
    func failuresExitWithTheirCodeAndSayWhy(arguments: [String], code: Int32, phrase: String) throws {
        let output = try temporaryDirectory()
        let hasOutput = !["gradcheck", "bench", "export"].contains(arguments[0]) && !arguments.contains("--output")
        let result = try Command.run(arguments + (hasOutput ? ["--output", output.path] : []))
        #expect(result.status == code, "\(arguments): exit \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(phrase), "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("Missing value"), "\(result.stderr)")
    }

    @Test func nonFiniteWeightsAreWarnedAboutUnderTheFlagThatNamedThem() throws {
        let output = try temporaryDirectory()
        // A learning rate above Float's range: the weights written hold infinities and NaN.
        let trained = try Command.run(["--cell", "rnn", "--lr", "1e40", "--no-tensorboard", "--output", output.path] + quickFlags)
        #expect(trained.status == 0, "\(trained.stderr)")
        let tokens = output.appendingPathComponent("tokens.json")
        try Data("{\"tokens\": [[1, 2, 3, 4]]}".utf8).write(to: tokens)
        let run = output.appendingPathComponent("rnn")
        for (flag, value) in [("--checkpoints", run.path), ("--weights", run.appendingPathComponent("model.safetensors").path)] {
            let probed = try Command.run(["probe", flag, value, "--tokens", tokens.path, "--no-tensorboard",
                                          "--output", output.appendingPathComponent("probed").path])
            #expect(probed.status == 0, "\(probed.stderr)")
            #expect(probed.stderr.hasPrefix("warning: \(flag) "), "\(probed.stderr)")
            #expect(probed.stderr.contains("holds NaN or infinite values"))
        }
    }

    @Test func probeCutsItsBatchFromTextAndNamesWhatIsWrong() throws {
        let folder = try temporaryDirectory()
        let output = folder.appendingPathComponent("out")
        // A character corpus of four letters: its vocabulary is a, b, c, d (ids 0 to 3).
        let text = folder.appendingPathComponent("text.txt")
        try Data(String(repeating: "abcdabdc", count: 80).utf8).write(to: text)
        #expect(try Command.run(["--cell", "rnn", "--corpus", text.path, "--output", output.path] + quickFlags).status == 0)
        let weights = output.appendingPathComponent("rnn/model.safetensors").path
        let vocab = folder.appendingPathComponent("vocab.json")
        try Data("[\"a\", \"b\", \"c\", \"d\"]".utf8).write(to: vocab)
        func probe(_ extra: [String]) throws -> Command {
            try Command.run(["probe", "--weights", weights, "--corpus", text.path, "--vocab", vocab.path,
                             "--output", output.path] + extra)
        }
        var result = try probe(["--batch", "2", "--bptt", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let probed = try RecordCoding.load(from: output.appendingPathComponent("imported/run.json"))
        #expect(probed.config.batch == 2 && probed.config.bptt == 3)
        result = try probe(["--batch", "64", "--bptt", "512", "--name", "long"])
        #expect(result.status == 65 && result.stderr.contains("--corpus \(text.path): the text has")
                    && result.stderr.contains("--batch"), "\(result.status) \(result.stderr)")
        // The vocabulary must be a JSON array of strings with one entry per row of the embedding.
        for (content, phrase) in [("{\"a\": 0}", "must be a JSON array of token strings"),
                                  ("[\"a\", \"b\", \"c\"]", "has 3 tokens but the model's embedding has 4 rows")] {
            try Data(content.utf8).write(to: vocab)
            result = try probe(["--batch", "2", "--bptt", "3", "--name", "bad-vocab"])
            #expect(result.status == 65 && result.stderr.hasPrefix("error: --vocab \(vocab.path): \(phrase)"),
                    "\(result.status) \(result.stderr)")
        }
        try Data("[\"a\", \"b\", \"c\", \"d\"]".utf8).write(to: vocab)
        try Data("a\u{2603}".utf8).write(to: text)
        result = try probe(["--batch", "1", "--bptt", "1", "--name", "snow"])
        #expect(result.status == 65 && result.stderr.contains("is not in the vocabulary") && result.stderr.contains("--vocab"),
                "\(result.status) \(result.stderr)")
    }

    @Test func missingProbeInputsExit66() throws {
        let folder = try temporaryDirectory()
        let output = folder.appendingPathComponent("out")
        #expect(try Command.run(["--cell", "rnn", "--output", output.path] + quickFlags).status == 0)
        let weights = output.appendingPathComponent("rnn/model.safetensors").path
        for arguments in [["--tokens", "/nonexistent/t.json"], ["--corpus", "/etc/hostname", "--vocab", "/nonexistent/v.json"]] {
            let result = try Command.run(["probe", "--weights", weights, "--output", output.path] + arguments)
            #expect(result.status == 66 && result.stderr.contains("/nonexistent/"), "\(arguments): \(result.status) \(result.stderr)")
        }
    }
}
