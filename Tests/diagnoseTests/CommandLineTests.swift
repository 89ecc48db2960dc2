import DiagnoseRecord
import Foundation
import Testing
import TrainingCore

/// Runs the real `diagnose` executable that `swift test` builds next to the test bundle.
struct Command {
    var status: Int32
    var stdout: String
    var stderr: String

    static var executable: URL {
        #if os(macOS)
        // The tests run inside <build>/debug/diagnosePackageTests.xctest.
        let start = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL ?? Bundle.main.bundleURL
        #else
        let start = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        #endif
        var directory = start.deletingLastPathComponent()
        // The test runner lives in <build>/debug/ or inside an .xctest bundle there.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("diagnose").path),
              directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("diagnose")
    }

    /// `environment` is added to this process's own, from which GitHub Actions' variables are
    /// removed so that tests behave the same inside and outside a workflow.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Command {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        inherited["GITHUB_ACTIONS"] = nil
        inherited["GITHUB_STEP_SUMMARY"] = nil
        process.environment = inherited.merging(environment) { _, given in given }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Command(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self))
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A small, fast run: tiny model, few steps.
let quickFlags = ["--steps", "6", "--hidden", "8", "--embed", "4", "--batch", "4", "--bptt", "10",
                  "--probe-every", "3", "--eval-every", "3", "--quiet"]

@Suite(.serialized) struct CommandLineTests {
    @Test func helpListsTheSubcommands() throws {
        let result = try Command.run(["--help"])
        #expect(result.status == 0)
        for name in ["train", "report", "gradcheck", "bench"] { #expect(result.stdout.contains(name)) }
    }

    @Test(arguments: [
        (["--cell", "transformer"], "'transformer' is invalid for '--cell"),
        (["--lr", "-1"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--hidden", "0"], "--hidden 0"),
        (["--batch", "-3"], "--batch"),
        (["--activation", "sigmoid"], "'sigmoid' is invalid for '--activation"),
        (["--optimizer", "rmsprop"], "'rmsprop' is invalid for '--optimizer"),
        (["--valid-fraction", "1.5"], "--valid-fraction"),
        (["--spectral-radius", "0"], "--spectral-radius"),
        (["--clip", "-1"], "--clip"),
    ])
    func badFlagsExit64NamingTheFlag(arguments: [String], expected: String) throws {
        let output = try temporaryDirectory()
        let result = try Command.run(arguments + ["--output", output.path])
        #expect(result.status == 64, "\(arguments): exit \(result.status)")
        #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        // Nothing was written.
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }

    @Test func missingCorpusExit66() throws {
        let result = try Command.run(["--corpus", "/nonexistent/text.txt"] + quickFlags)
        #expect(result.status == 66)
        #expect(result.stderr.contains("/nonexistent/text.txt"))
    }

    @Test func badCorpora() throws {
        let folder = try temporaryDirectory()
        let cases: [(String, Data, String)] = [
            ("empty.txt", Data(), "empty"),
            ("latin1.txt", Data([0x63, 0x61, 0x66, 0xE9, 0x0A]), "UTF-8"),
            ("short.txt", Data("hello world".utf8), "needs"),
        ]
        for (name, bytes, phrase) in cases {
            let path = folder.appendingPathComponent(name)
            try bytes.write(to: path)
            let result = try Command.run(["--corpus", path.path, "--output", folder.appendingPathComponent("out").path] + quickFlags)
            #expect(result.status == 65, "\(name): exit \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(name) && result.stderr.contains(phrase), "\(name): \(result.stderr)")
        }
    }

    @Test func unwritableOutputIsRefusedBeforeTraining() throws {
        let folder = try temporaryDirectory()
        let blocker = folder.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocker)
        let result = try Command.run(["--cell", "rnn", "--output", blocker.path] + quickFlags)
        #expect(result.status == 73, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("--output"))
    }

    @Test func aRunWritesRecordWeightsChartsAndReportAndBadInputKeepsThem() throws {
        let output = try temporaryDirectory()
        let first = try Command.run(["--cell", "gru,rnn", "--output", output.path] + quickFlags)
        #expect(first.status == 0, "\(first.stderr)")
        for run in ["gru", "rnn"] {
            let folder = output.appendingPathComponent(run)
            let record = try RecordCoding.load(from: folder.appendingPathComponent("run.json"))
            #expect(record.steps.count == 6)
            #expect(record.config.cell.rawValue == run)
            #expect(record.probes.map(\.step) == [0, 3, 6])
            for chart in ["gradient-flow", "gradient-decay", "spectrum", "jacobian-products", "gates", "training"] {
                #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(chart).png").path), "\(run)/\(chart)")
            }
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path))
        }
        let report = output.appendingPathComponent("report.html")
        let before = try Data(contentsOf: report)
        let record = try Data(contentsOf: output.appendingPathComponent("gru/run.json"))
        // A failing second run leaves everything as it was.
        let bad = try Command.run(["--cell", "gru", "--corpus", "/nonexistent", "--output", output.path] + quickFlags)
        #expect(bad.status != 0)
        #expect(try Data(contentsOf: report) == before)
        #expect(try Data(contentsOf: output.appendingPathComponent("gru/run.json")) == record)
        // The report command redraws from the records alone, byte for byte.
        let redraw = try Command.run(["report", "--output", output.path])
        #expect(redraw.status == 0, "\(redraw.stderr)")
        #expect(try Data(contentsOf: report) == before)
    }

