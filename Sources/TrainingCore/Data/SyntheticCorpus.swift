import DiagnoseRecord
import Foundation

/// The built-in corpus: a recall task with a long-range dependency of known lag.
///
/// The text is a sequence of periods of `lag + 2` characters: `lag` random symbols from an
/// alphabet of `symbols` letters, a marker `#`, then the answer, which repeats the symbol seen
/// `lag` steps before the marker (the period's first symbol). Everything but the answers is
/// unpredictable noise, so the best possible perplexity is symbols^(lag / (lag + 2)), and the
/// answers can only be predicted by carrying one symbol for `lag` steps: exactly what a simple
/// RNN's vanishing gradient makes hard and an LSTM's cell state makes easy. A marker every
/// period (rather than at random places) means the model has to hold one symbol at a time.
public enum SyntheticCorpus {
    public static let marker: Character = "#"
    public static let name = "synthetic-recall"

    public static func make(lag: Int, symbols: Int = 16, tokens: Int, validFraction: Double,
                            seed: UInt64) throws -> Corpus {
        guard validFraction > 0, validFraction < 1 else { throw CorpusError.badValidFraction(validFraction) }
        precondition(lag >= 1 && symbols >= 2 && symbols <= 26)
        var generator = SeededGenerator(seed: seed).derived(0x5EED_C0C0)
        let alphabet = (0..<symbols).map { Character(UnicodeScalar(UInt8(ascii: "a") + UInt8($0))) }
        var text = ""
        text.reserveCapacity(tokens)
        var mask: [Bool] = []
        mask.reserveCapacity(tokens)
        while mask.count < tokens {
            var first: Character = "a"
            for i in 0..<lag {
                let symbol = alphabet[generator.nextInt(below: symbols)]
                if i == 0 { first = symbol }
                text.append(symbol)
                mask.append(false)
            }
            text.append(marker)
            mask.append(false)
            text.append(first)
            mask.append(true)
        }
        var corpus = try Corpus.make(text: text, tokenization: .char, validFraction: validFraction, name: name)
        corpus.synthetic = true
        corpus.trainRecall = Array(mask[..<corpus.train.count])
        corpus.validRecall = Array(mask[corpus.train.count...])
        corpus.recall = RecallTask(lag: lag, letters: symbols)
        return corpus
    }
}
