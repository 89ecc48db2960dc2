import DiagnoseRecord
import Foundation

/// What the trainer reports while it runs.
public struct TrainingProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    public var tokensPerSecond: Double
    public var elapsed: Double
    public var validLoss: Double?
    public var recallAccuracy: Double?
}

/// Training options that cannot work together, with the values given.
public enum TrainingSetupError: Error, CustomStringConvertible, Equatable {
    /// Dropout between layers is implemented for plain stacks only.
    case dropoutNeedsPlainStack(dropout: Double, connections: LayerConnections)
    /// Epochs must be positive, and their steps must fit in an `Int`.
    case epochs(Int)

    public var description: String {
        switch self {
        case let .dropoutNeedsPlainStack(dropout, connections):
            return "dropout \(dropout): applied to plain stacks only so far, not to \(connections.rawValue) ones"
        case let .epochs(epochs): return "epochs \(epochs): must be a positive whole number"
        }
    }
}

/// Trains one model on one corpus and writes down everything the run found.
public final class Trainer {
    public let options: TrainingOptions
    public let corpus: Corpus
    public let model: LanguageModel
    let train: Batcher
    let valid: Batcher
    /// The test split, when the corpus has one: evaluated once, at the end.
    let test: Batcher?
    /// The fixed probe batch: the first B validation windows of T + 1 tokens, one per row.
    let probeBatch: Batch
    let probeWorkspace: Workspace
    /// `.continued` once `load` has replaced the initial weights.
    public private(set) var origin: RunOrigin = .trained

    public init(options: TrainingOptions, corpus: Corpus) throws {
        let B = options.batch, T = options.bptt
        try options.checkCompatible()
        let need = Batcher.tokensNeeded(batch: B, steps: T)
        guard let train = Batcher(tokens: corpus.train, mask: corpus.trainRecall, batch: B, steps: T) else {
            throw CorpusError.tooShort(name: corpus.name, split: .training, have: corpus.train.count, need: need)
        }
        guard let valid = Batcher(tokens: corpus.valid, mask: corpus.validRecall, batch: B, steps: T) else {
            throw CorpusError.tooShort(name: corpus.validFile?.name ?? corpus.name, split: .validation,
                                       have: corpus.valid.count, need: need,
                                       role: corpus.validFile == nil ? .training : .validation)
        }
        if let testTokens = corpus.test {
            guard let test = Batcher(tokens: testTokens, mask: nil, batch: B, steps: T) else {
                throw CorpusError.tooShort(name: corpus.testFile?.name ?? "test", split: .test, have: testTokens.count,
                                           need: need, role: .test)
            }
            self.test = test
        } else {
            test = nil
        }
        var options = options
        if let epochs = options.epochs {
            guard epochs > 0, train.windowCount <= Int.max / epochs else {
                throw TrainingSetupError.epochs(epochs)
            }
            options.steps = epochs * train.windowCount
        }
        self.options = options
        self.corpus = corpus
        self.train = train
        self.valid = valid
        var window = [Int32](repeating: 0, count: (T + 1) * B)
        var recall: [Bool]? = corpus.validRecall == nil ? nil : [Bool](repeating: false, count: (T + 1) * B)
        for b in 0..<B {
            for t in 0...T {
                window[t * B + b] = corpus.valid[b * T + t]
                if let mask = corpus.validRecall { recall![t * B + b] = mask[b * T + t] }
            }
        }
        probeBatch = Batch(batch: B, steps: T, window: window, recall: recall)
        var config = options.model
        config.vocabularySize = corpus.vocabularySize
        model = LanguageModel(config: config)
        var initialization = options.initialization
        initialization.seed = options.seed
        model.initialize(initialization)
        probeWorkspace = Workspace(model: model, threads: ComputeThreads(options.threads))
    }

    /// Replaces the initial weights (continuing from a saved model). Shapes must match the layout.
    /// Loads weights to continue training: every tensor of this model must be in the file with
    /// exactly its shape (the checks `probe` applies), and the file may hold nothing else unless
    /// `ignoreExtra` (a bidirectional file's `_reverse` tensors are not loaded silently into a
    /// unidirectional model). Throws `InputFileError` naming the tensor.
    public func load(tensors: [String: SafetensorsTensor], file: String, ignoreExtra: Bool = false) throws {
        func fail(_ tensor: String, _ problem: String, _ remedy: InputFileError.Remedy = .sameArchitecture) -> InputFileError {
            InputFileError(kind: .weights, file: file, place: .tensor(tensor), problem: problem, remedy: remedy)
        }
        for entry in model.layout.entries {
            guard let tensor = tensors[entry.name] else { throw fail(entry.name, "is missing") }
            guard tensor.shape == entry.shape else {
                throw fail(entry.name, "has shape \(tensor.shape) but this model needs \(entry.shape)")
            }
            for (i, v) in tensor.values.enumerated() { model.parameters[entry.offset + i] = v }
        }
        let extra = Set(tensors.keys).subtracting(model.layout.entries.map(\.name)).sorted()
        if !ignoreExtra, let first = extra.first {
            throw fail(first, "is not part of this model" + (extra.count > 1 ? " (nor are \(extra.count - 1) more)" : ""),
                       .sameArchitectureOrIgnoreExtra)
        }
        origin = .continued(weights: file)
    }

