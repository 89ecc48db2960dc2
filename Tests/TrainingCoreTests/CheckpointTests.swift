import DiagnoseRecord
import Foundation
import Testing
@testable import TrainingCore

/// A checkpoint series written by the numpy fixture writer (Scripts/make_fixtures.py, series/):
/// steps, architecture checks, probes in parallel, and the training loop's metrics.
@Suite struct CheckpointTests {
    static let good = ImportTests.fixtures.appendingPathComponent("series")
    static let bad = ImportTests.fixtures.appendingPathComponent("series_bad")
    static let files = ["late", "ckpt_000000", "ckpt_000020"].map { good.appendingPathComponent("\($0).safetensors").path }
    static func badFile(_ stem: String) -> String { bad.appendingPathComponent("\(stem).safetensors").path }

    static func input(for file: String) throws -> (LanguageModel, ProbeInput) {
        let model = try ModelImport.model(from: Safetensors.read(from: URL(fileURLWithPath: file)).tensors, file: file)
        let input = try ProbeInput.parse(Data(contentsOf: good.appendingPathComponent("tokens.json")), file: "tokens", model: model)
        return (model, input)
    }

    @Test func stepsComeFromMetadataElseTheName() throws {
        let series = try CheckpointSeries(files: Self.files)
        #expect(series.checkpoints.map(\.step) == [0, 20, 45])
        #expect(series.checkpoints.map { ($0.file as NSString).lastPathComponent }
            == ["ckpt_000000.safetensors", "ckpt_000020.safetensors", "late.safetensors"])
        #expect(try CheckpointSeries.files(inFolder: Self.good.path).count == 3)
        #expect(try CheckpointSeries.stepInName("a/run7_step-001500.safetensors") == 1500)
        #expect(try CheckpointSeries.stepInName("a/model.safetensors") == nil)
        // One file needs no step: it is probed at step 0.
        #expect(try CheckpointSeries(files: [Self.badFile("nostep")]).checkpoints[0].step == 0)
    }

    @Test func probesSitAtTheStepsAndEqualEachCheckpointProbedAlone() throws {
        let series = try CheckpointSeries(files: Self.files)
        let (_, input) = try Self.input(for: series.checkpoints[0].file)
        let serial = try ImportedProbe.probes(of: series, options: .init(), input: input, threads: 1)
        let parallel = try ImportedProbe.probes(of: series, options: .init(), input: input, threads: 8)
        #expect(serial.map(\.step) == [0, 20, 45])
        #expect(serial == parallel, "bit-identical whatever the thread count")
        for (index, checkpoint) in series.checkpoints.enumerated() {
            let (model, alone) = try Self.input(for: checkpoint.file)
            let probe = model.probe(alone.batch, step: checkpoint.step, keepActivations: index != 1,
                                    workspace: Workspace(model: model))
            #expect(probe == serial[index], "checkpoint \(checkpoint.step)")
        }
        // The weights grew over "training", so the spectral radius of every layer does too.
        let radii = serial.map { $0.layers[1].spectrum.whole.spectralRadius }
        #expect(radii[0] < radii[1] && radii[1] < radii[2], "\(radii)")
        // Gate activations are kept at the first and last probe only.
        #expect(serial[0].layers[0].gates[0].activations != nil && serial[1].layers[0].gates[0].activations == nil)
    }

    @Test(arguments: [
        ("hidden5_step-30", "tensor \"decoder.weight\" has shape [9, 5] but [9, 4] in ckpt_000000.safetensors"),
        ("extra_step-30", "has tensor \"extra.bias\" that ckpt_000000.safetensors lacks"),
        ("again_step-20", "has step 20 (from its name), and so has"),
        ("nostep", "has no training step"),
        ("badstep_7", "metadata \"step\" is \"1.5e3\""),
    ])
    func refusedSeriesNameTheFileAndTheProblem(stem: String, message: String) throws {
        let error = try #require(throws: InputFileError.self) {
            try CheckpointSeries(files: Self.files + [Self.badFile(stem)])
        }
        #expect(error.description.contains(message), "\(error)")
        #expect(error.description.contains(stem) || error.description.contains("ckpt_000020"), "\(error)")
    }

    /// A vocabulary that cannot be read says so and why, not that its content is not a JSON array.
    @Test func unreadableVocabularySaysWhy() throws {
        let (model, _) = try Self.input(for: Self.files[1])
        let vocabulary = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-vocab-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: vocabulary) }
        // A sparse file one byte over the limit: no disk is used and nothing is read.
        #expect(FileManager.default.createFile(atPath: vocabulary.path, contents: nil))
        let handle = try FileHandle(forWritingTo: vocabulary)
        try handle.truncate(atOffset: UInt64(ImportedProbe.maxBatchFileBytes + 1))
        try handle.close()
        let source = ImportedProbe.BatchSource.text(file: Self.good.appendingPathComponent("metrics.csv").path,
                                                    vocabulary: vocabulary.path, tokenization: .char, batch: 1, steps: 1)
        let error = #expect(throws: InputFileError.self) { try ImportedProbe.batch(source, model: model, weights: "w") }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("cannot be read") && message.contains("\(ImportedProbe.maxBatchFileBytes)-byte limit"), "\(message)")
        #expect(!message.contains("JSON array"), "\(message)")
        // Text that is not JSON says where the parse stopped.
        try Data("[\"a\", \"b\"".utf8).write(to: vocabulary)
        let notJSON = #expect(throws: InputFileError.self) { try ImportedProbe.batch(source, model: model, weights: "w") }
        #expect(notJSON.map { "\($0)" }?.contains("is not valid JSON (Unexpected end of file") == true, "\(String(describing: notJSON))")
    }

    @Test func tooManyCheckpointsAreRefusedBeforeReadingAny() throws {
        let many = Array(repeating: "/nonexistent/x.safetensors", count: CheckpointSeries.maximumCount + 1)
        let error = try #require(throws: InputFileError.self) { try CheckpointSeries(files: many) }
        #expect(error.problem.contains("at most \(CheckpointSeries.maximumCount)"))
    }

    @Test func metricsInJSONLinesAndCSVAgree() throws {
        let jsonl = try TrainingMetrics.load(path: Self.good.appendingPathComponent("metrics.jsonl").path)
        let csv = try TrainingMetrics.load(path: Self.good.appendingPathComponent("metrics.csv").path)
        #expect(jsonl == csv)
        #expect(jsonl.steps.count == 45 && jsonl.steps.map(\.step) == Array(1...45))
        #expect(jsonl.evaluations.map(\.step) == [15, 30, 45])
        #expect(jsonl.unknownColumns == ["epoch"])
        let first = jsonl.steps[0]
        #expect(abs(first.loss - (2.2 * exp(-1.0 / 40) + 0.3)) < 1e-6)
        #expect(abs(first.perplexity - exp(first.loss)) < 1e-12)
        #expect(abs(first.gradientNorm - (0.6 + 0.8 * abs(sin(1.0)))) < 1e-6)
        #expect(first.clipped && first.clippedGradientNorm == 1.0)
        #expect(jsonl.steps[2].clipped == false)  // 0.6 + 0.8 |sin 3| < 1
        #expect(jsonl.steps[29].learningRate == 0.1 && jsonl.steps[30].learningRate == 0.05)
        #expect(jsonl.impliedClipThreshold == 1.0)
        // The validation line's train loss is the loss logged at that step.
        #expect(jsonl.evaluations[0].trainLoss == jsonl.steps[14].loss)
        #expect(abs(jsonl.evaluations[0].validLoss - (jsonl.steps[14].loss + 0.1)) < 1e-6)
    }

    @Test(arguments: [
        ("step,loss\n1,2.0\n3,1.9\n2,1.8\n", "line 4: step 2 comes after step 3 (line 3)"),
        ("{\"step\": 1, \"loss\": 2}\n{\"step\": 1, \"loss\": 2}\n", "line 2: step 1 is logged again"),
        ("{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\": NaN}\n", "line 2: is not a JSON object"),
        ("{\"step\": 1, \"loss\": 2}\n\n{\"step\": 2.5, \"loss\": 2}\n", "line 3: step 2.5 is not a whole number"),
        ("{\"step\": 1, \"loss\": \"low\"}\n", "line 1: loss is low, not a number"),
        ("step,loss\n1,2.0\n2,abc\n", "line 3: loss is \"abc\", not a number"),
        ("step,loss\n1,2.0,7\n", "line 2: has 3 fields but the header has 2"),
        ("time,value\n1,2\n", "line 1: the header"),
        ("step,loss,grad_norm\n1,2,-1\n", "line 2: grad_norm is -1.0; a norm is never negative"),
        ("{\"loss\": 2}\n", "line 1: has no step"),
        ("\n\n", "is empty"),
    ])
    func malformedMetricsAreNamedByLine(text: String, message: String) throws {
        let error = try #require(throws: InputFileError.self) { try TrainingMetrics.parse(Data(text.utf8), file: "m") }
        #expect(error.description.contains(message), "\(error)")
    }

    @Test func nonFiniteLossesAndMissingColumnsAreKept() throws {
        let metrics = try TrainingMetrics.parse(Data("{\"step\": 0, \"loss\": 3, \"lr\": null}\n{\"step\": 5, \"loss\": \"NaN\"}\n".utf8),
                                                file: "m")
        #expect(metrics.steps.count == 2 && metrics.steps[1].loss.isNaN)
        #expect(metrics.steps[0].gradientNorm.isNaN && metrics.steps[0].learningRate.isNaN && !metrics.steps[0].clipped)
        #expect(!metrics.hasGradientNorm && !metrics.hasClipping && metrics.impliedClipThreshold == 0)
    }

    @Test func seriesRecordFillsTheTrainingFieldsAndSummary() throws {
        let series = try CheckpointSeries(files: Self.files)
        let (model, input) = try Self.input(for: series.checkpoints[0].file)
        let probes = try ImportedProbe.probes(of: series, options: .init(), input: input, threads: 2)
        let metrics = try TrainingMetrics.load(path: Self.good.appendingPathComponent("metrics.jsonl").path)
        let source = ImportedProbe.Source(weightsFile: Self.good.path, batchFile: "tokens.json", batchSHA256: SHA256.hex(Data()), vocabulary: nil)
        let record = ImportedProbe.record(model: model, probes: probes, input: input, source: source, metrics: metrics,
                                          threads: 2, name: "series", command: ["probe"], toolVersion: "test")
        #expect(record.config.steps == 45 && record.summary.stepsCompleted == 45)
        #expect(record.config.optimizer == nil && record.config.clip == 1.0 && record.config.learningRate == 0.1)
        #expect(record.config.probeEvery == 20)
        #expect(record.steps.count == 45 && record.evaluations.count == 3)
        #expect(record.summary.finalValidLoss == metrics.evaluations.last!.validLoss)
        let clipped = Double(metrics.steps.filter(\.clipped).count) / 45
        #expect(record.summary.clippedFraction == clipped && clipped > 0 && clipped < 1)
        let top = { (p: ProbeRecord) in p.layers.first { $0.layer == 1 && $0.direction == .forward }! }
        #expect(record.summary.spectralRadiusFirst == top(probes[0]).spectrum.whole.spectralRadius)
        #expect(record.summary.spectralRadiusLast == top(probes[2]).spectrum.whole.spectralRadius)
        #expect(record.summary.decayPerStepFirst == top(probes[0]).decayPerStep)
        let decoded = try RecordCoding.decoder().decode(RunRecord.self, from: RecordCoding.encode(record))
        #expect(decoded.steps.count == 45)
    }
}
