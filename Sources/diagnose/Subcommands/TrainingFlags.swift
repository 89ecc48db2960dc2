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

    @Option(help: "Stacked recurrent layers.")
    var layers: FlagList<Int> = 1

    @Flag(help: "Also train a backward LM on the reversed text (ELMo-style), sharing embedding and decoder.")
    var bidirectional = false

    @Flag(help: "Residual stack: from the second layer up, add the layer below's output to each layer's output.")
    var residual = false

    @Flag(help: "Dense stack: each layer reads the embedding and every lower layer's output, concatenated.")
    var dense = false

    @Option(help: "Hidden units per layer (H).")
    var hidden: FlagList<Int> = 64

    @Option(help: "Embedding size (E).")
    var embed: FlagList<Int> = 32

    @Option(help: "Input-weight initialisation.")
    var `init` = InputWeights.xavier

    @Option(name: .customLong("spectral-radius"),
            help: "Rescale every recurrent matrix W_h at initialisation to this spectral radius (e.g. 0.5 vanishes, 1.5 explodes).")
    var spectralRadius: FlagList<Double>?

    @Option(name: .customLong("forget-bias"), help: "LSTM forget-gate bias at initialisation.")
    var forgetBias: FlagList<Double> = 1

    var cells: [CellKind] { cell.items }

    func validate() throws {
        try positive("--layers", layers, max: 16)
        if residual && dense {
            throw ValidationError("--residual and --dense: choose one way to connect the layers")
        }
        try positive("--hidden", hidden, max: 4096)
        try positive("--embed", embed, max: 4096)
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
    guard value > 0 else { throw ValidationError("\(flag) \(value): must be a positive whole number") }
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

    @Option(help: "How text becomes tokens.")
    var tokenize = Tokenization.char

    @Option(name: .customLong("vocab-size"), help: "Word tokenisation: keep this many words (the rest become <unk>).")
    var vocabSize: Int = 10_000

    @Option(name: .customLong("valid-fraction"), help: "Fraction of the tokens (at the end) held out for validation.")
    var validFraction: Double = 0.1

    @Option(help: "Synthetic corpus: the recall lag (a symbol must be carried this many steps).")
    var lag: FlagList<Int> = 8

    @Option(help: "Optimiser.")
    var optimizer = Optimizer.adam

    @Option(help: "Learning rate.")
    var lr: FlagList<Double> = 0.01

    @Option(help: "Rescale the gradient when its global norm exceeds this; 0 turns clipping off.")
    var clip: FlagList<Double> = 1

    @Option(help: "Optimiser steps.")
    var steps: Int = 1500

    @Option(help: "Parallel streams per batch (B).")
    var batch: FlagList<Int> = 16

    @Option(help: "Steps per window for truncated backpropagation through time (T).")
    var bptt: FlagList<Int> = 30

    @Option(help: "Random seed: same seed and flags, same numbers.")
    var seed: FlagList<UInt64> = 0

    @Option(name: .customLong("eval-every"), help: "Evaluate on the validation split every N steps.")
    var evalEvery: Int = 250

    @Option(name: .customLong("probe-every"), help: "Run the gradient-flow, spectrum and gate probes every N steps.")
    var probeEvery: Int = 250

    func validate() throws {
        try lr.checkEach("--lr", "the learning rate must be a positive finite number, e.g. 0.01") { $0.isFinite && $0 > 0 }
        try clip.checkEach("--clip", "must be a finite number >= 0 (0 turns clipping off)") { $0.isFinite && $0 >= 0 }
        try seed.check("--seed")
        guard validFraction > 0 && validFraction < 1 else {
            throw ValidationError("--valid-fraction \(validFraction): must lie strictly between 0 and 1")
        }
        try positive("--vocab-size", vocabSize, max: 1_000_000)
        try positive("--lag", lag, max: 10_000)
        guard steps >= 0 else { throw ValidationError("--steps \(steps): must be 0 or more") }
        try positive("--batch", batch, max: 4096)
        try positive("--bptt", bptt, max: 4096)
        try positive("--eval-every", evalEvery, max: Int.max)
        try positive("--probe-every", probeEvery, max: Int.max)
    }

    func options(model: ModelConfig, initialization: Initialization, threads: Int) -> TrainingOptions {
        var options = TrainingOptions(model: model, initialization: initialization)
        options.optimizer = optimizer
        options.learningRate = lr.value
        options.clip = clip.value
        options.steps = steps
        options.batch = batch.value
        options.bptt = bptt.value
        options.seed = seed.value
        options.probeEvery = probeEvery
        options.evalEvery = evalEvery
        options.threads = threads
        return options
    }

    /// The corpus these flags name. The synthetic corpus is made large enough for the run.
    func loadCorpus() throws -> Corpus {
        if let corpus {
            return try Corpus.load(path: corpus, tokenization: tokenize, vocabSizeLimit: vocabSize,
                                   validFraction: validFraction)
        }
        return try SyntheticCorpus.make(lag: lag.value, tokens: 400_000, validFraction: validFraction, seed: seed.value)
    }
}

// MARK: Lists of runs

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
            case .spectralRadius: flags.spectralRadius = FlagList(argument: text)
            case .forgetBias: flags.forgetBias = FlagList(argument: text)!
            case .hidden: flags.hidden = FlagList(argument: text)!
            case .embed: flags.embed = FlagList(argument: text)!
            case .layers: flags.layers = FlagList(argument: text)!
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
        [(.lag, lag.values.map(\.text)), (.lr, lr.values.map(\.text)), (.clip, clip.values.map(\.text)),
         (.bptt, bptt.values.map(\.text)), (.batch, batch.values.map(\.text)), (.seed, seed.values.map(\.text))]
    }

    func picking(_ run: PlannedRun) -> TrainingFlags {
        var flags = self
        for (flag, text) in run.values {
            switch flag {
            case .lag: flags.lag = FlagList(argument: text)!
            case .lr: flags.lr = FlagList(argument: text)!
            case .clip: flags.clip = FlagList(argument: text)!
            case .bptt: flags.bptt = FlagList(argument: text)!
            case .batch: flags.batch = FlagList(argument: text)!
            case .seed: flags.seed = FlagList(argument: text)!
            default: break
            }
        }
        return flags
    }
}
