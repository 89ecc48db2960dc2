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

    /// Reads `run.json`; the error names the file and what is wrong with it.
    public static func load(from url: URL) throws -> RunRecord {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RecordError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        do {
            let record = try decoder().decode(RunRecord.self, from: data)
            guard record.schemaVersion <= RunRecord.currentSchemaVersion else {
                throw RecordError.newerSchema(path: url.path, version: record.schemaVersion)
            }
            return record
        } catch let error as RecordError {
            throw error
        } catch {
            throw RecordError.invalid(path: url.path, reason: String(describing: error))
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
