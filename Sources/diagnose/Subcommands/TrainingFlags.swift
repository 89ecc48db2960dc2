import ArgumentParser
import Foundation
import DiagnoseRecord
import TrainingCore

/// The flags that define a model and how it is trained; shared by `train` and `bench`.
struct ModelFlags: ParsableArguments {
    @Option(help: "Cells to train, comma-separated: rnn, lstm, gru. Each run goes to <output>/<cell>/.")
    var cell: String = "rnn,lstm"

    @Option(help: "The simple RNN's nonlinearity: tanh, relu or linear (the lecture's sigma(x) = x).")
    var activation: String = "tanh"

    @Option(help: "Stacked recurrent layers.")
    var layers: Int = 1

    @Flag(help: "Also train a backward LM on the reversed text (ELMo-style), sharing embedding and decoder.")
    var bidirectional = false

    @Flag(help: "Residual stack: from the second layer up, add the layer below's output to each layer's output.")
    var residual = false

    @Flag(help: "Dense stack: each layer reads the embedding and every lower layer's output, concatenated.")
    var dense = false

    @Option(help: "Hidden units per layer (H).")
    var hidden: Int = 64

    @Option(help: "Embedding size (E).")
    var embed: Int = 32

    @Option(help: "Input-weight initialisation: xavier or orthogonal.")
    var `init`: String = "xavier"

    @Option(name: .customLong("spectral-radius"),
            help: "Rescale every recurrent matrix W_h at initialisation to this spectral radius (e.g. 0.5 vanishes, 1.5 explodes).")
    var spectralRadius: Double?

    @Option(name: .customLong("forget-bias"), help: "LSTM forget-gate bias at initialisation.")
    var forgetBias: Double = 1

    func cells() throws -> [CellKind] {
        let names = cell.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !names.isEmpty else { throw ValidationError("--cell: give at least one of rnn, lstm, gru") }
        var kinds: [CellKind] = []
        for name in names {
            guard let kind = CellKind(rawValue: name) else {
                throw ValidationError("--cell \(name): unknown cell; use rnn, lstm or gru (comma-separated for several)")
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds
    }

    func validate() throws {
        _ = try cells()
        guard Activation(rawValue: activation) != nil else {
            throw ValidationError("--activation \(activation): unknown activation; use tanh, relu or linear")
        }
        guard Initialization.InputWeights(rawValue: `init`) != nil else {
            throw ValidationError("--init \(`init`): unknown initialisation; use xavier or orthogonal")
        }
        try positive("--layers", layers, max: 16)
        if residual && dense {
            throw ValidationError("--residual and --dense: choose one way to connect the layers")
        }
        try positive("--hidden", hidden, max: 4096)
        try positive("--embed", embed, max: 4096)
        if let spectralRadius, !(spectralRadius.isFinite && spectralRadius > 0) {
            throw ValidationError("--spectral-radius \(spectralRadius): must be a positive finite number")
        }
        guard forgetBias.isFinite else { throw ValidationError("--forget-bias \(forgetBias): must be a finite number") }
    }

    func modelConfig(cell: CellKind) -> ModelConfig {
        ModelConfig(cell: cell, activation: Activation(rawValue: activation)!, layers: layers,
                    bidirectional: bidirectional, vocabularySize: 0, embed: embed, hidden: hidden,
                    connections: connections)
    }

    var connections: LayerConnections {
        residual ? .residual : dense ? .dense : .plain
    }

    func initialization() -> Initialization {
        Initialization(inputWeights: Initialization.InputWeights(rawValue: `init`)!, spectralRadius: spectralRadius,
                       forgetBias: forgetBias)
    }
}

func positive(_ flag: String, _ value: Int, max limit: Int) throws {
    guard value > 0 else { throw ValidationError("\(flag) \(value): must be a positive whole number") }
    guard value <= limit else { throw ValidationError("\(flag) \(value): at most \(limit) is supported") }
}

/// Data and optimisation flags.
struct TrainingFlags: ParsableArguments {
    @Option(help: "UTF-8 text to train on. Without it: the built-in synthetic recall corpus.")
    var corpus: String?

    @Option(help: "How text becomes tokens: char or word.")
    var tokenize: String = "char"

    @Option(name: .customLong("vocab-size"), help: "Word tokenisation: keep this many words (the rest become <unk>).")
    var vocabSize: Int = 10_000

    @Option(name: .customLong("valid-fraction"), help: "Fraction of the tokens (at the end) held out for validation.")
    var validFraction: Double = 0.1

    @Option(help: "Synthetic corpus: the recall lag (a symbol must be carried this many steps).")
    var lag: Int = 8

    @Option(help: "Optimiser: sgd or adam.")
    var optimizer: String = "adam"

    @Option(help: "Learning rate.")
    var lr: Double = 1e-2

    @Option(help: "Rescale the gradient when its global norm exceeds this; 0 turns clipping off.")
    var clip: Double = 1

    @Option(help: "Optimiser steps.")
    var steps: Int = 1500

    @Option(help: "Parallel streams per batch (B).")
    var batch: Int = 16

    @Option(help: "Steps per window for truncated backpropagation through time (T).")
    var bptt: Int = 30

    @Option(help: "Random seed: same seed and flags, same numbers.")
    var seed: UInt64 = 0

    @Option(name: .customLong("eval-every"), help: "Evaluate on the validation split every N steps.")
    var evalEvery: Int = 250

    @Option(name: .customLong("probe-every"), help: "Run the gradient-flow, spectrum and gate probes every N steps.")
    var probeEvery: Int = 250

    func validate() throws {
        guard Tokenization(rawValue: tokenize) != nil else {
            throw ValidationError("--tokenize \(tokenize): use char or word")
        }
        guard OptimizerKind(rawValue: optimizer) != nil else {
            throw ValidationError("--optimizer \(optimizer): use sgd or adam")
        }
        guard lr.isFinite && lr > 0 else {
            throw ValidationError("--lr \(lr): the learning rate must be a positive finite number, e.g. 0.01")
        }
        guard clip.isFinite && clip >= 0 else {
            throw ValidationError("--clip \(clip): must be a finite number >= 0 (0 turns clipping off)")
        }
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
        options.optimizer = OptimizerKind(rawValue: optimizer)!
        options.learningRate = lr
        options.clip = clip
        options.steps = steps
        options.batch = batch
        options.bptt = bptt
        options.seed = seed
        options.probeEvery = probeEvery
        options.evalEvery = evalEvery
        options.threads = threads
        return options
    }

    /// The corpus these flags name. The synthetic corpus is made large enough for the run.
    func loadCorpus() throws -> Corpus {
        if let corpus {
            return try Corpus.load(path: corpus, tokenization: Tokenization(rawValue: tokenize)!,
                                   vocabSizeLimit: tokenize == "word" ? vocabSize : nil, validFraction: validFraction)
        }
        return try SyntheticCorpus.make(lag: lag, tokens: 400_000, validFraction: validFraction, seed: seed)
    }
}
