// Run records and charts for the report tests: a simple RNN whose gradient vanishes and an LSTM
// whose gradient survives the window, with every field a real run fills (the recall answers'
// lag profile included), so the report (and the chart renderer behind `ReportWriter`) sees
// realistic data. All numbers are deterministic.

import DiagnoseRecord
import Foundation
@testable import Renderer

enum ReportFixtures {
    static let window = 30
    static let hidden = 8
    static let stepCount = 200
    static let renderOptions = RenderOptions(scale: 1)

    /// A small deterministic generator (64-bit LCG) for the jitter in the fixtures.
    struct Jitter {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        /// A factor in 1 ± amount.
        mutating func factor(_ amount: Double) -> Double { 1 + amount * (2 * next() - 1) }
    }

    static let recallLag = 10

    /// r(l) = g(l) / g(0) of the fixture cells: geometric decay for the RNN, a floor of 0.3 for the LSTM.
    static func relativeGradient(cell: String, lag: Int, progress: Double) -> Double {
        if cell == "rnn" {
            return pow(0.40 + 0.06 * progress, Double(lag))
        }
        let floor = 0.05 + 0.25 * progress
        return floor + (1 - floor) * pow(0.8, Double(lag))
    }

    /// The same restricted to the recall answers: like r(l), with a peak at the recall lag that
    /// grows over training for the LSTM.
    static func recallGradient(cell: String, lag: Int, progress: Double) -> Double {
        let peak = cell == "lstm" && lag == recallLag ? 1 + 4 * progress : 1
        return relativeGradient(cell: cell, lag: lag, progress: progress) * peak
    }

