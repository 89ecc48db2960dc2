// Tests of the safetensors reader and writer: round trips, determinism, atomic writes, fixtures
// written by an independent Python writer (Scripts/make_fixtures.py), every kind of bad input,
// and a seeded fuzz run over random and mutated files.

import DiagnoseRecord
import Foundation
import Testing
@testable import TrainingCore

/// Namespace for the suites and their helpers, so that no helper name can collide with
/// another test file of the module.
enum SafetensorsTests {

    // MARK: - Helpers

    /// The error `parse` throws for `data`, or nil (recording an issue) when it returns or throws
    /// something other than `SafetensorsError`.
    private static func parseError(_ data: Data, source: String = "bad.safetensors") -> SafetensorsError? {
        do {
            _ = try Safetensors.parse(data, source: source)
            Issue.record("parse accepted a file it should reject")
            return nil
        } catch let error as SafetensorsError {
            return error
        } catch {
            Issue.record("parse threw \(type(of: error)), not SafetensorsError: \(error)")
            return nil
        }
    }

    /// A file with exactly this header text (no padding), `data` after it, and a header-length field
    /// of `declaredLength` (default: the true length), so tests can write headers that lie.
    private static func rawFile(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
        rawFile(headerBytes: Array(header.utf8), data: data, declaredLength: declaredLength)
    }

    private static func rawFile(headerBytes: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
        let length = declaredLength ?? UInt64(headerBytes.count)
        var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        bytes += headerBytes
        bytes += data
        return Data(bytes)
    }

