// Realistic run records with synthetic numbers, for drawing every chart without training:
// a simple RNN whose gradient decays like 0.6^l, an LSTM whose hidden gradient decays like 0.97^l
// (and its cell state slower still), a GRU, and the broken records the renderer must survive.

import DiagnoseRecord
import Foundation

/// SplitMix64: a tiny deterministic generator so sample records are identical on every run.
struct SampleRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

enum SampleRecords {
    static let text = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
        + "The slings and arrows of outrageous fortune"

    /// A run of `cell` ("rnn", "lstm" or "gru") with T steps per window, H units, `probeCount` probes
    /// over `steps` optimiser steps.
    static func run(cell: String, name: String? = nil, T: Int = 64, H: Int = 128, probeCount: Int = 10,
                    steps: Int = 1000, layers: Int = 1, bidirectional: Bool = false, seed: UInt64 = 7) -> RunRecord {
        var rng = SampleRandom(seed: seed &+ UInt64(cell.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        let V = 65, E = 32
        let config = RunConfig(cell: CellKind(rawValue: cell)!, activation: .tanh, layers: layers, bidirectional: bidirectional, hidden: H,
                               embed: E, batch: 32, bptt: T, steps: steps, optimizer: .adam, learningRate: 2e-3,
                               clip: 1.0, seed: 7, initialization: .orthogonal, spectralRadius: nil,
                               forgetBias: cell == "lstm" ? 1 : 0, probeEvery: max(1, steps / max(1, probeCount - 1)),
                               evalEvery: 100, tokenize: .char, vocabSizeLimit: nil, validFraction: 0.1, lag: nil,
                               threads: 2)
        let corpus = CorpusInfo(name: "shakespeare.txt", synthetic: false, sha256: String(repeating: "ab", count: 32),
                                tokens: 1_115_394, trainTokens: 1_003_854, validTokens: 111_540, vocabularySize: V)
        let gates = gateNames(cell)
        let k = gates.count
        var parameters = [ParameterInfo(name: "encoder.weight", shape: [V, E])]
        for l in 0..<layers {
            let input = l == 0 ? E : H * (bidirectional ? 2 : 1)
            for suffix in bidirectional ? ["", "_reverse"] : [""] {
                parameters += [
                    ParameterInfo(name: "rnn.weight_ih_l\(l)\(suffix)", shape: [k * H, input]),
                    ParameterInfo(name: "rnn.weight_hh_l\(l)\(suffix)", shape: [k * H, H]),
                    ParameterInfo(name: "rnn.bias_ih_l\(l)\(suffix)", shape: [k * H]),
                    ParameterInfo(name: "rnn.bias_hh_l\(l)\(suffix)", shape: [k * H]),
                ]
            }
        }
        parameters += [ParameterInfo(name: "decoder.weight", shape: [V, H * (bidirectional ? 2 : 1)]),
                       ParameterInfo(name: "decoder.bias", shape: [V])]

        // Training curve: from log V towards a floor, noisy; gradient norms with spikes.
        let floor = cell == "rnn" ? 1.75 : (cell == "lstm" ? 1.45 : 1.52)
        var stepRecords: [StepRecord] = []
        var clippedCount = 0
        for s in 0..<steps {
            let progress = Double(s) / Double(max(1, steps))
            let loss = floor + (log(Double(V)) - floor) * exp(-progress * 5) + 0.06 * rng.normal()
            var norm = (cell == "rnn" ? 0.9 : 0.6) * exp(0.35 * rng.normal()) * (1 + 2 * exp(-progress * 8))
            if rng.uniform() < 0.01 { norm *= 6 }
            let clipped = norm > 1.0
            if clipped { clippedCount += 1 }
            stepRecords.append(StepRecord(step: s, loss: loss, perplexity: exp(loss), gradientNorm: norm,
                                          clippedGradientNorm: min(norm, 1.0), clipped: clipped, learningRate: 2e-3))
        }
        var evaluations: [EvaluationRecord] = []
        for s in Swift.stride(from: 0, through: steps, by: 100) {
            let progress = Double(s) / Double(max(1, steps))
            let train = floor + (log(Double(V)) - floor) * exp(-progress * 5)
            let valid = train + 0.05 + 0.08 * progress
            evaluations.append(EvaluationRecord(step: s, trainLoss: train, validLoss: valid, validPerplexity: exp(valid)))
        }

        // Probes.
        var probes: [ProbeRecord] = []
        let probeSteps = (0..<probeCount).map { probeCount == 1 ? steps : $0 * (steps - 1) / max(1, probeCount - 1) }
        for (p, step) in probeSteps.enumerated() {
            let progress = probeCount == 1 ? 1 : Double(p) / Double(probeCount - 1)
            let keep = p == 0 || p == probeCount - 1
            var layerProbes: [LayerProbe] = []
            for l in 0..<layers {
                for direction in bidirectional ? [Direction.forward, .backward] : [.forward] {
                    layerProbes.append(layer(cell: cell, layer: l, direction: direction, T: T, H: H, progress: progress,
                                             keepActivations: keep, rng: &rng))
                }
            }
            let stepLosses = (bidirectional ? [0, 1] : [0]).map { _ in
                (0..<T).map { t in floor + 1.2 * exp(-Double(t) / 6) * (1 - 0.5 * progress) + 0.05 * rng.normal() }
            }
            var norms: [String: Double] = [:]
            for parameter in parameters { norms[parameter.name] = 0.05 + 0.3 * rng.uniform() }
            probes.append(ProbeRecord(step: step, stepLosses: stepLosses, parameterGradientNorms: norms, layers: layerProbes))
        }
        let top = probes.last?.layers.last(where: { $0.direction == .forward })
        let tokens = Array(text.prefix(T)).map(String.init)
        var saturation: [String: Double] = [:]
        for g in top?.gates ?? [] { saturation[g.name] = g.saturated }
        let summary = RunSummary(finalTrainLoss: stepRecords.last?.loss, finalTrainPerplexity: stepRecords.last?.perplexity,
                                 finalValidLoss: evaluations.last?.validLoss, finalValidPerplexity: evaluations.last?.validPerplexity,
                                 decayPerStep: top?.decayPerStep, horizon: top?.horizon,
                                 spectralRadiusFirst: probes.first?.layers.first?.spectrum.whole.spectralRadius,
                                 spectralRadiusLast: probes.last?.layers.first?.spectrum.whole.spectralRadius,
                                 clippedFraction: Double(clippedCount) / Double(max(1, steps)), gateSaturation: saturation,
                                 tokensPerSecond: 52_000, seconds: 61.5, stepsCompleted: steps)
        return RunRecord(tool: ToolInfo(version: "0.1.0"), name: name ?? cell,
                         command: ["train", "--cell", cell, "--steps", String(steps)], config: config, corpus: corpus,
                         parameterCount: parameters.reduce(0) { $0 + $1.shape.reduce(1, *) }, parameters: parameters,
                         steps: stepRecords, evaluations: evaluations, probes: probes, probeTokens: tokens,
                         status: RunStatus(), summary: summary)
    }

    static func gateNames(_ cell: String) -> [String] {
        switch cell {
        case "lstm": return ["input", "forget", "candidate", "output"]
        case "gru": return ["update", "reset", "candidate"]
        default: return ["activation"]
        }
    }

    /// Per-step decay of the hidden-state gradient: early (progress 0) to late (progress 1).
    static func decayRate(_ cell: String, progress: Double) -> Double {
        switch cell {
        case "rnn": return 0.5 + 0.1 * progress
        case "lstm": return 0.9 + 0.07 * progress
        default: return 0.82 + 0.1 * progress
        }
    }

    static func flow(T: Int, rate: Double, scale: Double, rng: inout SampleRandom) -> [[Double]] {
        var G: [[Double]] = []
        for t in 0..<T {
            let rowScale = scale * (1 + 0.3 * Double(t) / Double(T))
            var row: [Double] = []
            for j in 0...t {
                let noise = exp(0.15 * rng.normal())
                row.append(rowScale * pow(rate, Double(t - j)) * noise)
            }
            G.append(row)
        }
        return G
    }

    static func lagProfile(_ G: [[Double]]) -> [Double] {
        let T = G.count
        return (0..<T).map { l in
            var sum = 0.0
            for t in l..<T { sum += G[t][t - l] }
            return sum / Double(T - l)
        }
    }

    static func fit(_ g: [Double]) -> (decay: Double?, horizon: Int?) {
        let points = g.enumerated().filter { $0.element > 0 && $0.element.isFinite }
        guard points.count >= 2 else { return (nil, nil) }
        let n = Double(points.count)
        let mx = points.reduce(0.0) { $0 + Double($1.offset) } / n
        let my = points.reduce(0.0) { $0 + log($1.element) } / n
        var sxy = 0.0, sxx = 0.0
        for p in points { sxy += (Double(p.offset) - mx) * (log(p.element) - my); sxx += pow(Double(p.offset) - mx, 2) }
        let horizon = g.firstIndex { $0 / g[0] < 1e-3 }
        return (exp(sxy / sxx), horizon)
    }

    static func layer(cell: String, layer: Int, direction: Direction, T: Int, H: Int, progress: Double,
                      keepActivations: Bool, rng: inout SampleRandom) -> LayerProbe {
        let rate = decayRate(cell, progress: progress) - 0.03 * Double(layer)
        let G = flow(T: T, rate: rate, scale: 0.02, rng: &rng)
        let g = lagProfile(G)
        let (decay, horizon) = fit(g)
        var cellG: [[Double]]? = nil, cellG2: [Double]? = nil, cellDecay: Double? = nil, cellHorizon: Int? = nil
        if cell == "lstm" {
            let c = flow(T: T, rate: 0.95 + 0.035 * progress, scale: 0.01, rng: &rng)
            cellG = c
            cellG2 = lagProfile(c)
            (cellDecay, cellHorizon) = fit(cellG2!)
        }
        // Spectra: the RNN starts orthogonal (all |lambda| = 0.95) and spreads out; gated blocks sit inside.
        func eigenvalues(radius: Double, spread: Double) -> [[Double]] {
            var values: [[Double]] = []
            while values.count < H {
                let angle = rng.uniform() * .pi
                let r = radius * (1 - spread * rng.uniform().squareRoot())
                if values.count + 1 < H && angle > 0.02 {
                    values.append([r * cos(angle), r * sin(angle)])
                    values.append([r * cos(angle), -r * sin(angle)])
                } else {
                    values.append([r * (rng.uniform() < 0.5 ? -1 : 1), 0])
                }
            }
            return values.sorted { hypot($0[0], $0[1]) > hypot($1[0], $1[1]) }
        }
        func singulars(top: Double, spread: Double) -> [Double] {
            (0..<H).map { i in top * (1 - spread * Double(i) / Double(H)) }
        }
        let spectrum: SpectrumRecord
        if cell == "rnn" {
            let e = eigenvalues(radius: 0.95 + 0.08 * progress, spread: 0.9 * progress)
            let radius = hypot(e[0][0], e[0][1])
            spectrum = SpectrumRecord(whole: MatrixSpectrum(matrix: "W_hh", eigenvalues: e,
                                                            singularValues: singulars(top: 0.95 + 0.45 * progress, spread: 0.95 * progress),
                                                            spectralRadius: radius),
                                      blocks: [], gamma: 1, vanishingGuaranteed: radius < 1)
        } else {
            let names = gateNames(cell)
            let blocks = names.map { name -> MatrixSpectrum in
                let e = eigenvalues(radius: 0.45 + 0.25 * progress + (name == "forget" ? 0.1 : 0), spread: 0.8)
                return MatrixSpectrum(matrix: name, eigenvalues: e, singularValues: singulars(top: 0.6 + 0.4 * progress, spread: 0.9),
                                      spectralRadius: hypot(e[0][0], e[0][1]))
            }
            let whole = MatrixSpectrum(matrix: "W_hh", eigenvalues: [],
                                       singularValues: singulars(top: (cell == "lstm" ? 1.1 : 0.95) + 0.5 * progress, spread: 0.9),
                                       spectralRadius: blocks.map(\.spectralRadius).max() ?? 0)
            spectrum = SpectrumRecord(whole: whole, blocks: blocks, gamma: nil, vanishingGuaranteed: nil)
        }
        // Jacobian products: sigma_i(l) = exp(l * lambda_i).
        let size = cell == "lstm" ? 2 * H : H
        let leading = 8
        let lambdas = (0..<leading).map { i in log(rate) - 0.04 * Double(i) - (cell == "lstm" ? 0 : 0.02 * Double(i)) }
        let products = (1..<T).map { l in lambdas.map { exp(Double(l) * $0 + 0.05 * rng.normal()) } }
        let lyapunov = products.enumerated().map { i, s in s.map { log($0) / Double(i + 1) } }
        let stepSingulars = (1..<T).map { _ in (0..<min(size, 16)).map { i in rate * 1.3 * exp(-0.08 * Double(i)) } }
        let jacobians = JacobianRecord(size: size, stepSingularValues: stepSingulars, productSingularValues: products,
                                       lyapunovExponents: lyapunov)
        // Gate activations over T steps x H units.
        var gates: [GateRecord] = []
        for name in gateNames(cell) {
            let function: GateFunction = (name == "candidate" || name == "activation") ? .tanh : .sigmoid
            let bias = name == "forget" ? 1.5 + progress : (name == "input" ? -0.5 : 0)
            let gain = 1 + 2.5 * progress
            let unitBias = (0..<H).map { _ in rng.normal() }
            let activations: [[Double]] = (0..<T).map { t in
                (0..<H).map { u in
                    let z = gain * (0.8 * unitBias[u] + 0.7 * sin(Double(t) * 0.7 + Double(u))) + bias + 0.3 * rng.normal()
                    return function == .tanh ? tanh(z) : 1 / (1 + exp(-z))
                }
            }
            let flat = activations.flatMap { $0 }
            let lower = function == .tanh ? -1.0 : 0.0
            var counts = [Int](repeating: 0, count: 50)
            for v in flat { counts[min(49, max(0, Int((v - lower) / (1 - lower) * 50)))] += 1 }
            let n = Double(flat.count)
            let low = function == .sigmoid ? Double(flat.filter { $0 < 0.1 }.count) / n : nil
            let high = function == .sigmoid ? Double(flat.filter { $0 > 0.9 }.count) / n : Double(flat.filter { abs($0) > 0.9 }.count) / n
            gates.append(GateRecord(name: name, function: function, activations: keepActivations ? activations : nil,
                                    histogram: Histogram(lower: lower, upper: 1, counts: counts), saturatedLow: low,
                                    saturatedHigh: high, saturated: (low ?? 0) + high))
        }
        return LayerProbe(layer: layer, direction: direction, gradientFlow: G, lagProfile: g, decayPerStep: decay,
                          horizon: horizon, cellGradientFlow: cellG, cellLagProfile: cellG2, cellDecayPerStep: cellDecay,
                          cellHorizon: cellHorizon, spectrum: spectrum, jacobians: jacobians, gates: gates)
    }
}

// MARK: - Broken records

extension SampleRecords {
    /// A small record (fast to draw) for the robustness cases.
    static func small(cell: String = "lstm") -> RunRecord {
        run(cell: cell, T: 16, H: 12, probeCount: 3, steps: 60)
    }

    /// Every floating-point number of the record passed through `f` (steps, evaluations, probes).
    static func mapNumbers(_ record: RunRecord, _ f: (Double) -> Double) -> RunRecord {
        var r = record
        func m(_ v: Double?) -> Double? { v.map(f) }
        func m1(_ a: [Double]) -> [Double] { a.map(f) }
        func m2(_ a: [[Double]]) -> [[Double]] { a.map(m1) }
        r.steps = r.steps.map {
            StepRecord(step: $0.step, loss: f($0.loss), perplexity: f($0.perplexity), gradientNorm: f($0.gradientNorm),
                       clippedGradientNorm: f($0.clippedGradientNorm), clipped: $0.clipped, learningRate: $0.learningRate)
        }
        r.evaluations = r.evaluations.map {
            EvaluationRecord(step: $0.step, trainLoss: f($0.trainLoss), validLoss: f($0.validLoss),
                             validPerplexity: f($0.validPerplexity))
        }
        func spectrum(_ s: MatrixSpectrum) -> MatrixSpectrum {
            MatrixSpectrum(matrix: s.matrix, eigenvalues: m2(s.eigenvalues), singularValues: m1(s.singularValues),
                           spectralRadius: f(s.spectralRadius))
        }
        r.probes = r.probes.map { probe in
            ProbeRecord(step: probe.step, stepLosses: m2(probe.stepLosses), parameterGradientNorms: probe.parameterGradientNorms.mapValues(f),
                        layers: probe.layers.map { l in
                LayerProbe(layer: l.layer, direction: l.direction, gradientFlow: m2(l.gradientFlow), lagProfile: m1(l.lagProfile),
                           decayPerStep: m(l.decayPerStep), horizon: l.horizon, cellGradientFlow: l.cellGradientFlow.map(m2),
                           cellLagProfile: l.cellLagProfile.map(m1), cellDecayPerStep: m(l.cellDecayPerStep), cellHorizon: l.cellHorizon,
                           spectrum: SpectrumRecord(whole: spectrum(l.spectrum.whole), blocks: l.spectrum.blocks.map(spectrum),
                                                    gamma: l.spectrum.gamma, vanishingGuaranteed: l.spectrum.vanishingGuaranteed),
                           jacobians: JacobianRecord(size: l.jacobians.size, stepSingularValues: m2(l.jacobians.stepSingularValues),
                                                     productSingularValues: m2(l.jacobians.productSingularValues),
                                                     lyapunovExponents: m2(l.jacobians.lyapunovExponents)),
                           gates: l.gates.map { g in
                               GateRecord(name: g.name, function: g.function, activations: g.activations.map(m2), histogram: g.histogram,
                                          saturatedLow: m(g.saturatedLow), saturatedHigh: m(g.saturatedHigh), saturated: f(g.saturated))
                           })
            })
        }
        return r
    }

    /// The robustness cases by name: every chart must render each of them, with a note where data is unusable.
    static func brokenCases() -> [(name: String, record: RunRecord)] {
        var cases: [(String, RunRecord)] = []
        cases.append(("all NaN", mapNumbers(small(), { _ in .nan })))
        var flip = false
        cases.append(("infinities", mapNumbers(small(cell: "rnn"), { v in flip.toggle(); return flip ? .infinity : -.infinity })))
        cases.append(("all zero", mapNumbers(small(), { _ in 0 })))
        cases.append(("constant", mapNumbers(small(cell: "gru"), { _ in 0.5 })))
        var k = 0
        cases.append(("1e-40 ... 1e40", mapNumbers(small(cell: "rnn"), { v in
            k += 7
            return (v < 0 ? -1 : 1) * pow(10, Double(k % 81) - 40)
        })))
        var mixed = 0
        cases.append(("some NaN", mapNumbers(small(), { v in mixed += 1; return mixed % 5 == 0 ? .nan : v })))
        cases.append(("single point", run(cell: "lstm", T: 1, H: 1, probeCount: 1, steps: 1)))
        var empty = small(cell: "rnn")
        empty.steps = []
        empty.evaluations = []
        empty.probes = []
        empty.probeTokens = []
        empty.summary = RunSummary()
        cases.append(("empty", empty))
        cases.append(("diverged", diverged()))
        cases.append(("bidirectional 2-layer", run(cell: "lstm", T: 12, H: 8, probeCount: 2, steps: 40, layers: 2, bidirectional: true)))
        var noActivations = small(cell: "gru")
        noActivations.probes = noActivations.probes.map { p in
            var p = p
            p.layers = p.layers.map { l in
                var l = l
                l.gates = l.gates.map { g in var g = g; g.activations = nil; return g }
                return l
            }
            return p
        }
        cases.append(("no activations", noActivations))
        return cases
    }

    /// A simple RNN that blew up: its loss became NaN at step 412 and training stopped there.
    static func diverged() -> RunRecord {
        var r = run(cell: "rnn", T: 16, H: 12, probeCount: 6, steps: 1000)
        r.steps = Array(r.steps.prefix(413))
        r.steps[410].gradientNorm = 1e12
        r.steps[411].gradientNorm = .infinity
        r.steps[412].loss = .nan
        r.steps[412].perplexity = .nan
        r.steps[412].gradientNorm = .nan
        r.evaluations = r.evaluations.filter { $0.step <= 412 }
        r.probes = r.probes.filter { $0.step <= 412 }
        r.status = RunStatus(divergedAtStep: 412, divergenceReason: "loss is NaN")
        r.summary.stepsCompleted = 412
        return r
    }
}
