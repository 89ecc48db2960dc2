import DiagnoseRecord
import Foundation
import Testing
@testable import TrainingCore

/// Models saved from PyTorch (Scripts/torch_reference.py) probe to the same numbers as autograd.
@Suite struct ImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Expected: Decodable {
        var stepLosses: [Double]
        var gradientNorms: [String: Double]
        var G: [[[Double]]]
        var activation: String
    }

    static func load(_ name: String) throws -> (LanguageModel, ProbeInput, Expected) {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("torch_\(name).expected.json")))
        let weights = fixtures.appendingPathComponent("torch_\(name).safetensors")
        let file = try Safetensors.read(from: weights)
        let model = try ModelImport.model(from: file.tensors, file: weights.path,
                                          options: .init(activation: Activation(rawValue: expected.activation)!))
        let input = try ProbeInput.parse(Data(contentsOf: fixtures.appendingPathComponent("torch_\(name).tokens.json")),
                                         file: "tokens", model: model)
        return (model, input, expected)
    }

    @Test(arguments: ["lstm2", "rnn_relu", "gru_tied_nobias"])
    func probesAgreeWithPyTorchAutograd(name: String) throws {
        let (model, input, expected) = try Self.load(name)
        let section = model.gradientFlowSection(input.batch, workspace: Workspace(model: model), state: input.state)
        func close(_ a: Double, _ b: Double, scale: Double) -> Bool { abs(a - b) <= 1e-4 * max(abs(b), 1e-3 * scale) }
        for (t, loss) in expected.stepLosses.enumerated() {
            #expect(close(section.stepLosses[0][t], loss, scale: 1), "\(name) step loss \(t)")
        }
        for (tensor, norm) in expected.gradientNorms {
            // A tied decoder's gradient is accumulated under embedding.weight in PyTorch; ours
            // reports the two uses separately, so compare the untied tensors only.
            if name.contains("tied") && (tensor == "embedding.weight" || tensor == "decoder.weight") { continue }
            let ours = try #require(section.gradientNorms[tensor], "\(name): no gradient norm for \(tensor)")
            #expect(close(ours, norm, scale: norm), "\(name) \(tensor): \(ours) vs \(norm)")
        }
        for (layer, g) in expected.G.enumerated() {
            let ours = section.flows.first { $0.layer == layer && $0.direction == 0 }!.hidden
            let scale = g.joined().max()!
            for t in g.indices {
                for j in 0...t {
                    #expect(close(ours[t][j], g[t][j], scale: scale), "\(name) layer \(layer) G[\(t)][\(j)]: \(ours[t][j]) vs \(g[t][j])")
                }
            }
        }
    }

    /// A dense stack is recognised by its shapes; a residual one, declared, imports to the same model.
    @Test(arguments: [LayerConnections.dense, .residual])
    func skipConnectedStacksImport(wiring: LayerConnections) throws {
        let config = ModelConfig(cell: .gru, layers: 3, vocabularySize: 6, embed: 3, hidden: 4, connections: wiring)
        let original = LanguageModel(config: config)
        original.initialize(Initialization(seed: 3))
        let tensors = Dictionary(uniqueKeysWithValues: original.namedTensors().map {
            ($0.entry.name, SafetensorsTensor(name: $0.entry.name, shape: $0.entry.shape, values: $0.values))
        })
        let declared: LayerConnections? = wiring == .residual ? .residual : nil
        let imported = try ModelImport.model(from: tensors, file: "m.safetensors", options: .init(connections: declared))
        #expect(imported.config == config)
        #expect(imported.parameters.array == original.parameters.array)
        if wiring == .dense {
            #expect(throws: InputFileError.self) {
                var plain = tensors
                plain["rnn.weight_ih_l1"] = SafetensorsTensor(name: "rnn.weight_ih_l1", shape: [12, 4],
                                                             values: [Float](repeating: 0, count: 48))
                _ = try ModelImport.model(from: plain, file: "m.safetensors", options: .init(connections: .dense))
            }
        }
    }

    @Test func shapesDecideTheCell() throws {
        #expect(try Self.load("lstm2").0.config.cell == .lstm)
        #expect(try Self.load("lstm2").0.config.layers == 2)
        #expect(try Self.load("rnn_relu").0.config.cell == .rnn)
        #expect(try Self.load("gru_tied_nobias").0.config.cell == .gru)
    }

    @Test func savedModelsRoundTripToIdenticalProbes() throws {
        let (model, input, _) = try Self.load("lstm2")
        let data = try Safetensors.encode(tensors: model.namedTensors().map {
            SafetensorsTensor(name: $0.entry.name, shape: $0.entry.shape, values: $0.values)
        }, metadata: [:])
        let again = try ModelImport.model(from: Safetensors.parse(data, source: "memory").tensors, file: "memory")
        let a = model.probe(input.batch, step: 0, keepActivations: true, workspace: Workspace(model: model), state: input.state)
        let b = again.probe(input.batch, step: 0, keepActivations: true, workspace: Workspace(model: again), state: input.state)
        #expect(a == b)
    }

    static func tensors(_ name: String) throws -> [String: SafetensorsTensor] {
        try Safetensors.read(from: fixtures.appendingPathComponent("torch_\(name).safetensors")).tensors
    }

    @Test func badModelsNameTheTensor() throws {
        var tensors = try Self.tensors("lstm2")
        tensors.removeValue(forKey: "rnn.weight_hh_l1")
        #expect(throws: InputFileError.self) { try ModelImport.model(from: tensors, file: "m") }
        do { _ = try ModelImport.model(from: tensors, file: "m") } catch let error as InputFileError {
            #expect(error.description.contains("rnn.weight_hh_l1"))
        }
        var extra = try Self.tensors("rnn_relu")
        extra["attention.weight"] = SafetensorsTensor(name: "attention.weight", shape: [2], values: [0, 0])
        do { _ = try ModelImport.model(from: extra, file: "m"); Issue.record("extra tensor accepted") } catch let error as InputFileError {
            #expect(error.tensor == "attention.weight")
        }
        var wrong = try Self.tensors("rnn_relu")
        wrong["rnn.weight_hh_l0"] = SafetensorsTensor(name: "rnn.weight_hh_l0", shape: [16, 7], values: .init(repeating: 0, count: 112))
        #expect(throws: InputFileError.self) { try ModelImport.model(from: wrong, file: "m") }
        #expect(throws: InputFileError.self) { try ModelImport.model(from: Self.tensors("lstm2"), file: "m", options: .init(cell: .gru)) }
    }

    @Test func pyTorchBidirectionalStackingIsExplained() throws {
        let fixture = Self.fixtures.appendingPathComponent("rnn2_bidir_nobias.safetensors")
        do {
            _ = try ModelImport.model(from: Safetensors.read(from: fixture).tensors, file: fixture.path)
            Issue.record("a decoder over both directions was accepted")
        } catch let error as InputFileError {
            #expect(error.description.contains("both directions"))
        }
    }

    @Test func prefixMapsOtherModuleNames() throws {
        let renamed = Dictionary(uniqueKeysWithValues: try Self.tensors("rnn_relu").map { name, tensor in
            (name.hasPrefix("rnn.") ? "model.lstm." + name.dropFirst(4) : "model." + name, tensor)
        })
        let model = try ModelImport.model(from: renamed, file: "m", options: .init(prefix: "model.lstm."))
        #expect(model.config.cell == .rnn && model.config.hidden == 8)
    }

    @Test(arguments: [
        (#"[1, 2]"#, "JSON object"),
        (#"{"tokens": []}"#, "empty"),
        (#"{"tokens": [[1, 2, 3], [1, 2]]}"#, "row 1"),
        (#"{"tokens": [[1, 2, 99]]}"#, "outside"),
        (#"{"tokens": [[1, true]]}"#, "whole token id"),
        (#"{"tokens": [[1]]}"#, "T + 1"),
        (#"{"tokens": [[1, 2]], "h0": [[[0]]]}"#, "h0"),
        (#"{"rows": [[1, 2]]}"#, "tokens"),
        (#"{"tokens": [[1, 2]], "h_0": [[[0]]]}"#, #"has the key "h_0", which is not read (known: tokens, h0, c0)"#),
        (#"{"tokens": [[1, 2]], "h0": [[[NaN]]]}"#, "is not valid JSON ("),
        (#"{"tokens": [[1, "2"]]}"#, #"position 1: "2" is not a whole token id"#),
    ])
    func badBatchesAreExplained(json: String, phrase: String) throws {
        let (model, _, _) = try Self.load("rnn_relu")
        do {
            _ = try ProbeInput.parse(Data(json.utf8), file: "batch.json", model: model)
            Issue.record("accepted \(json)")
        } catch let error as InputFileError {
            #expect(error.description.contains(phrase), "\(json): \(error)")
            #expect(error.description.contains("batch.json"))
        }
    }
}