    public func run(name: String, command: [String], toolVersion: String,
                    progress: (TrainingProgress) -> Void = { _ in }, shouldStop: () -> Bool = { false }) -> RunRecord {
        let B = options.batch, T = options.bptt
        let tokensPerStep = Double(B * T * model.config.directions)
        let runner = StepRunner(model: model, optimizer: options.optimizer, learningRate: options.learningRate,
                                clip: options.clip, dropout: options.dropout, seed: options.seed,
                                threads: ComputeThreads(options.threads))
        var record = RunRecord(tool: ToolInfo(version: toolVersion), name: name, command: command, origin: origin,
                               config: runConfig(), corpus: corpusInfo(), parameterCount: model.parameterCount,
                               parameters: model.layout.entries.map { ParameterInfo(name: $0.name, shape: $0.shape) })
        record.probeTokens = (0..<T).map { corpus.vocabulary[Int(probeBatch.window[$0 * B])] }
        record.probes.append(model.probe(probeBatch, step: 0, keepActivations: true, workspace: probeWorkspace))

        var windowIndex = 0
        var trainingSeconds = 0.0
        var recentLosses: [Double] = []
        var lastStep = 0
        var bestValidLoss = Double.infinity
        for step in 1...max(options.steps, 1) where options.steps > 0 {
            let started = DispatchTime.now().uptimeNanoseconds
            // A new pass over the data keeps the carried state: a zero state the model has not seen
            // since step 0 costs a loss spike (measured: 4.7 nats at the wrap), a jump in the text none.
            if windowIndex == train.windowCount { windowIndex = 0 }
            let outcome = runner.step(train.window(windowIndex))
            windowIndex += 1
            let loss = outcome.loss, gradientNorm = outcome.gradientNorm
            record.steps.append(StepRecord(step: step, loss: loss, perplexity: Foundation.exp(loss),
                                           gradientNorm: gradientNorm,
                                           clippedGradientNorm: outcome.clipped ? options.clip : gradientNorm,
                                           clipped: outcome.clipped, learningRate: runner.learningRate))
            guard outcome.finite else {
                record.status.divergedAtStep = step
                record.status.divergenceReason = loss.isFinite ? "the gradient norm became \(gradientNorm)" : "the loss became \(loss)"
                lastStep = step
                break
            }
            trainingSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            recentLosses.append(loss)
            lastStep = step
            var evaluation: EvaluationRecord?
            if step % options.evalEvery == 0 || step == options.steps {
                evaluation = evaluate(step: step, trainLoss: recentLosses.reduce(0, +) / Double(recentLosses.count))
                record.evaluations.append(evaluation!)
                recentLosses.removeAll()
                // The schedule: no improvement on the best validation loss so far, smaller steps from now on.
                if let decay = options.learningRateDecay, !(evaluation!.validLoss < bestValidLoss) {
                    runner.learningRate *= decay
                }
                bestValidLoss = min(bestValidLoss, evaluation!.validLoss)
            }
            if step % options.probeEvery == 0 && step < options.steps {
                record.probes.append(model.probe(probeBatch, step: step, keepActivations: false, workspace: probeWorkspace))
            }
            progress(TrainingProgress(step: step, totalSteps: options.steps, loss: loss,
                                      tokensPerSecond: Double(step) * tokensPerStep / max(trainingSeconds, 1e-9),
                                      elapsed: trainingSeconds, validLoss: evaluation?.validLoss,
                                      recallAccuracy: evaluation?.recallAccuracy))
            if shouldStop() {
                record.status.interrupted = true
                break
            }
        }
        if lastStep > 0 && record.evaluations.last?.step != lastStep && record.status.divergedAtStep == nil {
            record.evaluations.append(evaluate(step: lastStep, trainLoss: recentLosses.isEmpty
                ? record.steps.last!.loss : recentLosses.reduce(0, +) / Double(recentLosses.count)))
        }
        if lastStep > 0 {
            // A stop right after a periodic probe: the final probe (with activations) replaces it.
            if record.probes.last?.step == lastStep { record.probes.removeLast() }
            record.probes.append(model.probe(probeBatch, step: lastStep, keepActivations: true, workspace: probeWorkspace))
        }
        record.summary = summary(of: record, trainingSeconds: trainingSeconds, tokensPerStep: tokensPerStep)
        // The test split, once, with the final weights (not after a divergence: those weights are not a result).
        if let test, lastStep > 0, record.status.divergedAtStep == nil {
            let loss = meanLoss(over: test).loss
            record.summary.finalTestLoss = loss
            record.summary.finalTestPerplexity = Foundation.exp(loss)
        }
        return record
    }