    @Test func sameSeedSameNumbersAndSamePNGBytes() throws {
        let a = try temporaryDirectory(), b = try temporaryDirectory()
        for output in [a, b] {
            let result = try Command.run(["--cell", "lstm", "--output", output.path] + quickFlags)
            #expect(result.status == 0, "\(result.stderr)")
        }
        for file in ["gradient-flow.png", "gates.png", "spectrum.png", "training.png", "model.safetensors"] {
            #expect(try Data(contentsOf: a.appendingPathComponent("lstm/\(file)")) == Data(contentsOf: b.appendingPathComponent("lstm/\(file)")), "\(file)")
        }
        var ra = try RecordCoding.load(from: a.appendingPathComponent("lstm/run.json"))
        var rb = try RecordCoding.load(from: b.appendingPathComponent("lstm/run.json"))
        for record in [\RunRecord.summary.seconds, \RunRecord.summary.tokensPerSecond] {
            ra[keyPath: record] = nil
            rb[keyPath: record] = nil
        }
        ra.command = []
        rb.command = []
        #expect(ra == rb)
    }

    @Test func missingInputsExit66BeforeAnythingIsWritten() throws {
        let output = try temporaryDirectory().appendingPathComponent("out")
        for arguments in [["--font", "/nonexistent/font.ttf"], ["--weights", "/nonexistent/model.safetensors"],
                          ["--corpus", NSTemporaryDirectory()]] {
            let result = try Command.run(["--cell", "rnn", "--output", output.path] + arguments + quickFlags)
            #expect(result.status == 66, "\(arguments): exit \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(arguments[1]), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output.path), "\(arguments) wrote \(output.path)")
        }
        let report = try Command.run(["report", "/nonexistent/run-folder", "--output", output.path])
        #expect(report.status == 66)
        #expect(report.stderr.contains("/nonexistent/run-folder"))
    }

    @Test func reportWithoutRunsExit66() throws {
        let output = try temporaryDirectory()
        let result = try Command.run(["report", "--output", output.path])
        #expect(result.status == 66)
        #expect(result.stderr.contains(output.path))
    }

