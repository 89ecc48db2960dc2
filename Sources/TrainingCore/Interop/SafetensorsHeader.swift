// Validation of a safetensors header. JSONSerialization only parses the JSON; every field it
// returns is checked here before anything else uses it.

import DiagnoseRecord
import Foundation

/// A checked header: tensor entries whose byte ranges tile the data region exactly, and metadata.
struct SafetensorsHeader {
    struct Entry {
        var name: String
        var dtype: SafetensorsDtype
        var shape: [Int]
        var elementCount: Int
        /// Byte range `begin..<end` in the data region; `end - begin == elementCount * dtype.byteSize`.
        var begin: Int
        var end: Int
    }

    /// Sorted by position in the data region.
    var entries: [Entry]
    var metadata: [String: String]

    /// Checks the header bytes `json` of a file whose data region has `dataByteCount` bytes.
    /// Problems are reported in a fixed order (file-level, then tensors by name, then coverage),
    /// so the same file always gives the same error.
    init(json: ArraySlice<UInt8>, dataByteCount: Int, source: String) throws {
        func failure(_ problem: SafetensorsError.Problem, tensor: String? = nil) -> SafetensorsError {
            SafetensorsError(file: source, tensor: tensor, problem: problem)
        }

        // UTF-8 first, so that JSONSerialization's own encoding detection (UTF-16, UTF-32) never applies.
        var iterator = json.makeIterator()
        var decoder = UTF8()
        var offset = 0
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: break decoding
            case .error: throw failure(.headerNotUTF8(byteOffset: offset))
            }
        }

        // At most one more than the limit (the metadata entry) before parsing anything.
        let keys = SafetensorsJSON.topLevelKeyCount(in: json, stoppingAbove: RecordLimits.maxTensors + 1)
        if keys > RecordLimits.maxTensors + 1 {
            throw failure(.tooManyTensors(count: keys, limit: RecordLimits.maxTensors))
        }

        let parsed: Any
        do { parsed = try JSONText.parse(Data(json)) } catch { throw failure(.headerNotJSON(reason: error.reason)) }
        guard case .object(let object) = SafetensorsJSON.Value(parsed) else {
            throw failure(.headerNotObject(found: SafetensorsJSON.Value(parsed).summary))
        }

        let tensorCount = object.count - (object[Safetensors.metadataKey] == nil ? 0 : 1)
        guard tensorCount <= RecordLimits.maxTensors else {
            throw failure(.tooManyTensors(count: tensorCount, limit: RecordLimits.maxTensors))
        }

        if let duplicate = SafetensorsJSON.firstDuplicateKey(in: json) {
            switch duplicate.path.first {
            case nil: throw failure(.duplicateName, tensor: duplicate.key)
            case Safetensors.metadataKey?: throw failure(.duplicateMetadataKey(key: duplicate.key))
            case let owner?: throw failure(.duplicateField(duplicate.key), tensor: owner)
            }
        }

        metadata = [:]
        if let value = object[Safetensors.metadataKey] {
            switch SafetensorsJSON.Value(value) {
            case .null:
                break  // written by some tools for "no metadata"
            case .object(let pairs):
                for key in pairs.keys.sorted() {
                    guard case .string(let text) = SafetensorsJSON.Value(pairs[key]!) else {
                        throw failure(.metadataValueNotString(key: key, found: SafetensorsJSON.Value(pairs[key]!).summary))
                    }
                    metadata[key] = text
                }
            case let other:
                throw failure(.metadataNotObject(found: other.summary))
            }
        }

        var entries: [Entry] = []
        for name in object.keys.sorted() where name != Safetensors.metadataKey {
            entries.append(try Self.entry(name: name, value: object[name]!, dataByteCount: dataByteCount,
                                          source: source))
        }

        // Coverage: sorted by position, each tensor must start exactly where the previous one ended,
        // the first at 0 and the last at the end of the data region.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        var previous: String?
        for entry in entries {
            if entry.begin > cursor {
                throw failure(.gap(previous: previous, byteCount: entry.begin - cursor), tensor: entry.name)
            }
            if entry.begin < cursor, let previous {
                throw failure(.overlap(other: previous), tensor: entry.name)
            }
            cursor = entry.end
            previous = entry.name
        }
        if cursor < dataByteCount {
            throw failure(.trailingBytes(last: previous, byteCount: dataByteCount - cursor))
        }
        self.entries = entries
    }

    /// Checks one tensor entry: `{"dtype": String, "shape": [Int >= 0], "data_offsets": [begin, end]}`
    /// with 0 <= begin <= end <= dataByteCount and end - begin = product(shape) * size(dtype).
    /// Other fields are ignored.
    private static func entry(name: String, value: Any, dataByteCount: Int, source: String) throws -> Entry {
        func failure(_ problem: SafetensorsError.Problem) -> SafetensorsError {
            SafetensorsError(file: source, tensor: name, problem: problem)
        }
        guard case .object(let fields) = SafetensorsJSON.Value(value) else {
            throw failure(.entryNotObject(found: SafetensorsJSON.Value(value).summary))
        }

        guard let dtypeValue = fields["dtype"] else { throw failure(.missingField("dtype")) }
        guard case .string(let dtypeName) = SafetensorsJSON.Value(dtypeValue) else {
            throw failure(.wrongFieldType(field: "dtype", expected: "a string such as \"F32\"",
                                          found: SafetensorsJSON.Value(dtypeValue).summary))
        }
        guard let dtype = SafetensorsDtype(rawValue: dtypeName) else { throw failure(.unsupportedDtype(dtypeName)) }

        guard let shapeValue = fields["shape"] else { throw failure(.missingField("shape")) }
        guard case .array(let items) = SafetensorsJSON.Value(shapeValue) else {
            throw failure(.wrongFieldType(field: "shape", expected: "an array of non-negative integers",
                                          found: SafetensorsJSON.Value(shapeValue).summary))
        }
        var shape: [Int] = []
        for (index, item) in items.enumerated() {
            guard case .integer(let dimension) = SafetensorsJSON.Value(item), dimension >= 0 else {
                throw failure(.invalidShapeEntry(index: index, found: SafetensorsJSON.Value(item).summary))
            }
            shape.append(dimension)
        }
        guard let elementCount = Safetensors.elementCount(shape) else { throw failure(.shapeOverflow(shape: shape)) }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw failure(.shapeOverflow(shape: shape)) }

        let offsetsExpected = "an array of two non-negative integers [begin, end]"
        guard let offsetsValue = fields["data_offsets"] else { throw failure(.missingField("data_offsets")) }
        guard case .array(let pair) = SafetensorsJSON.Value(offsetsValue) else {
            throw failure(.wrongFieldType(field: "data_offsets", expected: offsetsExpected,
                                          found: SafetensorsJSON.Value(offsetsValue).summary))
        }
        guard pair.count == 2 else {
            throw failure(.wrongFieldType(field: "data_offsets", expected: offsetsExpected,
                                          found: "an array of \(pair.count) element\(pair.count == 1 ? "" : "s")"))
        }
        for item in pair {
            guard case .integer(let number) = SafetensorsJSON.Value(item), number >= 0 else {
                throw failure(.wrongFieldType(field: "data_offsets", expected: offsetsExpected,
                                              found: "an array holding \(SafetensorsJSON.Value(item).summary)"))
            }
        }
        guard case .integer(let begin) = SafetensorsJSON.Value(pair[0]), case .integer(let end) = SafetensorsJSON.Value(pair[1]) else {
            fatalError("unreachable: both offsets were checked above")
        }
        guard begin <= end else { throw failure(.offsetsReversed(begin: begin, end: end)) }
        guard end <= dataByteCount else { throw failure(.offsetsBeyondData(end: end, dataByteCount: dataByteCount)) }
        guard end - begin == byteCount else {
            throw failure(.byteCountMismatch(shape: shape, dtype: dtypeName, expected: byteCount, actual: end - begin))
        }
        return Entry(name: name, dtype: dtype, shape: shape, elementCount: elementCount, begin: begin, end: end)
    }
}
