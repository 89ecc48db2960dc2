import ArgumentParser
import DiagnoseRecord
import Foundation
import DiagnoseRecord
import TrainingCore

/// The flags that define a model and how it is trained; shared by `train` and `bench`.
struct ModelFlags: ParsableArguments {
    @Option(help: "Cells to train, comma-separated. Each run goes to <output>/<cell>/.")
    var cell = WordList<CellKind>([.rnn, .lstm])

    @Option(help: "The simple RNN's nonlinearity (linear is the lecture's sigma(x) = x).")
    var activation = Activation.tanh

    @Option(parsing: .unconditional, help: "Stacked recurrent layers.")
    var layers: FlagList<Int> = 1

    @Flag(help: "Also train a backward LM on the reversed text (ELMo-style), sharing embedding and decoder.")
    var bidirectional = false

    @Flag(help: "Residual stack: from the second layer up, add the layer below's output to each layer's output.")
    var residual = false

    @Flag(help: "Dense stack: each layer reads the embedding and every lower layer's output, concatenated.")
    var dense = false

    @Option(parsing: .unconditional, help: "Hidden units per layer (H).")
    var hidden: FlagList<Int> = 64

    @Option(parsing: .unconditional, help: "Embedding size (E).")
    var embed: FlagList<Int> = 32

    @Option(help: "Input-weight initialisation.")
    var `init` = InputWeights.xavier

    @Option(name: .customLong("spectral-radius"), parsing: .unconditional,
            help: "Rescale every recurrent matrix W_h at initialisation to this spectral radius (e.g. 0.5 vanishes, 1.5 explodes).")
    var spectralRadius: FlagList<Double>?

    @Option(name: .customLong("forget-bias"), parsing: .unconditional, help: "LSTM forget-gate bias at initialisation.")
    var forgetBias: FlagList<Double> = 1

    var cells: [CellKind] { cell.items }

    func validate() throws {
        try positive("--layers", layers, max: RecordLimits.maxLayers)
        if residual && dense {
            throw ValidationError("--residual and --dense: choose one way to connect the layers")
        }
        try positive("--hidden", hidden, max: RecordLimits.maxHidden)
        try positive("--embed", embed, max: RecordLimits.maxHidden)
        try spectralRadius?.checkEach("--spectral-radius", "must be a positive finite number") { $0.isFinite && $0 > 0 }
        try forgetBias.checkEach("--forget-bias", "must be a finite number") { $0.isFinite }
    }

    func modelConfig(cell: CellKind) -> ModelConfig {
        ModelConfig(cell: cell, activation: activation, layers: layers.value,
                    bidirectional: bidirectional, vocabularySize: 0, embed: embed.value, hidden: hidden.value,
                    connections: connections)
    }

    var connections: LayerConnections {
        residual ? .residual : dense ? .dense : .plain

    }

    func initialization() -> Initialization {
        Initialization(inputWeights: `init`, spectralRadius: spectralRadius?.value,
                       forgetBias: forgetBias.value)
    }
}

func positive(_ flag: String, _ value: Int, max limit: Int) throws {
    // Without a limit of its own (Int.max) the range is not spelled out as 1 to 9223372036854775807.
    let range = limit == Int.max ? "1 or more" : "1 to \(limit)"
    guard value >= 0 else { throw ValidationError("\(flag) \(value): negative values are not allowed; give a whole number, \(range)") }
    guard value > 0 else { throw ValidationError("\(flag) \(value): must be a positive whole number (\(range))") }
    guard value <= limit else { throw ValidationError("\(flag) \(value): at most \(limit) is supported") }
}

func positive(_ flag: String, _ list: FlagList<Int>, max limit: Int) throws {
    try list.check(flag)
    for value in list.values { try positive(flag, value, max: limit) }
}

/// Data and optimisation flags.
struct TrainingFlags: ParsableArguments {
    @Option(help: "UTF-8 text to train on. Without it: the built-in synthetic recall corpus.")
    var corpus: String?

    @Option(help: "Validation text (the last --valid-fraction of --corpus if not given). Needs --corpus.")
    var valid: String?

    @Option(parsing: .unconditional, help: "Test text, evaluated once with the final weights. Needs --corpus.")
    var test: String?

    @Option(parsing: .unconditional, help: "How text becomes tokens: char (Unicode code points) or word (white space). Default: char.")
    var tokenize: Tokenization?

    @Option(name: .customLong("vocab-size"), parsing: .unconditional,
            help: "Word tokenisation: keep this many words, <unk> included (the rest become <unk>). Default: 10000.")
    var vocabSize: Int?

    @Flag(name: .customLong("no-eos"), help: "Word tokenisation: no <eos> token at line ends.")
    var noEOS = false

