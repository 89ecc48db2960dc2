import ArgumentParser
import DiagnoseRecord
import Foundation

// The record's vocabulary as flag values: ArgumentParser parses them, rejects an unknown word with
// exit 64 and a message naming the flag and the choices, and lists the choices in --help.

extension CellKind: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}
extension Optimizer: ExpressibleByArgument {}
extension InputWeights: ExpressibleByArgument {}
extension Tokenization: ExpressibleByArgument {}

/// A comma-separated list of words (`--cell rnn,lstm`): each item parsed as `Element`, repeats
/// dropped, at least one item. (`FlagList` is the same for numbers, with ranges.)
struct WordList<Element: ExpressibleByArgument & RawRepresentable & Equatable>: ExpressibleByArgument
where Element.RawValue == String {
    var items: [Element]

    init(_ items: [Element]) { self.items = items }

    init?(argument: String) {
        var items: [Element] = []
        for piece in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let item = Element(argument: piece.trimmingCharacters(in: .whitespaces).lowercased()) else { return nil }
            if !items.contains(item) { items.append(item) }
        }
        guard !items.isEmpty else { return nil }
        self.items = items
    }

    var defaultValueDescription: String {
        items.map(\.rawValue).joined(separator: ",")
    }

    static var allValueStrings: [String] { Element.allValueStrings }
}