    /// `{"dtype":..,"shape":..,"data_offsets":..}` for hand-written headers.
    private static func entry(_ dtype: String = "F32", _ shape: String, _ offsets: String) -> String {
        "{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    private static func bitsEqual(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// Largest |a[i] - b[i]| over finite pairs (infinity if the counts differ).
    private static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Deterministic PRNG for the fuzz tests (SplitMix64: Steele, Lea, Flood 2014).
    private struct SplitMix64: RandomNumberGenerator {
        var generator: SeededGenerator
        init(state: UInt64) { generator = SeededGenerator(rawState: state) }
        mutating func next() -> UInt64 { generator.next() }
        /// Uniform in 0..<bound (bound > 0; modulo bias is irrelevant here).
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }


    // MARK: - Round trip, determinism, writing

    @Suite struct RoundTrip {
        static let tensors: [SafetensorsTensor] = [
            SafetensorsTensor(name: "embedding.weight", shape: [3, 2], values: [0.5, -1.25, 3e-38, .leastNonzeroMagnitude, -0.0, 7]),
            SafetensorsTensor(name: "specials", shape: [4], values: [.infinity, -.infinity, .nan, .greatestFiniteMagnitude]),
            SafetensorsTensor(name: "scalar", shape: [], values: [42]),
            SafetensorsTensor(name: "empty", shape: [0, 5], values: []),
            SafetensorsTensor(name: "quote\"back\\slash\ttab\u{1}é✓😀", shape: [1, 1, 2], values: [1, 2]),
        ]
        static let metadata = ["format": "pt", "note": "line\nbreak \"quoted\" \\ café 😀", "": "empty key"]

        @Test func roundTripKeepsNamesShapesValuesAndMetadata() throws {
            let bytes = try Safetensors.encode(tensors: Self.tensors, metadata: Self.metadata)
            let (tensors, metadata) = try Safetensors.parse(bytes, source: "roundtrip")
            #expect(metadata == Self.metadata)
            #expect(Set(tensors.keys) == Set(Self.tensors.map(\.name)))
            for original in Self.tensors {
                let read = try #require(tensors[original.name])
                #expect(read.name == original.name)
                #expect(read.dtype == "F32")
                #expect(read.shape == original.shape)
                // Encoding stores bit patterns; NaN, -0 and subnormals must survive unchanged.
                #expect(bitsEqual(read.values, original.values), "values of \(original.name)")
            }
        }

        @Test func encodingIsDeterministicAndPadded() throws {
            var reordered: [String: String] = [:]
            for key in Self.metadata.keys.sorted().reversed() { reordered[key] = Self.metadata[key] }
            let first = try Safetensors.encode(tensors: Self.tensors, metadata: Self.metadata)
            let second = try Safetensors.encode(tensors: Self.tensors, metadata: reordered)
            #expect(first == second)

            let headerLength = first.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            #expect(headerLength % 8 == 0)
            let dataBytes = Self.tensors.reduce(0) { $0 + 4 * $1.values.count }
            #expect(first.count == 8 + headerLength + dataBytes)
        }

        @Test func headerHasTheDocumentedKeyOrder() throws {
            let tensors = [SafetensorsTensor(name: "b", shape: [2], values: [1, 2]),
                           SafetensorsTensor(name: "a", shape: [1, 1], values: [3])]
            let bytes = try Safetensors.encode(tensors: tensors, metadata: ["z": "1", "format": "pt"])
            let header = String(decoding: bytes.dropFirst(8).prefix(bytes.count - 8 - 12), as: UTF8.self)
            let expected = #"{"__metadata__":{"format":"pt","z":"1"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                + #""a":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}"#
            #expect(header.hasPrefix(expected))
            #expect(header.dropFirst(expected.count).allSatisfy { $0 == " " })
            // The data follows in the given order: 1, 2, then 3.
            let data = try Safetensors.parse(bytes, source: "order").tensors
            #expect(bitsEqual(data["b"]?.values ?? [], [1, 2]))
            #expect(bitsEqual(data["a"]?.values ?? [], [3]))
        }

        @Test func encodeWithoutMetadataOmitsTheKey() throws {
            let bytes = try Safetensors.encode(tensors: [SafetensorsTensor(name: "w", shape: [1], values: [1])], metadata: [:])
            #expect(!String(decoding: bytes, as: UTF8.self).contains("__metadata__"))
            #expect(try Safetensors.parse(bytes, source: "x").metadata.isEmpty)
        }

        @Test(arguments: [
            ([SafetensorsTensor(name: "w", shape: [2, 3], values: [1, 2, 3])], "w", "needs 6 values but it has 3"),
            ([SafetensorsTensor(name: "w", shape: [1], values: [1]), SafetensorsTensor(name: "w", shape: [1], values: [2])],
             "w", "already has this name"),
            ([SafetensorsTensor(name: "__metadata__", shape: [1], values: [1])], "__metadata__", "reserved"),
            ([SafetensorsTensor(name: "w", shape: [-1], values: [])], "w", "negative entry"),
        ])
        func encodeRejectsInconsistentTensors(tensors: [SafetensorsTensor], name: String, fragment: String) {
            do {
                _ = try Safetensors.encode(tensors: tensors, metadata: [:])
                Issue.record("encode accepted inconsistent tensors")
            } catch let error as SafetensorsError {
                #expect(error.tensor == name)
                #expect(error.description.contains(fragment), "\(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }

        private func temporaryFolder() throws -> URL {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return folder
        }

        @Test func writeReplacesTheFileAndLeavesNoTemporaryFile() throws {
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let url = folder.appendingPathComponent("model.safetensors")
            let old = [SafetensorsTensor(name: "w", shape: [1], values: [1])]
            let new = [SafetensorsTensor(name: "w", shape: [2], values: [2, 3])]
            try Safetensors.write(tensors: old, metadata: ["v": "1"], to: url)
            try Safetensors.write(tensors: new, metadata: ["v": "2"], to: url)
            let (tensors, metadata) = try Safetensors.read(from: url)
            #expect(bitsEqual(tensors["w"]?.values ?? [], [2, 3]))
            #expect(metadata == ["v": "2"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
            #expect(try Data(contentsOf: url) == Safetensors.encode(tensors: new, metadata: ["v": "2"]))
        }

        @Test func failedWriteLeavesTheEarlierFileIntact() throws {
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let url = folder.appendingPathComponent("model.safetensors")
            try Safetensors.write(tensors: [SafetensorsTensor(name: "w", shape: [1], values: [1])], to: url)
            let before = try Data(contentsOf: url)

            // Inconsistent tensors: refused before anything touches the disk.
            #expect(throws: SafetensorsError.self) {
                try Safetensors.write(tensors: [SafetensorsTensor(name: "w", shape: [3], values: [1])], to: url)
            }
            #expect(try Data(contentsOf: url) == before)

            // The temporary file cannot be created (a folder is in its place): the error names the file.
            let blocker = folder.appendingPathComponent(".model.safetensors.tmp-\(getpid())")
            try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: false)
            do {
                try Safetensors.write(tensors: [SafetensorsTensor(name: "w", shape: [1], values: [9])], to: url)
                Issue.record("write succeeded although its temporary path is a folder")
            } catch let error as SafetensorsError {
                guard case .cannotWrite = error.problem else { Issue.record("wrong problem \(error.problem)"); return }
                #expect(error.description.contains(url.path))
            }
            #expect(try Data(contentsOf: url) == before)
            var isFolder: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: blocker.path, isDirectory: &isFolder) && isFolder.boolValue)
        }