    @Option(name: .customLong("valid-fraction"), parsing: .unconditional,
            help: "Fraction of the tokens (at the end of --corpus) held out for validation. Default: 0.1.")
    var validFraction: Double?

    @Option(parsing: .unconditional, help: "Synthetic corpus: the recall lag (a symbol must be carried this many steps). Default: 8.")
    var lag: FlagList<Int>?

    @Option(help: "Optimiser.")
    var optimizer = Optimizer.adam

    @Option(parsing: .unconditional, help: "Learning rate.")
    var lr: FlagList<Double> = 0.01

    @Option(name: .customLong("lr-decay"), parsing: .unconditional,
            help: "Multiply the learning rate by this after an evaluation that did not improve the best validation loss.")
    var lrDecay: Double?

    @Option(parsing: .unconditional, help: "Rescale the gradient when its global norm exceeds this; 0 turns clipping off.")
    var clip: FlagList<Double> = 1

    @Option(parsing: .unconditional, help: "Dropout probability on the embedding output, between layers and before the decoder (training only).")
    var dropout: FlagList<Double> = 0

    @Option(parsing: .unconditional, help: "Optimiser steps. Default: 1500.")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Passes over the training windows (instead of --steps).")
    var epochs: Int?

    @Option(parsing: .unconditional, help: "Parallel streams per batch (B).")
    var batch: FlagList<Int> = 16

    @Option(parsing: .unconditional, help: "Steps per window for truncated backpropagation through time (T).")
    var bptt: FlagList<Int> = 30

    @Option(parsing: .unconditional, help: "Random seed: same seed and flags, same numbers.")
    var seed: FlagList<UInt64> = 0

    @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Evaluate on the validation split every N steps.")
    var evalEvery: Int = 250

    @Option(name: .customLong("probe-every"), parsing: .unconditional, help: "Run the gradient-flow, spectrum and gate probes every N steps.")
    var probeEvery: Int = 250

    var tokenization: Tokenization { tokenize ?? .char }
    /// The recall lags (the default when --lag is not given).
    var lags: FlagList<Int> { lag ?? 8 }

    func validate() throws {
        try lr.checkEach("--lr", "the learning rate must be a positive finite number, e.g. 0.01") { $0.isFinite && $0 > 0 }
        if let lrDecay, !(lrDecay > 0 && lrDecay <= 1) {
            throw ValidationError("--lr-decay \(lrDecay): must lie in (0, 1], e.g. 0.25 to divide the learning rate by 4")
        }
        try clip.checkEach("--clip", "must be a finite number >= 0 (0 turns clipping off)") { $0.isFinite && $0 >= 0 }
        try dropout.checkEach("--dropout", "must lie in [0, 1), e.g. 0.5 (0 turns dropout off)") { $0 >= 0 && $0 < 1 }
        try seed.check("--seed")
        if let validFraction {
            guard validFraction > 0 && validFraction < 1 else {
                throw ValidationError("--valid-fraction \(validFraction): must lie strictly between 0 and 1")
            }
            if let valid {
                throw ValidationError("--valid-fraction \(validFraction): cannot be used with --valid \(valid); "
                    + "with a validation file nothing is cut from --corpus, so drop one of the two")
            }
        }
        for (flag, file) in [("--valid", valid), ("--test", test)] {
            if let file, corpus == nil {
                throw ValidationError("\(flag) \(file): needs --corpus (the training text) as well")
            }
        }
        if let vocabSize { try positive("--vocab-size", vocabSize, max: 1_000_000) }
        try positive("--lag", lags, max: 10_000)
        if let steps, let epochs {
            throw ValidationError("--steps \(steps) and --epochs \(epochs): give one of the two")
        }
        if let steps {
            guard steps >= 0 else { throw ValidationError("--steps \(steps): negative values are not allowed; give 0 or more") }
            guard steps <= RecordLimits.maxTrainingSteps else {
                throw ValidationError("--steps \(steps): at most \(RecordLimits.maxTrainingSteps) is supported")
            }
        }
        if let epochs { try positive("--epochs", epochs, max: 100_000) }
        try positive("--batch", batch, max: RecordLimits.maxBatch)
        try positive("--bptt", bptt, max: RecordLimits.maxSteps)
        try positive("--eval-every", evalEvery, max: Int.max)
        try positive("--probe-every", probeEvery, max: Int.max)
    }

