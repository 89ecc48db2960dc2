import DiagnoseRecord
import Foundation

/// Builds a `LanguageModel` from tensors saved from PyTorch (Embedding -> nn.RNN / nn.LSTM / nn.GRU
/// -> Linear, `safetensors.torch.save_file(model.state_dict(), path)`), inferring the cell, sizes,
/// layers and direction from the shapes.
public enum ModelImport {
    public struct Options: Sendable {
        /// Settles what the shapes cannot tell (and is checked against them).
        public var cell: CellKind?
        /// The simple RNN's nonlinearity: tanh and relu weights look alike.
        public var activation: Activation = .tanh
        /// The recurrent module's name prefix in the file, e.g. `model.lstm.`; its parent
        /// (`model.`) is also stripped from the other tensors' names.
        public var prefix: String?
        /// Residual stacks look exactly like plain ones, so they must be declared; dense stacks are
        /// recognised by the width of `weight_ih_l1` (E + H). nil: infer.
        public var connections: LayerConnections?

        public init(cell: CellKind? = nil, activation: Activation = .tanh, prefix: String? = nil,
                    connections: LayerConnections? = nil) {
            self.cell = cell
            self.activation = activation
            self.prefix = prefix
            self.connections = connections
        }
    }

    public static func model(from tensors: [String: SafetensorsTensor], file: String,
                             options: Options = Options()) throws -> LanguageModel {
        func fail(_ tensor: String?, _ problem: String, _ remedy: InputFileError.Remedy? = nil) -> InputFileError {
            InputFileError(kind: .weights, file: file, place: tensor.map { .tensor($0) }, problem: problem, remedy: remedy)
        }
        var named = [String: SafetensorsTensor]()
        var origin = [String: String]()
        if let prefix = options.prefix, !prefix.isEmpty, !tensors.keys.contains(where: { $0.hasPrefix(prefix) }) {
            throw fail(nil, "no tensor name starts with the prefix \(prefix); the file holds "
                + "\(tensors.keys.sorted().prefix(6).joined(separator: ", "))", .namePrefix)
        }
        // Two names read as one (`rnn.weight_hh_l0` kept, `model.lstm.weight_hh_l0` renamed to it)
        // would make the model depend on which is read last: refuse.
        for name in tensors.keys.sorted() {
            let renamed = rename(name, prefix: options.prefix)
            if let other = origin[renamed] {
                throw fail(renamed, "would come from both \(other) and \(name): the file holds two models' tensors",
                           .oneModelPerFile)
            }
            origin[renamed] = name
            named[renamed] = tensors[name]
        }
        guard let embedding = named["embedding.weight"] else {
            throw fail("embedding.weight", "is missing; the file holds \(named.keys.sorted().prefix(8).joined(separator: ", ")). "
                + "Save an Embedding -> RNN/LSTM/GRU -> Linear model", .namePrefix)
        }
        guard embedding.shape.count == 2, embedding.shape[0] > 0, embedding.shape[1] > 0 else {
            throw fail("embedding.weight", "has shape \(embedding.shape); expected (vocabulary, embedding)")
        }
        let (V, E) = (embedding.shape[0], embedding.shape[1])
        guard let hh = named["rnn.weight_hh_l0"] else {
            throw fail("rnn.weight_hh_l0", "is missing: no recurrent layer called rnn found", .namePrefix)
        }
        guard hh.shape.count == 2, hh.shape[1] > 0, hh.shape[0] % hh.shape[1] == 0 else {
            throw fail("rnn.weight_hh_l0", "has shape \(hh.shape); expected (g*H, H) with g = 1 (RNN), 3 (GRU) or 4 (LSTM)")
        }
        let H = hh.shape[1]
        let inferred: CellKind
        switch hh.shape[0] / H {
        case 1: inferred = .rnn
        case 3: inferred = .gru
        case 4: inferred = .lstm
        default:
            throw fail("rnn.weight_hh_l0", "has shape \(hh.shape): \(hh.shape[0] / H) gate blocks fit no RNN (1), GRU (3) or LSTM (4)")
        }
        if let cell = options.cell, cell != inferred {
            throw fail("rnn.weight_hh_l0", "has shape \(hh.shape), which is a \(inferred.rawValue), not the \(cell.rawValue) asked for",
                       .cellFromShapes)
        }
        var layers = 0
        while named["rnn.weight_ih_l\(layers)"] != nil { layers += 1 }
        guard layers > 0 else { throw fail("rnn.weight_ih_l0", "is missing") }
        let bidirectional = named["rnn.weight_ih_l0_reverse"] != nil
        // A dense stack's second layer reads the embedding and the first layer: (gH, E + H).
        let looksDense = layers > 1 && named["rnn.weight_ih_l1"]?.shape.last == E + H
        let connections = options.connections ?? (looksDense ? .dense : .plain)
        if connections == .dense && !looksDense {
            throw fail("rnn.weight_ih_l1", "has shape \(named["rnn.weight_ih_l1"]?.shape ?? []); a dense stack's needs (g*H, E + H) = (\(hh.shape[0]), \(E + H))")
        }
        let config = ModelConfig(cell: inferred, activation: inferred == .rnn ? options.activation : .tanh, layers: layers,
                                 bidirectional: bidirectional, vocabularySize: V, embed: E, hidden: H,
                                 connections: connections)
        let model = LanguageModel(config: config)
        var used: Set<String> = ["embedding.weight"]

        for entry in model.layout.entries {
            let expected = entry.shape
            var source = named[entry.name]
            if entry.name == "decoder.weight", source == nil {
                // A tied decoder is not saved twice: it is the embedding.
                guard E == H else {
                    throw fail("decoder.weight", "is missing and cannot be tied to the embedding: E = \(E) but H = \(H)")
                }
                source = embedding
            }
            guard let tensor = source else {
                if entry.name.contains(".bias") { continue }  // a model built with bias=False
                throw fail(entry.name, "is missing (a \(layers)-layer \(bidirectional ? "bidirectional " : "")\(inferred.rawValue) needs it)")
            }
            used.insert(entry.name)
            guard tensor.shape == expected else {
                var why = "has shape \(tensor.shape); this \(inferred.rawValue) (V=\(V), E=\(E), H=\(H)) needs \(expected)"
                if bidirectional, tensor.shape.last == 2 * H {
                    why += ". It reads both directions' outputs, as PyTorch's bidirectional layers do, so it sees the "
                        + "token it predicts; diagnose probes ELMo-style bidirectional LMs whose stacks and decoder see one direction"
                }
                throw fail(entry.name, why)
            }
            let p = model.parameters.pointer + entry.offset
            for (i, value) in tensor.values.enumerated() { p[i] = value }
        }
        let extra = Set(named.keys).subtracting(used).sorted()
        guard extra.isEmpty else {
            throw fail(extra[0], "is not part of an Embedding -> \(inferred.rawValue) -> Linear language model"
                + (extra.count > 1 ? " (nor are \(extra.dropFirst().prefix(4).joined(separator: ", ")))" : "")
                + "; remove it", .namePrefix)
        }
        return model
    }

