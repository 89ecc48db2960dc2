import DiagnoseRecord
import Testing
@testable import TrainingCore

@Suite struct GradientFlowTests {
    static let cases: [ModelConfig] = [
        ModelConfig(cell: .rnn, activation: .tanh, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .rnn, activation: .relu, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .lstm, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .gru, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .rnn, layers: 2, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .lstm, layers: 2, bidirectional: true, vocabularySize: 6, embed: 3, hidden: 4),
        ModelConfig(cell: .gru, layers: 2, bidirectional: true, vocabularySize: 6, embed: 3, hidden: 4),
    ] + skipCases

    /// Skip connections change which paths reach a lower layer: G and D must still be exact.
    static let skipCases: [ModelConfig] = [
        ModelConfig(cell: .rnn, layers: 3, vocabularySize: 6, embed: 3, hidden: 4, connections: .residual),
        ModelConfig(cell: .lstm, layers: 3, bidirectional: true, vocabularySize: 6, embed: 3, hidden: 4,
                    connections: .residual),
        ModelConfig(cell: .gru, layers: 3, vocabularySize: 6, embed: 3, hidden: 4, connections: .dense),
        ModelConfig(cell: .lstm, layers: 3, bidirectional: true, vocabularySize: 6, embed: 3, hidden: 4,
                    connections: .dense),
    ]

    static func setUp(_ config: ModelConfig, batch: Int = 2, steps: Int = 5) -> (LanguageModel, Batch, Workspace) {
        let model = LanguageModel(config: config)
        model.initialize(Initialization(seed: 11))
        var generator = SeededGenerator(seed: 5)
        let window = (0..<((steps + 1) * batch)).map { _ in Int32(generator.nextInt(below: config.vocabularySize)) }
        let data = Batch(batch: batch, steps: steps, window: window, recall: nil)
        let workspace = Workspace(model: model)
        model.forward(data, state: nil, workspace: workspace)
        return (model, data, workspace)
    }

    /// d l_b(t) / d state_b(j) by central differences on every coordinate, then mean_b of the norm.
    static func finiteDifferenceG(model: LanguageModel, data: Batch, workspace: Workspace, direction: Int,
                                  layer: Int, t: Int, j: Int, cellState: Bool) -> Double {
        let B = data.batch, H = model.config.hidden
        let g = meanNormOfCentralDifferences(batch: B, hidden: H, nudge: { nudge in
            workspace.perturbation = StatePerturbation(direction: direction, layer: layer, step: j,
                                                       hidden: cellState ? nil : nudge, cell: cellState ? nudge : nil)
        }, loss: { b in
            model.forward(data, state: nil, workspace: workspace)
            return Double(workspace.rowLosses[direction][t * B + b])
        })
        workspace.perturbation = nil
        model.forward(data, state: nil, workspace: workspace)
        return g
    }

    /// mean over b of || d loss(b) / d state_b ||: central differences of `loss(b)` on every
    /// coordinate (b, i) of a (B, H) nudge of the state, which `nudge` applies before each loss.
    static func meanNormOfCentralDifferences(batch B: Int, hidden H: Int, nudge apply: ([Float]) -> Void,
                                             loss: (Int) -> Double) -> Double {
        let epsilon: Float = 1e-2
        var total = 0.0
        for b in 0..<B {
            var squared = 0.0
            for i in 0..<H {
                var nudge = [Float](repeating: 0, count: B * H)
                func nudged(_ sign: Float) -> Double {
                    nudge[b * H + i] = sign * epsilon
                    apply(nudge)
                    return loss(b)
                }
                let derivative = (nudged(1) - nudged(-1)) / (2 * Double(epsilon))
                squared += derivative * derivative
            }
            total += squared.squareRoot()
        }
        return total / Double(B)
    }