    /// Mean cross-entropy over every window of `batcher` (state carried from a zero start), per
    /// direction and over directions, and on the synthetic corpus the argmax accuracy at the recall answers.
    func meanLoss(over batcher: Batcher) -> (loss: Double, perDirection: [Double], recallAccuracy: Double) {
        let B = options.batch, T = options.bptt, D = model.config.directions, V = model.config.vocabularySize
        var state: RecurrentState? = nil
        var totals = [Double](repeating: 0, count: D)
        var correct = 0, asked = 0
        for index in 0..<batcher.windowCount {
            let batch = batcher.window(index)
            let losses = model.forward(batch, state: state, workspace: probeWorkspace)
            for d in 0..<D { totals[d] += losses[d] }
            state = model.finalState(probeWorkspace)
            guard let recall = batch.recall else { continue }
            let probs = probeWorkspace.probabilities[0]!.pointer
            for t in 0..<T {
                for b in 0..<B where recall[(t + 1) * B + b] {
                    let row = probs + (t * B + b) * V
                    var best = 0
                    for v in 1..<V where row[v] > row[best] { best = v }
                    asked += 1
                    if best == Int(batch.target(direction: 0, t: t, b: b)) { correct += 1 }
                }
            }
        }
        let perDirection = totals.map { $0 / Double(batcher.windowCount) }
        return (perDirection.reduce(0, +) / Double(D), perDirection, Double(correct) / Double(max(asked, 1)))
    }

    /// Loss over the whole validation split (state carried from a zero start), per direction,
    /// and on the synthetic corpus the argmax accuracy at the recall answers.
    func evaluate(step: Int, trainLoss: Double) -> EvaluationRecord {
        let result = meanLoss(over: valid)
        return EvaluationRecord(step: step, trainLoss: trainLoss, validLoss: result.loss,
                                validPerplexity: Foundation.exp(result.loss),
                                directionValidLosses: model.config.directions > 1 ? result.perDirection : nil,
                                recallAccuracy: corpus.validRecall == nil ? nil : result.recallAccuracy)
    }

    func runConfig() -> RunConfig {
        var config = RunConfig(cell: options.model.cell,
                  activation: options.model.cell == .rnn ? options.model.activation : .tanh,
                  layers: options.model.layers, bidirectional: options.model.bidirectional, hidden: options.model.hidden,
                  embed: options.model.embed, batch: options.batch, bptt: options.bptt, steps: options.steps,
                  optimizer: options.optimizer, learningRate: options.learningRate, clip: options.clip,
                  seed: options.seed, initialization: options.initialization.inputWeights,
                  spectralRadius: options.initialization.spectralRadius, forgetBias: options.initialization.forgetBias,
                  probeEvery: options.probeEvery, evalEvery: options.evalEvery, tokenize: corpus.tokenization,
                  vocabSizeLimit: corpus.vocabSizeLimit, validFraction: corpus.validFraction, lag: corpus.recall?.lag,
                  threads: options.threads, connections: options.model.connections)
        config.endOfLine = corpus.tokenization == .word ? corpus.endOfLine : nil
        config.dropout = options.dropout
        config.epochs = options.epochs
        config.learningRateDecay = options.learningRateDecay
        return config
    }

    func corpusInfo() -> CorpusInfo {
        var info = CorpusInfo(name: corpus.name, synthetic: corpus.synthetic, sha256: corpus.sha256,
                              tokens: corpus.train.count + corpus.valid.count + (corpus.test?.count ?? 0),
                              trainTokens: corpus.train.count, validTokens: corpus.valid.count,
                              vocabularySize: corpus.vocabularySize, recall: corpus.recall)
        info.unknownValidTokens = corpus.unknownValidTokens
        info.testTokens = corpus.test?.count
        info.unknownTestTokens = corpus.unknownTestTokens
        info.validFile = corpus.validFile?.name
        info.validSha256 = corpus.validFile?.sha256
        info.testFile = corpus.testFile?.name
        info.testSha256 = corpus.testFile?.sha256
        return info
    }

    func summary(of record: RunRecord, trainingSeconds: Double, tokensPerStep: Double) -> RunSummary {
        let lastEval = record.evaluations.last
        let completed = record.steps.count - (record.status.divergedAtStep == nil ? 0 : 1)
        let recentSteps = record.steps.suffix(max(1, options.evalEvery))
        let trainLoss = lastEval?.trainLoss ?? (recentSteps.isEmpty ? nil : recentSteps.map(\.loss).reduce(0, +) / Double(recentSteps.count))
        var summary = RunSummary(
            finalTrainLoss: trainLoss, finalTrainPerplexity: trainLoss.map { Foundation.exp($0) },
            finalValidLoss: lastEval?.validLoss, finalValidPerplexity: lastEval?.validPerplexity,
            recallAccuracy: lastEval?.recallAccuracy,
            clippedFraction: record.steps.isEmpty ? nil : Double(record.steps.filter(\.clipped).count) / Double(record.steps.count),
            tokensPerSecond: trainingSeconds > 0 ? Double(completed) * tokensPerStep / trainingSeconds : nil,
            seconds: trainingSeconds, stepsCompleted: completed)
        summary.read(probes: record.probes)
        return summary
    }

    /// The model's tensors as safetensors, with PyTorch's names and layouts.
    public func modelTensors() -> [SafetensorsTensor] {
        model.namedTensors().map { SafetensorsTensor(name: $0.entry.name, shape: $0.entry.shape, values: $0.values) }
    }
}