        @Test func readingAMissingFileNamesIt() {
            let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/model.safetensors")
            do {
                _ = try Safetensors.read(from: url)
                Issue.record("read a missing file")
            } catch let error as SafetensorsError {
                guard case .cannotRead = error.problem else { Issue.record("wrong problem \(error.problem)"); return }
                #expect(error.description.contains(url.path))
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    // MARK: - Half precision

    @Suite struct HalfPrecision {
        /// Every one of the 65536 binary16 patterns against the definition, computed with Float
        /// arithmetic instead of bit moves.
        @Test func everyHalfPatternMatchesTheDefinition() {
            var mismatches = 0
            for bits in 0...UInt32(0xFFFF) {
                let half = UInt16(bits)
                let negative = half & 0x8000 != 0
                let exponent = Int(half >> 10) & 0x1F
                let mantissa = Float(half & 0x3FF)
                let got = SafetensorsDtype.floatFromHalfBits(half)
                let magnitude: Float
                switch exponent {
                case 0: magnitude = mantissa * 0x1p-24
                case 31: magnitude = mantissa == 0 ? .infinity : .nan
                default: magnitude = Float(sign: .plus, exponent: exponent - 15, significand: 1 + mantissa / 1024)
                }
                let expected = negative ? -magnitude : magnitude
                let same = expected.isNaN
                    ? got.isNaN && got.sign == expected.sign && got.bitPattern & 0x7F_FFFF == UInt32(half & 0x3FF) << 13
                    : got.bitPattern == expected.bitPattern  // exact conversion: every half is a float
                if !same { mismatches += 1 }
            }
            #expect(mismatches == 0)
        }

        @Test func bfloat16IsTheTopHalfOfAFloat() {
            #expect(SafetensorsDtype.floatFromBFloat16Bits(0x3F80) == 1)
            #expect(SafetensorsDtype.floatFromBFloat16Bits(0xC040) == -3)
            #expect(SafetensorsDtype.floatFromBFloat16Bits(0x3EAB).bitPattern == 0x3EAB_0000)
            #expect(SafetensorsDtype.floatFromBFloat16Bits(0x7F80) == .infinity)
            #expect(SafetensorsDtype.floatFromBFloat16Bits(0xFFC0).isNaN)
            #expect(SafetensorsDtype.floatFromBFloat16Bits(0x8000).bitPattern == 0x8000_0000)
        }
    }

    // MARK: - Fixtures from Scripts/make_fixtures.py

    /// The expectations the script writes next to each fixture.
    private struct FixtureExpectation: Decodable {
        struct Tensor: Decodable {
            var dtype: String
            var shape: [Int]
            var sum: Double
            var nonfinite: Int
        }
        struct Element: Decodable {
            var tensor: String
            var index: [Int]
            var flat: Int
            var value: Double?
            var f32_bits: UInt32
        }
        var metadata: [String: String]
        var tensors: [String: Tensor]
        var elements: [Element]
    }

    /// Fixtures/<name> next to this source file. Found through #filePath rather than Bundle.module
    /// so the tests compile and run whether or not Package.swift declares the folder a resource.
    private static func fixtureURL(_ name: String) throws -> URL {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
        try #require(FileManager.default.fileExists(atPath: url.path), "missing fixture \(url.path); run Scripts/make_fixtures.py")
        return url
    }

    @Suite struct Fixtures {
        static let stems = ["lstm_f32", "lstm_f16", "lstm_bf16", "lstm_f64", "rnn2_bidir_nobias", "gru_tied", "specials"]

        @Test(arguments: stems)
        func fixtureMatchesItsExpectations(stem: String) throws {
            let expected = try JSONDecoder().decode(FixtureExpectation.self,
                                                    from: Data(contentsOf: fixtureURL("\(stem).json")))
            let (tensors, metadata) = try Safetensors.read(from: fixtureURL("\(stem).safetensors"))
            #expect(metadata == expected.metadata)
            #expect(Set(tensors.keys) == Set(expected.tensors.keys))
            for (name, want) in expected.tensors {
                let got = try #require(tensors[name])
                #expect(got.dtype == want.dtype, "dtype of \(name)")
                #expect(got.shape == want.shape, "shape of \(name)")
                let finite = got.values.filter(\.isFinite)
                #expect(got.values.count - finite.count == want.nonfinite, "non-finite count of \(name)")
                // Sums every value, so a decoding error anywhere shows; order differs from numpy's, hence the tolerance.
                let sum = finite.reduce(0.0) { $0 + Double($1) }
                let scale = finite.reduce(1.0) { $0 + abs(Double($1)) }
                #expect(abs(sum - want.sum) <= 1e-12 * scale, "sum of \(name): \(sum) vs \(want.sum)")
            }
            for element in expected.elements {
                let tensor = try #require(tensors[element.tensor])
                // Row-major flat index from the multi-index, checked against the script's.
                let flat = zip(element.index, tensor.shape).reduce(0) { $0 * $1.1 + $1.0 }
                #expect(flat == element.flat)
                try #require(flat < tensor.values.count)
                let got = tensor.values[flat]
                // Decoding is exact by definition (F16/BF16 widen, F64 rounds once to nearest), so the
                // bit pattern is compared; NaN payloads and the sign of zero must match too.
                #expect(got.bitPattern == element.f32_bits,
                        "\(element.tensor)\(element.index): \(got) vs \(element.value.map { "\($0)" } ?? "non-finite")")
            }
        }

        /// The same source values stored in four dtypes agree within each dtype's precision.
        @Test func lowerPrecisionFilesAgreeWithF32() throws {
            let reference = try Safetensors.read(from: fixtureURL("lstm_f32.safetensors")).tensors
            // Relative precision: half 2^-11, bfloat16 2^-8 (round to nearest: half an ulp); F64 rounds to the F32 value.
            for (stem, relative) in [("lstm_f16", Float(0x1p-11)), ("lstm_bf16", 0x1p-8), ("lstm_f64", 0)] {
                let other = try Safetensors.read(from: fixtureURL("\(stem).safetensors")).tensors
                #expect(Set(other.keys) == Set(reference.keys))
                for (name, tensor) in reference {
                    let values = try #require(other[name]).values
                    let limit = tensor.values.map { relative * abs($0) + 1e-7 }
                    let worst = zip(zip(values, tensor.values), limit).map { abs($0.0 - $0.1) - $1 }.max() ?? 0
                    let largest = maxDifference(values, tensor.values)
                    #expect(worst <= 0, "\(stem) \(name): largest difference \(largest) exceeds the bound by \(worst)")
                }
            }
        }

        /// A file from the independent writer, re-encoded here and read again, keeps every value.
        @Test func reencodingAPythonFileKeepsItsValues() throws {
            let (tensors, metadata) = try Safetensors.read(from: fixtureURL("rnn2_bidir_nobias.safetensors"))
            let ordered = tensors.keys.sorted().map { tensors[$0]! }
            let again = try Safetensors.parse(Safetensors.encode(tensors: ordered, metadata: metadata), source: "again")
            #expect(again.metadata == metadata)
            for (name, tensor) in tensors {
                #expect(again.tensors[name]?.shape == tensor.shape)
                #expect(bitsEqual(again.tensors[name]?.values ?? [], tensor.values), "\(name)")
            }
            // PyTorch names and layouts of a 2-layer bidirectional RNN without biases.
            #expect(tensors["rnn.weight_ih_l1_reverse"]?.shape == [5, 10])
            #expect(tensors["decoder.weight"]?.shape == [11, 10])
            #expect(!tensors.keys.contains { $0.contains("bias") })
        }
    }

    // MARK: - Bad input

    /// One malformed file and what the reader must say about it.
    struct BadFileCase: Sendable, CustomTestStringConvertible {
        var label: String
        var file: Data
        var problem: SafetensorsError.Problem
        var tensor: String?
        /// Text the message must contain besides the file name (and the tensor name, if any).
        var fragments: [String] = []
        var testDescription: String { label }
    }

    private static let w8 = [UInt8](repeating: 0, count: 8)

    static let badFileCases: [BadFileCase] = [
        BadFileCase(label: "empty file", file: Data(), problem: .fileTooShort(byteCount: 0),
                    fragments: ["not a safetensors file", "save_file"]),
        BadFileCase(label: "7 bytes", file: Data([1, 2, 3, 4, 5, 6, 7]), problem: .fileTooShort(byteCount: 7)),
        BadFileCase(label: "absurd header length", file: rawFile("{}", declaredLength: UInt64.max),
                    problem: .headerTooLarge(length: UInt64.max), fragments: ["100000000"]),
        BadFileCase(label: "header just above the cap", file: rawFile("{}", declaredLength: 100_000_001),
                    problem: .headerTooLarge(length: 100_000_001)),
        BadFileCase(label: "header beyond the file", file: rawFile("{}", declaredLength: 1000),
                    problem: .headerBeyondFile(length: 1000, available: 2), fragments: ["truncated"]),
        BadFileCase(label: "invalid UTF-8", file: rawFile(headerBytes: Array("{\"a".utf8) + [0xFF] + Array("\":1}".utf8)),
                    problem: .headerNotUTF8(byteOffset: 3), fragments: ["UTF-8"]),
        BadFileCase(label: "UTF-16 header", file: rawFile(headerBytes: [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00]),
                    problem: .headerNotUTF8(byteOffset: 0)),
        BadFileCase(label: "not JSON", file: rawFile("{\"w\": "), problem: .headerNotJSON(reason: ""),
                    fragments: ["not valid JSON"]),
        BadFileCase(label: "deeply nested JSON", file: rawFile(String(repeating: "[", count: 100_000)),
                    problem: .headerNotJSON(reason: "")),
        BadFileCase(label: "JSON array", file: rawFile("[1, 2]"), problem: .headerNotObject(found: "an array")),
        BadFileCase(label: "entry not an object", file: rawFile(#"{"w": 3}"#), problem: .entryNotObject(found: "the integer 3"),
                    tensor: "w"),
        BadFileCase(label: "missing dtype", file: rawFile(#"{"w": {"shape": [2], "data_offsets": [0, 8]}}"#, data: w8),
                    problem: .missingField("dtype"), tensor: "w", fragments: ["\"dtype\""]),
        BadFileCase(label: "missing shape", file: rawFile(#"{"w": {"dtype": "F32", "data_offsets": [0, 8]}}"#, data: w8),
                    problem: .missingField("shape"), tensor: "w"),
        BadFileCase(label: "missing data_offsets", file: rawFile(#"{"w": {"dtype": "F32", "shape": [2]}}"#, data: w8),
                    problem: .missingField("data_offsets"), tensor: "w"),
        BadFileCase(label: "dtype not a string", file: rawFile("{\"w\": \(entry("F32", "[2]", "[0,8]").replacingOccurrences(of: "\"F32\"", with: "32"))}", data: w8),
                    problem: .wrongFieldType(field: "dtype", expected: "a string such as \"F32\"", found: "the integer 32"),
                    tensor: "w"),
        BadFileCase(label: "unknown dtype", file: rawFile("{\"w\": \(entry("I64", "[1]", "[0,8]"))}", data: w8),
                    problem: .unsupportedDtype("I64"), tensor: "w", fragments: ["F32, F16, BF16, F64", "model.float()"]),
        BadFileCase(label: "lowercase dtype", file: rawFile("{\"w\": \(entry("f32", "[2]", "[0,8]"))}", data: w8),
                    problem: .unsupportedDtype("f32"), tensor: "w"),
        BadFileCase(label: "shape not an array", file: rawFile("{\"w\": \(entry("F32", "\"2x1\"", "[0,8]"))}", data: w8),
                    problem: .wrongFieldType(field: "shape", expected: "an array of non-negative integers",
                                             found: "the string \"2x1\""), tensor: "w"),
        BadFileCase(label: "negative shape entry", file: rawFile("{\"w\": \(entry("F32", "[2,-1]", "[0,8]"))}", data: w8),
                    problem: .invalidShapeEntry(index: 1, found: "the integer -1"), tensor: "w",
                    fragments: ["shape entry 1", "non-negative integers"]),
        BadFileCase(label: "fractional shape entry", file: rawFile("{\"w\": \(entry("F32", "[2.5]", "[0,8]"))}", data: w8),
                    problem: .invalidShapeEntry(index: 0, found: "the number 2.5"), tensor: "w"),
        BadFileCase(label: "shape entry written as 2.0", file: rawFile("{\"w\": \(entry("F32", "[2.0]", "[0,8]"))}", data: w8),
                    problem: .invalidShapeEntry(index: 0, found: "the number 2.0"), tensor: "w"),
        BadFileCase(label: "boolean shape entry", file: rawFile("{\"w\": \(entry("F32", "[true]", "[0,4]"))}", data: [0, 0, 0, 0]),
                    problem: .invalidShapeEntry(index: 0, found: "true"), tensor: "w"),
        BadFileCase(label: "string shape entry", file: rawFile("{\"w\": \(entry("F32", "[\"2\"]", "[0,8]"))}", data: w8),
                    problem: .invalidShapeEntry(index: 0, found: "the string \"2\""), tensor: "w"),
        BadFileCase(label: "shape entry beyond Int", file: rawFile("{\"w\": \(entry("F32", "[18446744073709551615]", "[0,8]"))}", data: w8),
                    problem: .invalidShapeEntry(index: 0, found: "the number 18446744073709551615"), tensor: "w"),
        BadFileCase(label: "element count overflows", file: rawFile("{\"w\": \(entry("F32", "[4294967296,4294967296]", "[0,8]"))}", data: w8),
                    problem: .shapeOverflow(shape: [4_294_967_296, 4_294_967_296]), tensor: "w", fragments: ["too large", "overflows"]),
        BadFileCase(label: "byte count overflows", file: rawFile("{\"w\": \(entry("F32", "[2305843009213693952]", "[0,8]"))}", data: w8),
                    problem: .shapeOverflow(shape: [2_305_843_009_213_693_952]), tensor: "w"),
        BadFileCase(label: "offsets not an array", file: rawFile("{\"w\": \(entry("F32", "[2]", "\"0-8\""))}", data: w8),
                    problem: .wrongFieldType(field: "data_offsets", expected: "an array of two non-negative integers [begin, end]",
                                             found: "the string \"0-8\""), tensor: "w"),
        BadFileCase(label: "one offset", file: rawFile("{\"w\": \(entry("F32", "[2]", "[8]"))}", data: w8),
                    problem: .wrongFieldType(field: "data_offsets", expected: "an array of two non-negative integers [begin, end]",
                                             found: "an array of 1 element"), tensor: "w"),
        BadFileCase(label: "negative offset", file: rawFile("{\"w\": \(entry("F32", "[2]", "[-8,0]"))}", data: w8),
                    problem: .wrongFieldType(field: "data_offsets", expected: "an array of two non-negative integers [begin, end]",
                                             found: "an array holding the integer -8"), tensor: "w"),
        BadFileCase(label: "offsets reversed", file: rawFile("{\"w\": \(entry("F32", "[2]", "[8,0]"))}", data: w8),
                    problem: .offsetsReversed(begin: 8, end: 0), tensor: "w", fragments: ["[8, 0]"]),
        BadFileCase(label: "offsets beyond the data", file: rawFile("{\"w\": \(entry("F32", "[4]", "[0,16]"))}", data: w8),
                    problem: .offsetsBeyondData(end: 16, dataByteCount: 8), tensor: "w", fragments: ["truncated"]),
        BadFileCase(label: "huge offsets", file: rawFile("{\"w\": \(entry("F32", "[2]", "[9223372036854775799,9223372036854775807]"))}", data: w8),
                    problem: .offsetsBeyondData(end: Int.max, dataByteCount: 8), tensor: "w"),
        BadFileCase(label: "byte count mismatch", file: rawFile("{\"w\": \(entry("F32", "[3]", "[0,8]"))}", data: w8),
                    problem: .byteCountMismatch(shape: [3], dtype: "F32", expected: 12, actual: 8), tensor: "w",
                    fragments: ["needs 12 bytes", "span 8 bytes"]),
        BadFileCase(label: "overlap", file: rawFile("{\"a\": \(entry("F32", "[2]", "[0,8]")), \"b\": \(entry("F32", "[2]", "[4,12]"))}",
                                                    data: [UInt8](repeating: 0, count: 12)),
                    problem: .overlap(other: "a"), tensor: "b", fragments: ["\"a\""]),
        BadFileCase(label: "same bytes twice", file: rawFile("{\"a\": \(entry("F32", "[2]", "[0,8]")), \"b\": \(entry("F32", "[2]", "[0,8]"))}", data: w8),
                    problem: .overlap(other: "a"), tensor: "b"),
        BadFileCase(label: "gap between tensors", file: rawFile("{\"a\": \(entry("F32", "[2]", "[0,8]")), \"b\": \(entry("F32", "[2]", "[12,20]"))}",
                                                                data: [UInt8](repeating: 0, count: 20)),
                    problem: .gap(previous: "a", byteCount: 4), tensor: "b", fragments: ["4 bytes after tensor \"a\""]),
        BadFileCase(label: "gap at the start", file: rawFile("{\"a\": \(entry("F32", "[2]", "[4,12]"))}", data: [UInt8](repeating: 0, count: 12)),
                    problem: .gap(previous: nil, byteCount: 4), tensor: "a", fragments: ["start of the data region"]),
        BadFileCase(label: "bytes after the last tensor", file: rawFile("{\"a\": \(entry("F32", "[2]", "[0,8]"))}", data: [UInt8](repeating: 0, count: 12)),
                    problem: .trailingBytes(last: "a", byteCount: 4), fragments: ["4 bytes after the last tensor \"a\""]),
        BadFileCase(label: "data but no tensors", file: rawFile("{}", data: [1, 2, 3]), problem: .trailingBytes(last: nil, byteCount: 3), fragments: ["3 bytes", "no tensors"]),
        BadFileCase(label: "duplicate name", file: rawFile("{\"w\": \(entry("F32", "[2]", "[0,8]")), \"w\": \(entry("F32", "[2]", "[0,8]"))}", data: w8),
                    problem: .duplicateName, tensor: "w", fragments: ["more than once"]),
        BadFileCase(label: "duplicate name spelled with an escape",
                    file: rawFile("{\"w\": \(entry("F32", "[1]", "[0,4]")), \"\\u0077\": \(entry("F32", "[1]", "[4,8]"))}", data: w8),
                    problem: .duplicateName, tensor: "w"),
        BadFileCase(label: "duplicate field", file: rawFile(#"{"w": {"dtype": "F16", "dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: w8),
                    problem: .duplicateField("dtype"), tensor: "w"),
        BadFileCase(label: "metadata not an object", file: rawFile(#"{"__metadata__": "pt"}"#),
                    problem: .metadataNotObject(found: "the string \"pt\"")),
        BadFileCase(label: "metadata value not a string", file: rawFile(#"{"__metadata__": {"format": "pt", "epochs": 3}}"#),
                    problem: .metadataValueNotString(key: "epochs", found: "the integer 3"), fragments: ["\"epochs\"", "str()"]),
        BadFileCase(label: "duplicate metadata key", file: rawFile(#"{"__metadata__": {"format": "pt", "format": "np"}}"#),
                    problem: .duplicateMetadataKey(key: "format")),
    ]

    @Suite struct BadInput {
        @Test(arguments: badFileCases)
        func badFileGivesItsError(_ bad: BadFileCase) {
            guard let error = parseError(bad.file, source: "models/bad.safetensors") else { return }
            switch (error.problem, bad.problem) {
            case (.headerNotJSON, .headerNotJSON):
                break  // the reason text is JSONSerialization's
            default:
                #expect(error.problem == bad.problem)
            }
            #expect(error.tensor == bad.tensor)
            let message = error.description
            #expect(message.hasPrefix("models/bad.safetensors: "))
            if let tensor = bad.tensor { #expect(message.contains("tensor \"\(tensor)\""), "\(message)") }
            for fragment in bad.fragments { #expect(message.contains(fragment), "\(message)") }
        }

        @Test func acceptedEdgeCases() throws {
            // null metadata, extra fields, empty tensors, spaces around the JSON, no tensors at all.
            let header = "  {\"__metadata__\": null, \"e\": {\"dtype\": \"F16\", \"shape\": [0, 7], \"data_offsets\": [0, 0], \"x\": 1},"
                + " \"w\": \(entry("BF16", "[2]", "[0,4]"))}   "
            let (tensors, metadata) = try Safetensors.parse(rawFile(header, data: [0x80, 0x3F, 0x00, 0xC0]), source: "edge")
            #expect(metadata.isEmpty)
            #expect(tensors["e"]?.shape == [0, 7])
            #expect(tensors["e"]?.values.isEmpty == true)
            #expect(bitsEqual(tensors["w"]?.values ?? [], [1, -2]))
            #expect(try Safetensors.parse(rawFile("{}"), source: "none").tensors.isEmpty)
        }

        @Test func messagesOfHostileNamesStayShort() {
            let name = String(repeating: "x", count: 100_000)
            guard let error = parseError(rawFile("{\"\(name)\": 1}")) else { return }
            #expect(error.description.count < 1000)
        }
    }

    // MARK: - Fuzzing

    @Suite struct Fuzz {
        /// Rounds per fuzz test; SAFETENSORS_FUZZ_ROUNDS=200000 swift test --filter Fuzz runs a longer search.
        private static let rounds = ProcessInfo.processInfo.environment["SAFETENSORS_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 3000

        /// Ranges of the maximal runs of ASCII digits in `bytes`.
        private func digitRuns(in bytes: [UInt8]) -> [Range<Int>] {
            var runs: [Range<Int>] = []
            var start: Int?
            for (i, byte) in bytes.enumerated() {
                let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                if isDigit, start == nil { start = i }
                if !isDigit, let s = start { runs.append(s..<i); start = nil }
            }
            if let s = start { runs.append(s..<bytes.count) }
            return runs
        }

        private func occurrences(of pattern: [UInt8], in bytes: [UInt8]) -> [Range<Int>] {
            guard bytes.count >= pattern.count else { return [] }
            return (0...(bytes.count - pattern.count)).filter { bytes[$0..<($0 + pattern.count)].elementsEqual(pattern) }
                .map { $0..<($0 + pattern.count) }
        }

        /// Parses `data`; returns true if it was accepted. Records an issue if the result is
        /// inconsistent or anything but `SafetensorsError` is thrown. A crash fails the whole run.
        private static func survives(_ data: Data) -> Bool {
            do {
                let (tensors, _) = try Safetensors.parse(data, source: "fuzz")
                var bytes = 0
                for (name, tensor) in tensors {
                    #expect(tensor.name == name)
                    #expect(Safetensors.elementCount(tensor.shape) == tensor.values.count)
                    bytes += tensor.values.count * (tensor.dtype == "F64" ? 8 : tensor.dtype == "F32" ? 4 : 2)
                }
                #expect(bytes <= data.count, "decoded more bytes than the file has")
                return true
            } catch is SafetensorsError {
                return false
            } catch {
                Issue.record("threw \(type(of: error)): \(error)")
                return false
            }
        }

        @Test func randomBytesAreRejectedWithoutCrashing() {
            var rng = SplitMix64(state: 1)
            let tokens = ["{", "}", "[", "]", ":", ",", " ", "\"w\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"",
                          "\"F32\"", "\"BF16\"", "\"F64\"", "\"__metadata__\"", "0", "4", "8", "-1", "2.5", "1e999",
                          "18446744073709551616", "true", "null", "\"\\u0000\"", "\"\\ud800\"", "\"\\\"", "\u{FFFF}"]
            var accepted = 0
            for round in 0..<Self.rounds {
                var bytes: [UInt8]
                if round % 2 == 0 {
                    // Pure noise, sometimes with a header length that fits the file.
                    bytes = (0..<rng.below(48)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    if round % 4 == 0, bytes.count >= 8 {
                        let length = UInt64(rng.below(bytes.count - 7))
                        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: length >> (8 * i)) }
                    }
                } else {
                    // JSON-like token soup with a correct or lying length and a little data.
                    let header = (0..<rng.below(24)).map { _ in rng.pick(tokens) }.joined()
                    let data = (0..<rng.pick([0, 4, 8, 12])).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    let lie: UInt64? = rng.below(4) == 0 ? UInt64(rng.below(64)) : nil
                    bytes = [UInt8](rawFile(header, data: data, declaredLength: lie))
                }
                if Self.survives(Data(bytes)) { accepted += 1 }
            }
            // `{}` and friends are valid files; noise almost never is.
            #expect(accepted < Self.rounds / 10)
        }

        @Test func mutationsOfAValidFileNeverCrash() throws {
            var rng = SplitMix64(state: 0x5AFE_7E45)
            let base = try Safetensors.encode(tensors: [
                SafetensorsTensor(name: "embedding.weight", shape: [3, 2], values: [1, 2, 3, 4, 5, 6]),
                SafetensorsTensor(name: "rnn.bias_ih_l0", shape: [4], values: [0.5, -0.5, 0.25, -0.25]),
                SafetensorsTensor(name: "decoder.bias", shape: [], values: [7]),
            ], metadata: ["format": "pt"])
            let baseBytes = [UInt8](base)
            let headerLength = Int(baseBytes[0]) | Int(baseBytes[1]) << 8  // < 64 KiB here
            let header = Array(baseBytes[8..<(8 + headerLength)])
            let data = Array(baseBytes[(8 + headerLength)...])
            let numbers = ["0", "1", "-1", "3", "4", "24", "2147483648", "9223372036854775807", "9223372036854775808",
                           "18446744073709551615", "1e308", "2.5", "-0", "1e-5"]
            let dtypes = ["\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I8\"", "\"\"", "null", "[]"]

            var accepted = 0, rejected = 0
            for round in 0..<Self.rounds {
                var bytes = baseBytes
                switch round % 7 {
                case 0:  // bit flips anywhere
                    for _ in 0..<(1 + rng.below(4)) { bytes[rng.below(bytes.count)] ^= UInt8(1) << UInt8(rng.below(8)) }
                case 1:  // truncation
                    bytes.removeLast(1 + rng.below(bytes.count))
                case 2:  // a lying header length
                    let length: UInt64 = rng.pick([0, 1, UInt64(headerLength - 1), UInt64(headerLength + 1),
                                                   UInt64(headerLength + 8), UInt64(bytes.count), 100_000_000, 1 << 40,
                                                   UInt64.max, rng.next()])
                    for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: length >> (8 * i)) }
                case 3, 4:  // replace one number in the header, keeping the header length honest
                    let runs = digitRuns(in: header)
                    var edited = header
                    edited.replaceSubrange(runs[rng.below(runs.count)], with: Array(rng.pick(numbers).utf8))
                    bytes = [UInt8](rawFile(headerBytes: edited, data: data))
                case 5:  // replace a dtype or splice in a copy of a piece of the header
                    if rng.below(2) == 0 {
                        let spots = occurrences(of: Array("\"F32\"".utf8), in: header)
                        var edited = header
                        edited.replaceSubrange(spots[rng.below(spots.count)], with: Array(rng.pick(dtypes).utf8))
                        bytes = [UInt8](rawFile(headerBytes: edited, data: data))
                    } else {
                        var edited = header
                        let from = rng.below(edited.count), to = min(edited.count, from + rng.below(40))
                        edited.insert(contentsOf: edited[from..<to], at: rng.below(edited.count))
                        bytes = [UInt8](rawFile(headerBytes: edited, data: data))
                    }
                default:  // bit flips in the data region only: always still a valid file
                    for _ in 0..<(1 + rng.below(8)) {
                        bytes[8 + headerLength + rng.below(data.count)] ^= UInt8(1) << UInt8(rng.below(8))
                    }
                    #expect(Self.survives(Data(bytes)), "a data-only mutation was rejected")
                }
                if Self.survives(Data(bytes)) { accepted += 1 } else { rejected += 1 }
            }
            // Both outcomes must occur, or the mutations did not test anything.
            #expect(accepted > Self.rounds / 8)
            #expect(rejected > Self.rounds / 3)
        }

        /// Random small headers, packed correctly or disturbed by a few bytes, checked against an
        /// independent statement of the rule: every tensor's span equals its size and the spans,
        /// sorted, tile the data region from 0 to its end.
        @Test func randomLayoutsAreAcceptedExactlyWhenTheyTileTheData() {
            var rng = SplitMix64(state: 77)
            let sizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8]
            var accepted = 0
            for _ in 0..<Self.rounds {
                struct Spec { var name: String; var dtype: String; var shape: [Int]; var begin: Int; var end: Int }
                var specs: [Spec] = []
                for i in 0..<rng.below(4) {
                    let dtype = rng.pick(Array(sizes.keys).sorted())
                    let shape = (0..<rng.below(3)).map { _ in rng.below(4) }
                    specs.append(Spec(name: "t\(i)", dtype: dtype, shape: shape, begin: 0,
                                      end: sizes[dtype]! * shape.reduce(1, *)))
                }
                // Pack in a random order, then maybe disturb one offset or the data length.
                var position = 0
                for i in specs.indices.shuffled(using: &rng) {
                    let size = specs[i].end
                    specs[i].begin = position
                    specs[i].end = position + size
                    position += size
                }
                var dataCount = position
                if !specs.isEmpty, rng.below(2) == 0 {
                    let i = rng.below(specs.count), delta = rng.pick([-4, -2, -1, 1, 2, 4])
                    switch rng.below(3) {
                    case 0: specs[i].begin = max(0, specs[i].begin + delta)
                    case 1: specs[i].end = max(0, specs[i].end + delta)
                    default: dataCount = max(0, dataCount + delta)
                    }
                } else if rng.below(4) == 0 {
                    dataCount += rng.pick([1, 3, 8])
                }

                var shouldAccept = specs.allSatisfy {
                    $0.begin <= $0.end && $0.end <= dataCount && $0.end - $0.begin == sizes[$0.dtype]! * $0.shape.reduce(1, *)
                }
                var cursor = 0
                for spec in specs.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
                    if spec.begin != cursor { shouldAccept = false }
                    cursor = spec.end
                }
                if cursor != dataCount { shouldAccept = false }

                let header = "{" + specs.shuffled(using: &rng).map {
                    "\"\($0.name)\":\(entry($0.dtype, "\($0.shape)", "[\($0.begin),\($0.end)]"))"
                }.joined(separator: ",") + "}"
                let data = (0..<dataCount).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let wasAccepted = Self.survives(rawFile(header, data: data))
                #expect(wasAccepted == shouldAccept, "\(header) with \(dataCount) data bytes")
                if wasAccepted { accepted += 1 }
            }
            #expect(accepted > Self.rounds / 4)
            #expect(accepted < Self.rounds * 3 / 4)
        }
    }

    @Suite struct Limits {
        static func file(entries: Int) -> Data {
            var json = "{"
            for i in 0..<entries {
                json += (i == 0 ? "" : ",") + "\"t\(i)\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}"
            }
            json += "}"
            var length = UInt64(json.utf8.count).littleEndian
            return Data(bytes: &length, count: 8) + Data(json.utf8)
        }

        @Test func moreTensorsThanTheLimitAreRefusedBeforeParsing() {
            let limit = RecordLimits.maxTensors
            #expect(throws: SafetensorsError(file: "f", problem: .tooManyTensors(count: limit + 2, limit: limit))) {
                try Safetensors.parse(Self.file(entries: 30_000), source: "f")
            }
            // At the limit the file is read (the duplicate-key scan is linear in the entries).
            let tensors = try? Safetensors.parse(Self.file(entries: limit), source: "f").tensors
            #expect(tensors?.count == limit)
        }
    }
}