    @Test(arguments: cases)
    func matchesFiniteDifferences(config: ModelConfig) {
        let (model, data, workspace) = Self.setUp(config)
        let flows = model.gradientFlow(data, workspace: workspace)
        #expect(flows.count == config.layers * config.directions)
        for flow in flows {
            let scale = flow.hidden.joined().max()!
            for t in 0..<data.steps {
                for j in 0...t {
                    let fd = Self.finiteDifferenceG(model: model, data: data, workspace: workspace, direction: flow.direction,
                                                    layer: flow.layer, t: t, j: j, cellState: false)
                    #expect(abs(fd - flow.hidden[t][j]) <= 1e-2 * fd + 1e-4 * scale,
                            "\(config.cell) layer \(flow.layer) dir \(flow.direction) G[\(t)][\(j)] = \(flow.hidden[t][j]), fd \(fd)")
                    if let cell = flow.cell {
                        let fdc = Self.finiteDifferenceG(model: model, data: data, workspace: workspace, direction: flow.direction,
                                                         layer: flow.layer, t: t, j: j, cellState: true)
                        #expect(abs(fdc - cell[t][j]) <= 1e-2 * fdc + 1e-4 * scale,
                                "cell G[\(t)][\(j)] = \(cell[t][j]), fd \(fdc)")
                    }
                }
            }
        }
    }

    /// The slow way: one backward sweep per loss step t, through every layer.
    static func referenceG(model: LanguageModel, data: Batch, workspace: Workspace) -> [GradientFlowMatrices] {
        let B = data.batch, T = data.steps, H = model.config.hidden, V = model.config.vocabularySize
        let p = model.parameters.pointer
        var out: [GradientFlowMatrices] = []
        for direction in 0..<model.config.directions {
            let dLogits = model.logitAdjoints(data, direction: direction, scale: 1, workspace: workspace)
            let top = FloatBuffer(count: T * B * H)
            sgemm(transA: false, transB: false, m: T * B, n: H, k: V, alpha: 1, a: dLogits.pointer, lda: V,
                  b: p + model.decoderWeight, ldb: H, beta: 0, c: top.pointer, ldc: H)
            var g = Array(repeating: (0..<T).map { [Double](repeating: 0, count: $0 + 1) }, count: model.config.layers)
            var gc = g
            for t in 0..<T {
                // Adjoints arriving at each layer's outputs, for loss t only: (T*B, H).
                var fromAbove = FloatBuffer(count: T * B * H)
                (fromAbove.pointer + t * B * H).update(from: top.pointer + t * B * H, count: B * H)
                for l in stride(from: model.config.layers - 1, through: 0, by: -1) {
                    let layer = model.stacks[direction][l]
                    let cache = workspace.caches[direction][l]
                    let dh = FloatBuffer(count: B * H), dc = FloatBuffer(count: B * H)
                    let below = FloatBuffer(count: T * B * layer.inputSize)
                    let scratch = BackwardScratch()
                    for j in stride(from: t, through: 0, by: -1) {
                        for i in 0..<(B * H) { dh[i] += fromAbove[j * B * H + i] }
                        g[l][t][j] = meanRowNorm(dh.pointer, rows: B, width: H)
                        layer.backwardStep(params: p, cache: cache, t: j, rows: B, dh: dh.pointer,
                                           dc: model.config.cell == .lstm ? dc.pointer : nil, scratch: scratch)
                        if model.config.cell == .lstm { gc[l][t][j] = meanRowNorm(scratch.dcTotal!.pointer, rows: B, width: H) }
                        sgemm(transA: false, transB: false, m: B, n: layer.inputSize, k: layer.gateRows, alpha: 1,
                              a: scratch.dGx!.pointer, lda: layer.gateRows, b: p + layer.weightIH, ldb: layer.inputSize,
                              beta: 0, c: below.pointer + j * B * layer.inputSize, ldc: layer.inputSize)
                        dh.pointer.update(from: scratch.dhPrev!.pointer, count: B * H)
                    }
                    fromAbove = below
                }
            }
            for l in 0..<model.config.layers {
                out.append(GradientFlowMatrices(layer: l, direction: direction, hidden: g[l],
                                                cell: model.config.cell == .lstm ? gc[l] : nil))
            }
        }
        return out
    }

    @Test(arguments: cases.filter { $0.connections == .plain })
    func matchesOneLossAtATimeReference(config: ModelConfig) {
        let (model, data, workspace) = Self.setUp(config, batch: 3, steps: 9)
        let fast = model.gradientFlow(data, workspace: workspace)
        let slow = Self.referenceG(model: model, data: data, workspace: workspace)
        #expect(fast.count == slow.count)
        for (a, b) in zip(fast, slow) {
            #expect(a.layer == b.layer && a.direction == b.direction)
            let fastValues: [Double] = Array(a.hidden.joined()) + Array((a.cell ?? []).joined())
            let slowValues: [Double] = Array(b.hidden.joined()) + Array((b.cell ?? []).joined())
            var worst = 0.0
            for (x, y) in zip(fastValues, slowValues) { worst = max(worst, abs(x - y) / max(abs(y), 1e-12)) }
            #expect(worst < 1e-4, "\(config.cell) layer \(a.layer) dir \(a.direction): worst relative difference \(worst)")
        }
    }

    /// D[l][t] = mean_b ||dJ/dh_l,b(t)|| for J the batch's mean loss (mean over directions): central
    /// differences of J on every coordinate of h_l(t), against the depth probe.
    @Test(arguments: [cases[5]] + skipCases)
    func depthProbeMatchesFiniteDifferences(config: ModelConfig) {
        let (model, data, workspace) = Self.setUp(config, batch: 2, steps: 4)
        let B = data.batch, T = data.steps, H = config.hidden
        let probe = model.probe(data, step: 0, keepActivations: false, workspace: workspace)
        let depth = try! #require(probe.depth)
        #expect(depth.count == config.directions)
        func meanLoss() -> Double {
            let losses = model.forward(data, state: nil, workspace: workspace)
            return losses.reduce(0, +) / Double(losses.count)
        }
        for (direction, record) in depth.enumerated() {
            #expect(record.gradient.count == config.layers && record.profile.count == config.layers)
            #expect(abs(record.profile[config.layers - 1] - 1) < 1e-12)
            let scale = record.gradient.joined().max()!
            for l in 0..<config.layers {
                for t in 0..<T {
                    let fd = Self.meanNormOfCentralDifferences(batch: B, hidden: H, nudge: { nudge in
                        workspace.perturbation = StatePerturbation(direction: direction, layer: l, step: t, hidden: nudge)
                    }, loss: { _ in meanLoss() })
                    workspace.perturbation = nil
                    #expect(abs(fd - record.gradient[l][t]) <= 2e-2 * fd + 1e-4 * scale,
                            "\(config.cell) \(config.connections) dir \(direction) D[\(l)][\(t)] = \(record.gradient[l][t]), fd \(fd)")
                }
            }
        }
    }

    /// A skip connection must deliver more of the top layer's gradient to the bottom of a deep
    /// stack of simple RNNs than the plain stack does, from the same seed.
    @Test func residualStackDeliversMoreGradientToTheBottom() {
        func share(_ wiring: LayerConnections) -> Double {
            let config = ModelConfig(cell: .rnn, layers: 6, vocabularySize: 6, embed: 8, hidden: 8,
                                     connections: wiring)
            let (model, data, workspace) = Self.setUp(config, batch: 4, steps: 8)
            let probe = model.probe(data, step: 0, keepActivations: false, workspace: workspace)
            return probe.firstLayerShare!
        }
        let plain = share(.plain), residual = share(.residual)
        #expect(plain < 1 && residual > 2 * plain, "plain \(plain), residual \(residual)")
    }
}