    /// Flags given that have no effect with the others: worth a warning, not an error.
    func ineffectiveFlags() -> [String] {
        var warnings: [String] = []
        if corpus == nil {
            if let tokenize { warnings.append("--tokenize \(tokenize.rawValue) does nothing without --corpus (the built-in synthetic corpus is character-level)") }
            if let vocabSize { warnings.append("--vocab-size \(vocabSize) does nothing without --corpus and --tokenize word") }
            if noEOS { warnings.append("--no-eos does nothing without --corpus and --tokenize word") }
        } else {
            if let vocabSize, tokenization != .word {
                warnings.append("--vocab-size \(vocabSize) does nothing with character tokens (it caps word vocabularies; add --tokenize word)")
            }
            if noEOS && tokenization != .word {
                warnings.append("--no-eos does nothing with character tokens (<eos> is a word-level token; add --tokenize word)")
            }
            if let lag { warnings.append("--lag \(lag.argument) does nothing with --corpus (it shapes the built-in synthetic corpus only)") }
        }
        return warnings
    }

    func options(model: ModelConfig, initialization: Initialization, threads: Int) -> TrainingOptions {
        var options = TrainingOptions(model: model, initialization: initialization)
        options.optimizer = optimizer
        options.learningRate = lr.value
        options.clip = clip.value
        options.steps = steps ?? 1500
        options.epochs = epochs
        options.learningRateDecay = lrDecay
        options.dropout = dropout.value
        options.batch = batch.value
        options.bptt = bptt.value
        options.seed = seed.value
        options.probeEvery = probeEvery
        options.evalEvery = evalEvery
        options.threads = threads
        return options
    }

    /// The corpus these flags name. The synthetic corpus is made large enough for the run.
    func loadCorpus(progress: (CorpusLoadProgress) -> Void = { _ in }) throws -> Corpus {
        if let corpus {
            return try Corpus.load(path: corpus, validPath: valid, testPath: test, tokenization: tokenization,
                                   vocabSizeLimit: tokenization == .word ? vocabSize ?? 10_000 : nil,
                                   validFraction: validFraction ?? 0.1, endOfLine: !noEOS, progress: progress)
        }
        return try SyntheticCorpus.make(lag: lags.value, tokens: 400_000, validFraction: validFraction ?? 0.1, seed: seed.value)
    }
}

// MARK: Lists of runs

extension FlagList {
    /// This list narrowed to its value whose text is `text`: a planned run's value of this flag,
    /// picked from the list it was planned from (never parsed again).
    func narrowed(to text: String) -> FlagList {
        guard let picked = values.first(where: { $0.text == text }) else {
            preconditionFailure("a planned run's value \(text) comes from the flag's own list \(argument)")
        }
        return FlagList(picked)
    }
}

extension ModelFlags {
    /// Each list flag's values as text, for `RunPlan.expand`.
    var lists: [(SweepFlag, [String])] {
        var lists: [(SweepFlag, [String])] = [(.forgetBias, forgetBias.values.map(\.text)), (.hidden, hidden.values.map(\.text)),
                                              (.embed, embed.values.map(\.text)), (.layers, layers.values.map(\.text))]
        if let spectralRadius { lists.append((.spectralRadius, spectralRadius.values.map(\.text))) }
        return lists
    }

    /// These flags with the listed ones set to one run's values.
    func picking(_ run: PlannedRun) -> ModelFlags {
        var flags = self
        for (flag, text) in run.values {
            switch flag {
            case .spectralRadius: flags.spectralRadius = flags.spectralRadius?.narrowed(to: text)
            case .forgetBias: flags.forgetBias = flags.forgetBias.narrowed(to: text)
            case .hidden: flags.hidden = flags.hidden.narrowed(to: text)
            case .embed: flags.embed = flags.embed.narrowed(to: text)
            case .layers: flags.layers = flags.layers.narrowed(to: text)
            default: break
            }
        }
        return flags
    }

    /// Single-run commands take one value per flag.
    func requireSingleValues(command: String) throws {
        for (flag, values) in lists where values.count > 1 {
            throw ValidationError("--\(flag.rawValue) \(values.joined(separator: ",")): `diagnose \(command)` takes one value")
        }
    }
}

extension TrainingFlags {
    var lists: [(SweepFlag, [String])] {
        [(.lag, lags.values.map(\.text)), (.lr, lr.values.map(\.text)), (.clip, clip.values.map(\.text)),
         (.dropout, dropout.values.map(\.text)), (.bptt, bptt.values.map(\.text)), (.batch, batch.values.map(\.text)),
         (.seed, seed.values.map(\.text))]
    }

    func picking(_ run: PlannedRun) -> TrainingFlags {
        var flags = self
        for (flag, text) in run.values {
            switch flag {
            case .lag: flags.lag = flags.lags.narrowed(to: text)
            case .lr: flags.lr = flags.lr.narrowed(to: text)
            case .clip: flags.clip = flags.clip.narrowed(to: text)
            case .dropout: flags.dropout = flags.dropout.narrowed(to: text)
            case .bptt: flags.bptt = flags.bptt.narrowed(to: text)
            case .batch: flags.batch = flags.batch.narrowed(to: text)
            case .seed: flags.seed = flags.seed.narrowed(to: text)
            default: break
            }
        }
        return flags
    }
}
