import Foundation

/// JSON encoding of run records: sorted keys (so equal records give equal bytes) and
/// non-finite numbers as the strings "NaN", "Infinity", "-Infinity".
public enum RecordCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }

    public static func encode(_ record: RunRecord) throws -> Data {
        try encoder().encode(record)
    }

    /// Reads `run.json`: at most `RecordLimits.maxRecordBytes`, then the schema version alone (so a
    /// record from a newer diagnose is named as such even when its fields changed), then the whole
    /// record, then its sizes (`RunRecord.checkLimits`). Every error names the file and what is wrong.
    public static func load(from url: URL) throws -> RunRecord {
        let path = url.path
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw RecordError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw RecordError.unreadable(path: path, reason: "not a regular file")
        }
        guard Int(status.st_size) <= RecordLimits.maxRecordBytes else {
            throw RecordError.invalid(path: path, reason: "it is \(status.st_size) bytes, more than the "
                + "\(RecordLimits.maxRecordBytes)-byte limit for a record")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RecordError.unreadable(path: path, reason: String(cString: strerror(EIO)))
        }
        return try decode(data, path: path)
    }

    /// Decodes and checks record bytes; `path` names them in errors.
    public static func decode(_ data: Data, path: String) throws -> RunRecord {
        struct Version: Decodable { var schemaVersion: Int }
        let version: Int
        do {
            version = try decoder().decode(Version.self, from: data).schemaVersion
        } catch {
            throw RecordError.invalid(path: path, reason: describe(error, data: data))
        }
        guard version <= RunRecord.currentSchemaVersion else {
            throw RecordError.newerSchema(path: path, version: version)
        }
        let record: RunRecord
        do {
            record = try decoder().decode(RunRecord.self, from: data)
        } catch {
            throw RecordError.invalid(path: path, reason: describe(error, data: data))
        }
        do {
            try record.checkLimits()
        } catch let violation as RecordLimitViolation {
            throw RecordError.invalid(path: path, reason: violation.description)
        }
        return record
    }

    /// A decoding error in words, with the JSON path of the field: "config.bptt: expected a whole
    /// number, found 1.5" rather than Foundation's debug text.
    static func describe(_ error: Error, data: Data) -> String {
        func path(_ keys: [CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "the top level" : text
        }
        guard let decoding = error as? DecodingError else {
            return "not valid JSON"
        }
        switch decoding {
        case let .keyNotFound(key, context):
            return "\(path(context.codingPath + [key])) is missing"
        case let .valueNotFound(type, context):
            return "\(path(context.codingPath)) is null where \(expected(type)) is needed"
        case let .typeMismatch(type, context):
            return "\(path(context.codingPath)) is not \(expected(type))"
        case let .dataCorrupted(context):
            // Foundation reports a fraction where an Int belongs as corrupt data at the top level:
            // find the field ourselves when the bytes are JSON after all.
            if context.codingPath.isEmpty {
                guard let object = try? JSONSerialization.jsonObject(with: data) else { return "not valid JSON" }
                return misfitWholeNumber(object, path: "").map { "\($0) is not a whole number in range" }
                    ?? "it holds a value that cannot be read"
            }
            let detail = context.debugDescription.contains("does not fit")
                ? "is not \(expected(Int.self)) in range" : "holds a value that cannot be read"
            return "\(path(context.codingPath)) \(detail)"
        @unknown default:
            return "cannot be decoded"
        }
    }

    /// Fields of the schema that hold whole numbers (`Int`, `UInt64`, arrays of them).
    static let wholeNumberFields: Set<String> = [
        "schemaVersion", "layers", "hidden", "embed", "batch", "bptt", "steps", "seed", "probeEvery", "evalEvery",
        "vocabSizeLimit", "lag", "threads", "tokens", "trainTokens", "validTokens", "vocabularySize", "parameterCount",
        "shape", "step", "divergedAtStep", "stepsCompleted", "horizon", "horizonFirst", "layer", "cellHorizon", "size", "counts",
    ]

    /// The path of the first whole-number field holding a fraction or a number out of range.
    static func misfitWholeNumber(_ value: Any, path: String, wholeNumber: Bool = false) -> String? {
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() {
                if let found = misfitWholeNumber(object[key]!, path: path.isEmpty ? key : "\(path).\(key)",
                                                 wholeNumber: wholeNumberFields.contains(key)) { return found }
            }
        } else if let array = value as? [Any] {
            for (index, item) in array.enumerated() {
                if let found = misfitWholeNumber(item, path: "\(path)[\(index)]", wholeNumber: wholeNumber) { return found }
            }
        } else if wholeNumber, let number = value as? NSNumber, !(value is Bool) {
            let double = number.doubleValue
            if double != double.rounded() || abs(double) > 9.2e18 { return path }
        }
        return nil
    }

    private static func expected(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            return name.hasPrefix("Array") ? "an array" : name.hasPrefix("Dictionary") ? "an object" : "an object (\(name))"
        }
    }
}

public enum RecordError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case invalid(path: String, reason: String)
    case newerSchema(path: String, version: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read run record \(path): \(reason)"
        case let .invalid(path, reason):
            return "\(path) is not a valid run record (\(reason)); re-run diagnose to write it again"
        case let .newerSchema(path, version):
            return "\(path) has record schema \(version), newer than this diagnose understands "
                + "(\(RunRecord.currentSchemaVersion)); update diagnose"
        }
    }
}