    static func record(name: String, cell: String, seed: UInt64 = 7, learningRate: Double = 0.01,
                       corpusName: String = "synthetic-recall", probeTokens: [String]? = nil) -> RunRecord {
        let T = window, H = hidden
        var jitter = Jitter(state: seed &+ UInt64(cell.utf8.count))
        let gateNames: [(String, GateFunction)] = cell == "lstm"
            ? [("input", .sigmoid), ("forget", .sigmoid), ("candidate", .tanh), ("output", .sigmoid)]
            : [("activation", .tanh)]
        let config = RunConfig(
            cell: CellKind(rawValue: cell)!, activation: .tanh, layers: 1, bidirectional: false, hidden: H, embed: 8, batch: 16,
            bptt: T, steps: stepCount, optimizer: .adam, learningRate: learningRate, clip: 1.0, seed: seed,
            initialization: .xavier, spectralRadius: nil, forgetBias: 1.0, probeEvery: 100, evalEvery: 50,
            tokenize: .char, vocabSizeLimit: nil, validFraction: 0.1, lag: recallLag, threads: 1)
        let corpus = CorpusInfo(
            name: corpusName, synthetic: true,
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            tokens: 1_500_000, trainTokens: 1_350_000, validTokens: 150_000, vocabularySize: 17,
            recall: RecallTask(lag: recallLag, letters: 16))
        let parameters = cell == "lstm"
            ? [ParameterInfo(name: "lstm.weight_ih_l0", shape: [4 * H, 8]), ParameterInfo(name: "lstm.weight_hh_l0", shape: [4 * H, H])]
            : [ParameterInfo(name: "rnn.weight_ih_l0", shape: [H, 8]), ParameterInfo(name: "rnn.weight_hh_l0", shape: [H, H])]

        var steps: [StepRecord] = []
        var clippedSteps = 0
        for step in 1...stepCount {
            let progress = Double(step) / Double(stepCount)
            let loss = (cell == "lstm" ? 2.33 : 2.55) + 0.55 * exp(-6 * progress) * jitter.factor(0.05)
            let norm = (cell == "lstm" ? 1.4 : 0.8) * jitter.factor(0.5)
            let clipped = norm > config.clip
            if clipped { clippedSteps += 1 }
            steps.append(StepRecord(step: step, loss: loss, perplexity: exp(loss), gradientNorm: norm,
                                    clippedGradientNorm: min(norm, config.clip), clipped: clipped,
                                    learningRate: learningRate))
        }
        let evaluations = stride(from: 50, through: stepCount, by: 50).map { step -> EvaluationRecord in
            let progress = Double(step) / Double(stepCount)
            let valid = (cell == "lstm" ? 2.35 : 2.58) + 0.5 * exp(-6 * progress)
            return EvaluationRecord(step: step, trainLoss: valid - 0.02, validLoss: valid, validPerplexity: exp(valid),
                                    recallAccuracy: cell == "lstm" ? 0.06 + 0.93 * progress : 0.0625 + 0.1 * progress)
        }

        let probes = [0, 100, 200].map { step -> ProbeRecord in
            let progress = Double(step) / Double(stepCount)
            let keepActivations = step == 0 || step == stepCount
            let local = 0.5 * jitter.factor(0.1)
            let profile = (0..<T).map { local * relativeGradient(cell: cell, lag: $0, progress: progress) }
            let flow = (0..<T).map { t in
                (0...t).map { j in local * relativeGradient(cell: cell, lag: t - j, progress: progress) * jitter.factor(0.2) }
            }
            let horizon = profile.firstIndex { $0 / profile[0] < 1e-3 }
            let decay = cell == "rnn" ? 0.40 + 0.06 * progress : 0.96 + 0.02 * progress
            let radius = cell == "rnn" ? 0.85 + 0.15 * progress : 0.9 + 0.2 * progress
            let eigenvalues = (0..<H).map { k -> [Double] in
                let modulus = radius * (1 - 0.08 * Double(k))
                let angle = Double(k / 2 + 1) * 0.7 * (k % 2 == 0 ? 1 : -1)
                return [modulus * cos(angle), modulus * sin(angle)]
            }
            let singular = (0..<H).map { radius * 1.4 * (1 - 0.1 * Double($0)) }
            let whole = MatrixSpectrum(matrix: "W_hh", eigenvalues: eigenvalues, singularValues: singular,
                                       spectralRadius: radius)
            let blocks = cell == "lstm"
                ? gateNames.map { MatrixSpectrum(matrix: $0.0, eigenvalues: eigenvalues, singularValues: singular, spectralRadius: radius) }
                : []
            let size = cell == "lstm" ? 2 * H : H
            let stepSingular = (1..<T).map { _ in (0..<size).map { decay * (1 - 0.05 * Double($0)) * jitter.factor(0.1) } }
            let products = (1..<T).map { l in (0..<4).map { pow(decay * (1 - 0.05 * Double($0)), Double(l)) } }
            let lyapunov = products.enumerated().map { l, row in row.map { log($0) / Double(l + 1) } }
            let gates = gateNames.map { gate -> GateRecord in
                let activations: [[Double]]? = keepActivations
                    ? (0..<T).map { t in (0..<H).map { h in activation(function: gate.1, t: t, h: h) } }
                    : nil
                let lower = gate.1 == .sigmoid ? 0.0 : -1.0
                let counts = (0..<50).map { _ in 10 + Int(20 * jitter.next()) }
                let saturated = gate.0 == "forget" ? 0.1 + 0.3 * progress : 0.05 + 0.1 * progress
                return GateRecord(name: gate.0, function: gate.1, activations: activations,
                                  histogram: Histogram(lower: lower, upper: 1, counts: counts),
                                  saturatedLow: gate.1 == .sigmoid ? saturated / 2 : nil,
                                  saturatedHigh: saturated / 2, saturated: saturated)
            }
            var layer = LayerProbe(
                layer: 0, direction: .forward, gradientFlow: flow, lagProfile: profile, decayPerStep: decay,
                horizon: horizon,
                cellGradientFlow: cell == "lstm" ? flow : nil, cellLagProfile: cell == "lstm" ? profile.map { $0 * 1.2 } : nil,
                cellDecayPerStep: cell == "lstm" ? decay : nil, cellHorizon: nil,
                spectrum: SpectrumRecord(whole: whole, blocks: blocks, gamma: cell == "rnn" ? 1 : nil,
                                         vanishingGuaranteed: cell == "rnn" ? radius < 1 : nil),
                jacobians: JacobianRecord(size: size, stepSingularValues: stepSingular,
                                          productSingularValues: products, lyapunovExponents: lyapunov),
                gates: gates)
            // Null at the last lag, as in a real run where no answer falls far enough into the window.
            layer.recallLagProfile = (0..<T).map { l in
                l == T - 1 ? nil : 0.2 * local * recallGradient(cell: cell, lag: l, progress: progress)
            }
            let stepLosses = [(0..<T).map { t in 2.8 - 0.3 * progress - (t == 11 ? 0.5 * progress : 0) }]
            let gradientNorms = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, 0.1 + Double($0.shape[0]) / 100) })
            return ProbeRecord(step: step, stepLosses: stepLosses, parameterGradientNorms: gradientNorms, layers: [layer])
        }
        let first = probes.first!.layers[0]
        let last = probes.last!.layers[0]
        let saturation = Dictionary(uniqueKeysWithValues: last.gates.map { ($0.name, $0.saturated) })
        let finalEvaluation = evaluations.last!
        let summary = RunSummary(
            finalTrainLoss: steps.last!.loss, finalTrainPerplexity: steps.last!.perplexity,
            finalValidLoss: finalEvaluation.validLoss, finalValidPerplexity: finalEvaluation.validPerplexity,
            recallAccuracy: finalEvaluation.recallAccuracy, decayPerStep: last.decayPerStep, horizon: last.horizon,
            decayPerStepFirst: first.decayPerStep, horizonFirst: first.horizon,
            spectralRadiusFirst: first.spectrum.whole.spectralRadius,
            spectralRadiusLast: last.spectrum.whole.spectralRadius,
            clippedFraction: Double(clippedSteps) / Double(stepCount), gateSaturation: saturation,
            tokensPerSecond: cell == "lstm" ? 48_213.7 : 131_072.4, seconds: cell == "lstm" ? 31.3 : 11.6,
            stepsCompleted: stepCount)
        let tokens = probeTokens ?? (0..<T).map(probeToken)
        return RunRecord(
            tool: ToolInfo(version: "0.1.0"), name: name,
            command: ["--cell", cell, "--steps", String(stepCount), "--seed", String(seed)],
            config: config, corpus: corpus, parameterCount: cell == "lstm" ? 1_234 + 4 * H * (8 + H) : 12_345,
            parameters: parameters, steps: steps, evaluations: evaluations, probes: probes, probeTokens: tokens,
            summary: summary)
    }

    /// A smooth made-up activation pattern over steps t and units h.
    static func activation(function: GateFunction, t: Int, h: Int) -> Double {
        let phase = sin(Double(t * hidden + h))
        if function == .sigmoid { return 1 / (1 + exp(-3 * phase)) }
        return tanh(2 * sin(Double(t + 3 * h)))
    }

    /// The recall corpus as text: symbols a...p, a marker "#" every 12 steps.
    static func probeToken(_ t: Int) -> String {
        if t % 12 == 11 { return "#" }
        return String(UnicodeScalar(UInt8(97 + (t * 7) % 16)))
    }

    static var rnn: RunRecord { record(name: "rnn", cell: "rnn") }
    static var lstm: RunRecord { record(name: "lstm", cell: "lstm") }

    // MARK: Charts

    static let runChartIDs = RunCharts.ids
    static let comparisonChartIDs = CompareCharts.ids

    /// A chart with a tiny valid PNG that claims `width` x `height` pixels at `scale`.
    static func chart(_ id: ChartID, title: String? = nil, width: Int = 1200, height: Int = 800, scale: Double = 2) -> ChartImage {
        ChartImage(id: id, title: title ?? "Chart \(id.rawValue)",
                   png: FixturePNG.encode(width: 3, height: 2), width: width, height: height, scale: scale)
    }

    /// The report's caption of chart `id` over `records` (a run chart: of the first record).
    static func caption(_ id: ChartID, _ records: [RunRecord]) -> String {
        let lag = GradientVerdict.referenceLag(for: records)
        return ReportCaptions.comparison(id, records: records, verdicts: records.map { GradientVerdict(record: $0, referenceLag: lag) })
    }

    static func reportRun(_ record: RunRecord, directoryLink: String? = nil) -> ReportRun {
        ReportRun(record: record, directoryLink: directoryLink ?? record.name,
                  charts: runChartIDs.map { chart($0, title: "\($0.rawValue) of \(record.name)") })
    }

    static var comparisonCharts: [ChartImage] { comparisonChartIDs.map { chart($0, width: 1800, height: 840) } }

    // MARK: Files

    /// A fresh empty folder under the system's temporary folder.
    static func temporaryDirectory(_ label: String = "report") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("diagnose-\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `record` as `<directory>/run.json`, creating the folder.
    @discardableResult
    static func writeRun(_ record: RunRecord, to directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try RecordCoding.encode(record).write(to: directory.appendingPathComponent("run.json"))
        return directory
    }
}

/// The smallest honest PNG encoder: 8-bit RGB, zlib stream of stored (uncompressed) deflate blocks.
enum FixturePNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func encode(width: Int, height: Int) -> Data {
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)  // filter: none
            for x in 0..<width { raw += [UInt8(40 * x), UInt8(90 * y), 200] }
        }
        var zlib: [UInt8] = [0x78, 0x01, 1]  // header, then one final stored block
        let n = raw.count
        zlib += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
        zlib += raw
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += bigEndian((b << 16) | a)
        var png = signature
        png += chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0])
        png += chunk("IDAT", zlib)
        png += chunk("IEND", [])
        return Data(png)
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xffff_ffff
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc ^ 0xffff_ffff)
    }
}
