import DiagnoseRecord
import Foundation
import Renderer
import Testing

/// `diagnose probe --checkpoints DIR --metrics FILE` end to end on the fixture series
/// (Scripts/make_fixtures.py: a 2-layer GRU at steps 0, 20 and 45 and its training log).
@Suite(.serialized) struct CheckpointSeriesTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../TrainingCoreTests/Fixtures").standardizedFileURL
    static let series = fixtures.appendingPathComponent("series").path
    static let tokens = fixtures.appendingPathComponent("series/tokens.json").path

    static func probe(_ extra: [String], output: URL) throws -> Command {
        try Command.run(["probe", "--checkpoints", series, "--tokens", tokens, "--output", output.path] + extra)
    }

    /// Pixels whose channels differ by more than 60: the coloured marks, not the grey frame and text.
    static func colouredPixels(_ png: Data) throws -> Int {
        let pixmap = try PNGCodec.decode(png)
        var n = 0
        for i in stride(from: 0, to: pixmap.bytes.count, by: 4) {
            let (r, g, b) = (Int(pixmap.bytes[i]), Int(pixmap.bytes[i + 1]), Int(pixmap.bytes[i + 2]))
            if max(r, g, b) - min(r, g, b) > 60 { n += 1 }
        }
        return n
    }

    /// --activation means something for a simple RNN only; on the fixture's GRU it is named as ignored.
    @Test func activationOnAGatedModelIsNamedAsIgnored() throws {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try Self.probe(["--activation", "relu", "--name", "relu"], output: output)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning: --activation relu: only a simple RNN has a choice of nonlinearity; this gru model ignores it"),
                "\(result.stderr)")
        let plain = try Self.probe(["--name", "plain"], output: output)
        #expect(plain.status == 0 && !plain.stderr.contains("--activation"), "\(plain.stderr)")
    }

    @Test func seriesWithMetricsFillsEveryChartOverTraining() throws {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try Self.probe(["--metrics", Self.fixtures.appendingPathComponent("series/metrics.jsonl").path], output: output)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("column(s) epoch are not used"))
        let run = output.appendingPathComponent("imported")
        let record = try RecordCoding.load(from: run.appendingPathComponent("run.json"))
        #expect(record.probes.map(\.step) == [0, 20, 45])
        #expect(record.steps.count == 45 && record.evaluations.map(\.step) == [15, 30, 45])
        #expect(record.config.steps == 45 && record.config.optimizer == nil && record.origin.isImported)

        // The training chart of this run against the same run without its log.
        let drawn = try Data(contentsOf: run.appendingPathComponent("training.png"))
        var bare = record
        bare.steps = []
        bare.evaluations = []
        let empty = try #require(try RunCharts.render(bare, options: RenderOptions()).first { $0.id == .training })
        let withLog = try Self.colouredPixels(drawn), without = try Self.colouredPixels(empty.png)
        #expect(withLog > without + 10_000, "coloured pixels: \(withLog) with the log, \(without) without")

        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("At the first checkpoint (step 0)"))
        #expect(html.contains("elsewhere (imported checkpoints)"))
    }

    @Test func sameBytesWhateverTheThreadCount() throws {
        let one = try temporaryDirectory(), four = try temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: one)
            try? FileManager.default.removeItem(at: four)
        }
        #expect(try Self.probe(["--threads", "1"], output: one).status == 0)
        #expect(try Self.probe(["--threads", "8"], output: four).status == 0)
        for file in ["gradient-flow.png", "gradient-decay.png", "spectrum.png", "jacobian-products.png", "gates.png", "training.png",
                     "model.safetensors"] {
            let a = try Data(contentsOf: one.appendingPathComponent("imported/\(file)"))
            let b = try Data(contentsOf: four.appendingPathComponent("imported/\(file)"))
            #expect(a == b, "\(file)")
        }
        var a = try RecordCoding.load(from: one.appendingPathComponent("imported/run.json"))
        var b = try RecordCoding.load(from: four.appendingPathComponent("imported/run.json"))
        (a.config.threads, b.config.threads, a.command, b.command) = (0, 0, [], [])
        #expect(a == b)
    }

    @Test(arguments: [
        (["--weights", "A", "--checkpoints", "B"], Int32(64), "--weights and --checkpoints"),
        (["--checkpoints", "/nonexistent-folder"], Int32(66), "--checkpoints /nonexistent-folder: no such file"),
        (["--checkpoints", "series/tokens.json"], Int32(66), "series/tokens.json: is a file; give a folder"),
        (["--checkpoints", "/dev/null"], Int32(66), "--checkpoints /dev/null: is not a regular file (a FIFO, socket or device); give a folder"),
        (["--metrics", "/nonexistent.jsonl"], Int32(66), "--metrics /nonexistent.jsonl: no such file"),
        (["--weights", "series/ckpt_000000.safetensors", "series_bad/hidden5_step-30.safetensors"], Int32(65),
         "hidden5_step-30.safetensors: tensor \"decoder.weight\" has shape [9, 5] but [9, 4]"),
        (["--weights", "series/ckpt_000020.safetensors", "series_bad/again_step-20.safetensors"], Int32(65),
         "has step 20 (from its name), and so has"),
        (["--weights", "series/ckpt_000020.safetensors", "series/../series/ckpt_000020.safetensors"], Int32(65),
         "ckpt_000020.safetensors: is given twice; give each checkpoint once"),
        (["--threads", "0"], Int32(64), "--threads"),
    ])
    func badSeriesInputsExitWithTheirCode(arguments: [String], status: Int32, message: String) throws {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let resolved = arguments.map { $0.hasPrefix("series") ? Self.fixtures.appendingPathComponent($0).path : $0 }
        var base = ["probe", "--tokens", Self.tokens, "--output", output.path]
        if !resolved.contains("--weights") && !resolved.contains("--checkpoints") { base += ["--checkpoints", Self.series] }
        let result = try Command.run(base + resolved)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("imported/run.json").path))
    }

    /// Ctrl-C while the run is being written finishes the run folder and the report, then exits 130.
    /// The test holds the output folder's lock, so the probe is waiting to write when Ctrl-C comes.
    @Test func ctrlCWhileWritingLeavesTheRunWhole() throws {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let lock = open(output.appendingPathComponent(OutputFolder.lockFileName).path, O_RDWR | O_CREAT, 0o644)
        #expect(lock >= 0 && flock(lock, LOCK_EX) == 0)
        let log = output.appendingPathComponent("stderr.txt")
        #expect(FileManager.default.createFile(atPath: log.path, contents: nil))
        let process = Process()
        process.executableURL = Command.executable
        process.arguments = ["probe", "--checkpoints", Self.series, "--tokens", Self.tokens, "--output", output.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        var waited = 0
        while !(try String(contentsOf: log, encoding: .utf8)).contains("waiting for another diagnose") && waited < 600 {
            usleep(50_000)
            waited += 1
        }
        process.interrupt()
        usleep(200_000)
        flock(lock, LOCK_UN)
        close(lock)
        process.waitUntilExit()
        let stderr = try String(contentsOf: log, encoding: .utf8)
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("interrupted: the run and the report were written whole first"), "\(stderr)")
        for file in ["run.json", "model.safetensors", "gradient-flow.png", "training.png"] {
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("imported/\(file)").path), "\(file)")
        }
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("report.html").path))
    }

    /// A file that is not safetensors is named with the flag that gave it, in probe and in train.
    @Test func notSafetensorsNamesTheFlag() throws {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let notWeights = Self.fixtures.appendingPathComponent("series/metrics.csv").path
        for command in [["probe", "--tokens", Self.tokens], ["train", "--cell", "rnn"]] {
            let result = try Command.run(command + ["--weights", notWeights, "--output", output.path])
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("error: --weights \(notWeights): not a safetensors file"), "\(result.stderr)")
        }
    }

    #if os(Linux)
    /// A series that would not fit in memory is refused before any probe runs, with the advice in
    /// probe's own flags; an address-space limit (`ulimit -v`, 360 MB) stands in for a small machine.
    @Test func seriesThatWouldNotFitIsRefusedInProbesFlags() throws {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v 360000 && exec \"$0\" \"$@\"", Command.executable.path, "probe",
                             "--checkpoints", Self.series, "--tokens", Self.tokens, "--output", output.path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 64, "\(stderr)")
        #expect(stderr.hasPrefix("error: probing this gru (H=4, 2 layer(s)) on 3 x 7 tokens would need about 0.1 GiB of memory, "
            + "but the address-space limit (ulimit -v) allows 0.3 GiB; give fewer or shorter rows (--tokens), a smaller "
            + "--batch or --bptt, or --threads 1"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("imported/run.json").path))
    }
    #endif

    @Test func malformedMetricsLineIsNamed() throws {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let metrics = output.appendingPathComponent("m.csv")
        try Data("step,loss\n10,2.0\n5,1.9\n".utf8).write(to: metrics)
        let result = try Self.probe(["--metrics", metrics.path], output: output)
        #expect(result.status == 65)
        #expect(result.stderr.contains("m.csv, line 3: step 5 comes after step 10 (line 2)"), "\(result.stderr)")
    }
}