    static func rename(_ name: String, prefix: String?) -> String {
        guard let prefix, !prefix.isEmpty else { return name }
        if name.hasPrefix(prefix) { return "rnn." + name.dropFirst(prefix.count) }
        // The parent of the recurrent module (`model.` for `model.lstm.`) prefixes the other modules.
        let trimmed = prefix.hasSuffix(".") ? String(prefix.dropLast()) : prefix
        if let dot = trimmed.lastIndex(of: ".") {
            let parent = String(trimmed[...dot])
            if name.hasPrefix(parent) { return String(name.dropFirst(parent.count)) }
        }
        return name
    }
}

/// A probe batch given as JSON: `{"tokens": [[...], ...]}`, B rows of T + 1 token ids (inputs and
/// next-token targets), optionally `"h0"` and `"c0"` as [layer][B][H] (PyTorch's (L, B, H) layout).
public struct ProbeInput {
    public var batch: Batch
    public var state: RecurrentState?

    public init(batch: Batch, state: RecurrentState? = nil) {
        self.batch = batch
        self.state = state
    }

    public static func parse(_ data: Data, file: String, model: LanguageModel) throws -> ProbeInput {
        func fail(_ problem: String) -> InputFileError { InputFileError(kind: .batch, file: file, problem: problem) }
        let object: Any
        do { object = try JSONText.parse(data) } catch {
            throw fail("is not valid JSON (\(error.reason)); expected {\"tokens\": [[id, ...], ...]}")
        }
        guard let root = object as? [String: Any] else {
            throw fail("is not a JSON object; expected {\"tokens\": [[id, ...], ...]}")
        }
        // A misspelt "h0" would otherwise probe from a zero state without a word.
        let known = ["tokens", "h0", "c0"]
        if let unknown = root.keys.filter({ !known.contains($0) }).sorted().first {
            throw fail("has the key \"\(unknown)\", which is not read (known: \(known.joined(separator: ", "))); remove it or correct its name")
        }
        guard let rows = root["tokens"] as? [Any] else { throw fail("has no \"tokens\" array of rows") }
        guard !rows.isEmpty else { throw fail("\"tokens\" is empty: give at least one row of T + 1 token ids") }
        guard rows.count <= RecordLimits.maxBatch else {
            throw fail("\"tokens\" has \(rows.count) rows; at most \(RecordLimits.maxBatch) are probed")
        }
        let V = model.config.vocabularySize
        var ids: [[Int32]] = []
        for (r, row) in rows.enumerated() {
            guard let values = row as? [Any] else { throw fail("row \(r) of \"tokens\" is not an array of token ids") }
            // The same limit as --bptt, checked before the row is read.
            guard values.count <= RecordLimits.maxSteps + 1 else {
                throw fail("row \(r) has \(values.count) tokens; a row holds at most T + 1 = \(RecordLimits.maxSteps + 1) "
                    + "(T is limited to \(RecordLimits.maxSteps) steps, as in training)")
            }
            var parsed: [Int32] = []
            for (i, value) in values.enumerated() {
                guard let number = value as? NSNumber, String(cString: number.objCType) != "c",
                      let id = Int(exactly: number.doubleValue) else {
                    throw fail("row \(r), position \(i): \(value is String ? "\"\(value)\"" : "\(value)") is not a whole token id")
                }
                guard id >= 0, id < V else {
                    throw fail("row \(r), position \(i): token id \(id) is outside the model's vocabulary 0..<\(V)")
                }
                parsed.append(Int32(id))
            }
            guard parsed.count >= 2 else {
                throw fail("row \(r) has \(parsed.count) token(s); each row needs T + 1 >= 2 (inputs and next-token targets)")
            }
            if let first = ids.first, first.count != parsed.count {
                throw fail("row \(r) has \(parsed.count) tokens but row 0 has \(first.count): rows must have equal length")
            }
            ids.append(parsed)
        }
        let B = ids.count, T = ids[0].count - 1
        var window = [Int32](repeating: 0, count: (T + 1) * B)
        for b in 0..<B { for t in 0...T { window[t * B + b] = ids[b][t] } }
        let batch = Batch(batch: B, steps: T, window: window, recall: nil)
        let H = model.config.hidden, L = model.config.layers
        func state(_ key: String) throws -> [FloatBuffer]? {
            guard let value = root[key] else { return nil }
            guard let layers = value as? [[[Any]]], layers.count == L,
                  layers.allSatisfy({ $0.count == B && $0.allSatisfy { $0.count == H } }) else {
                throw fail("\"\(key)\" must have shape [layers=\(L)][batch=\(B)][hidden=\(H)]")
            }
            return try layers.map { layer in
                FloatBuffer(try layer.flatMap { row in try row.map { item -> Float in
                    guard let number = item as? NSNumber, number.doubleValue.isFinite else {
                        throw fail("\"\(key)\" holds \(item), not a finite number")
                    }
                    return number.floatValue
                } })
            }
        }
        let h0 = try state("h0")
        let c0 = try state("c0")
        if c0 != nil, model.config.cell != .lstm { throw fail("\"c0\" is given but the model is not an LSTM") }
        var initial: RecurrentState? = nil
        if h0 != nil || c0 != nil {
            let zeros = { (0..<L).map { _ in FloatBuffer(count: B * H) } }
            initial = RecurrentState(h: h0 ?? zeros(), c: model.config.cell == .lstm ? (c0 ?? zeros()) : nil)
        }
        return ProbeInput(batch: batch, state: initial)
    }
}