    @Test func gradcheckPassesForEveryCell() throws {
        let result = try Command.run(["gradcheck", "--cell", "rnn,lstm,gru", "--layers", "2"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("rnn.weight_hh_l1"))
        #expect(!result.stdout.contains("FAIL"))
    }
}

@Suite struct LectureClaimsTests {
    /// The lecture's sigma(x) = x case from the command line: with W_h at spectral radius 0.5 the
    /// gradient falls like 0.5^l at initialisation, at 1.5 it grows; and the record's spectral radius
    /// is the one of the weights saved next to it.
    @Test func linearRNNFollowsItsSpectralRadius() throws {
        let output = try temporaryDirectory()
        for (name, radius) in [("vanish", "0.5"), ("explode", "1.5")] {
            let result = try Command.run(["--cell", "rnn", "--activation", "linear", "--spectral-radius", radius,
                                          "--name", name, "--output", output.path, "--steps", "3", "--hidden", "32",
                                          "--probe-every", "3", "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let vanish = try RecordCoding.load(from: output.appendingPathComponent("vanish/run.json"))
        let explode = try RecordCoding.load(from: output.appendingPathComponent("explode/run.json"))
        let first = try #require(vanish.probes.first?.layers.first)
        #expect(abs(first.spectrum.whole.spectralRadius - 0.5) < 1e-4)
        #expect(abs(first.decayPerStep! - 0.5) < 0.1, "decay \(first.decayPerStep!)")
        #expect(explode.probes[0].layers[0].decayPerStep! > 1.2)

        let weights = try Safetensors.read(from: output.appendingPathComponent("vanish/model.safetensors"))
        let hh = try #require(weights.tensors["rnn.weight_hh_l0"])
        let radius = LinearAlgebra.spectralRadius(of: DenseMatrix(rows: hh.shape[0], cols: hh.shape[1], floatValues: hh.values))
        let recorded = vanish.probes.last!.layers[0].spectrum.whole.spectralRadius
        #expect(abs(radius - recorded) <= 1e-6 * recorded, "\(radius) vs \(recorded)")
    }
}

/// Real corpora from the command line: train/valid/test files, <eos>, epochs, the schedule, warnings.
@Suite(.serialized) struct CorpusFlagTests {
    /// train.txt, valid.txt and test.txt of a small word corpus; valid and test hold words train lacks.
    static func corpusFiles() throws -> URL {
        let folder = try temporaryDirectory()
        let sentence = "the cat sat on the mat and the dog ate the hat\n"
        try String(repeating: sentence, count: 40).write(to: folder.appendingPathComponent("train.txt"), atomically: true, encoding: .utf8)
        try String(repeating: "the zebra sat on the mat\n", count: 12).write(to: folder.appendingPathComponent("valid.txt"), atomically: true, encoding: .utf8)
        try String(repeating: "a yak ate the hat\n", count: 14).write(to: folder.appendingPathComponent("test.txt"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test(arguments: [
        (["--valid", "v.txt", "--valid-fraction", "0.2"], "--valid-fraction 0.2"),
        (["--valid", "v.txt"], "--valid v.txt: needs --corpus"),
        (["--test", "t.txt"], "--test t.txt: needs --corpus"),
        (["--steps", "5", "--epochs", "1"], "--epochs 1"),
        (["--epochs", "0"], "--epochs 0"),
        (["--probe-every", "0"], "--probe-every 0: must be a positive whole number (1 or more)"),
        (["--eval-every=-2"], "--eval-every -2: negative values are not allowed; give a whole number, 1 or more"),
        (["--dropout", "1"], "--dropout 1"),
        (["--dropout=-0.1"], "--dropout -0.1"),
        (["--lr-decay", "2"], "--lr-decay 2"),
        (["--tokenize", "bytes"], "'bytes' is invalid for '--tokenize"),
        (["--layers", "2", "--residual", "--dropout", "0.2"], "--dropout 0.2: dropout is applied to plain stacks only"),
        // --dry-run lists only a plan whose every run could start.
        (["--layers", "2", "--dense", "--dropout", "0.2", "--dry-run"], "--dropout 0.2: dropout is applied to plain stacks only"),
        (["--cell", "lstm", "--hidden", "4096", "--layers", "16", "--batch", "4096", "--bptt", "4096", "--dry-run"],
         "training this model would need about"),
    ])
    func conflictingOrBadFlagsExit64(arguments: [String], expected: String) throws {
        let output = try temporaryDirectory()
        let result = try Command.run(arguments + ["--output", output.path])
        #expect(result.status == 64, "\(arguments): exit \(result.status)")
        #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }

    @Test func missingValidOrTestFileExit66NamingTheFlag() throws {
        let folder = try Self.corpusFiles()
        let train = folder.appendingPathComponent("train.txt").path
        for flag in ["--valid", "--test"] {
            let result = try Command.run(["--corpus", train, flag, "/nonexistent/split.txt", "--output",
                                          folder.appendingPathComponent("out").path] + quickFlags)
            #expect(result.status == 66, "\(flag): exit \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("\(flag) /nonexistent/split.txt"), "\(result.stderr)")
        }
    }

    @Test func trainValidTestFilesAtWordLevel() throws {
        let folder = try Self.corpusFiles()
        let output = folder.appendingPathComponent("out")
        let result = try Command.run(["--corpus", folder.appendingPathComponent("train.txt").path,
                                      "--valid", folder.appendingPathComponent("valid.txt").path,
                                      "--test", folder.appendingPathComponent("test.txt").path,
                                      "--tokenize", "word", "--cell", "lstm", "--epochs", "2", "--dropout", "0.3",
                                      "--lr-decay", "0.5", "--output", output.path,
                                      "--hidden", "8", "--embed", "4", "--batch", "4", "--bptt", "10",
                                      "--probe-every", "3", "--eval-every", "3", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let record = try RecordCoding.load(from: output.appendingPathComponent("lstm/run.json"))
        // 40 lines x 13 tokens (12 words + <eos>) = 520 training tokens: 130 per stream, 12 windows of 10.
        #expect(record.corpus.trainTokens == 520)
        #expect(record.config.steps == 24 && record.steps.count == 24 && record.config.epochs == 2)
        #expect(record.corpus.validTokens == 12 * 7 && record.corpus.unknownValidTokens == 12)
        #expect(record.corpus.testTokens == 14 * 6 && record.corpus.unknownTestTokens == 28)
        #expect(record.corpus.vocabularySize == 11)  // 9 words, <eos>, <unk>
        #expect(record.config.endOfLine == true && record.config.dropout == 0.3 && record.config.validFraction == 0)
        #expect(record.corpus.validFile?.hasSuffix("valid.txt") == true && record.corpus.testSha256?.count == 64)
        let test = try #require(record.summary.finalTestPerplexity)
        #expect(test.isFinite && test > 1)
        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Test perplexity"))
        #expect(html.contains("<unk>") || html.contains("&lt;unk&gt;"))
    }

    @Test func flagsThatDoNothingAreNamedInAWarning() throws {
        let output = try temporaryDirectory()
        let quick = quickFlags.filter { $0 != "--quiet" }
        let synthetic = try Command.run(["--cell", "rnn", "--tokenize", "word", "--vocab-size", "50", "--no-eos",
                                         "--output", output.path] + quick)
        #expect(synthetic.status == 0, "\(synthetic.stderr)")
        for phrase in ["warning: --tokenize word does nothing", "warning: --vocab-size 50 does nothing",
                       "warning: --no-eos does nothing"] {
            #expect(synthetic.stderr.contains(phrase), "\(synthetic.stderr)")
        }
        let folder = try CorpusFlagTests.corpusFiles()
        let real = try Command.run(["--cell", "rnn", "--corpus", folder.appendingPathComponent("train.txt").path,
                                    "--lag", "12", "--vocab-size", "40", "--output", output.path] + quick)
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stderr.contains("warning: --lag 12 does nothing with --corpus"))
        #expect(real.stderr.contains("warning: --vocab-size 40 does nothing with character tokens"))
        // Flags that do something are not warned about.
        let clean = try Command.run(["--cell", "rnn", "--output", output.path, "--lag", "4"] + quick)
        #expect(!clean.stderr.contains("warning"), "\(clean.stderr)")
    }
}
