// Errors of the safetensors reader and writer. Every message names the file, the tensor when
// there is one, what is wrong and what the user can do about it.

/// A safetensors file (or a set of tensors to be written) that cannot be used.
///
/// `description` is the message meant for the user, e.g.
/// `model.safetensors: tensor "rnn.weight_ih_l0": shape [20, 6] of F32 needs 480 bytes but
/// data_offsets [0, 400] span 400 bytes. The file is damaged or was written by a faulty writer; ...`
public struct SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is wrong. Payloads carry the numbers the message quotes, so tests can compare exactly.
    public enum Problem: Equatable, Sendable {
        // The file as a whole.
        case cannotRead(reason: String)
        case cannotWrite(reason: String)
        /// Fewer than the 8 bytes of the header-length field.
        case fileTooShort(byteCount: Int)
        /// The header-length field is above `Safetensors.maximumHeaderBytes`.
        case headerTooLarge(length: UInt64)
        /// The header-length field is larger than what follows it in the file.
        case headerBeyondFile(length: UInt64, available: Int)
        /// The header has an invalid UTF-8 sequence at this byte offset (counted from the header's start).
        case headerNotUTF8(byteOffset: Int)
        case headerNotJSON(reason: String)
        /// The header is JSON but not an object; `found` names the JSON type.
        case headerNotObject(found: String)
        /// More tensors than `RecordLimits.maxTensors`.
        case tooManyTensors(count: Int, limit: Int)
        /// The same top-level key appears twice (tensor names, or `__metadata__`).
        case duplicateName
        /// `__metadata__` is neither an object nor null.
        case metadataNotObject(found: String)
        case metadataValueNotString(key: String, found: String)
        case duplicateMetadataKey(key: String)

        // One tensor entry.
        case entryNotObject(found: String)
        case missingField(String)
        /// A field appears twice in one tensor entry.
        case duplicateField(String)
        case wrongFieldType(field: String, expected: String, found: String)
        case unsupportedDtype(String)
        /// Shape entry `index` is negative or not an integer; `found` is the JSON text of the value.
        case invalidShapeEntry(index: Int, found: String)
        /// The element count or byte count of the shape does not fit in an `Int`.
        case shapeOverflow(shape: [Int])
        case offsetsReversed(begin: Int, end: Int)
        case offsetsBeyondData(end: Int, dataByteCount: Int)
        case byteCountMismatch(shape: [Int], dtype: String, expected: Int, actual: Int)
        case overlap(other: String)
        /// `byteCount` bytes belong to no tensor just before this tensor (after `previous`, or at the
        /// start of the data region when `previous` is nil).
        case gap(previous: String?, byteCount: Int)
        /// `byteCount` bytes at the end of the data region belong to no tensor (`last` is the tensor
        /// that ends where they start, nil when the file has no tensors).
        case trailingBytes(last: String?, byteCount: Int)

        // Writing.
        /// The tensor handed to the writer is inconsistent (values do not fill the shape, reserved name, ...).
        case invalidTensor(reason: String)
    }

    /// The file path, or whatever `source` the caller named the bytes by.
    public let file: String
    /// The tensor the problem is about, or nil when it concerns the whole file.
    public let tensor: String?
    public let problem: Problem
    /// The command-line flag that named the file, set by the command: the message then starts with it.
    public var flag: String? = nil

    public init(file: String, tensor: String? = nil, problem: Problem) {
        self.file = file
        self.tensor = tensor
        self.problem = problem
    }

    public var description: String {
        var where_ = flag.map { "\($0) \(file)" } ?? file
        if let tensor { where_ += ": tensor \(Self.quoted(tensor))" }
        return "\(where_): \(explanation)"
    }

    private var explanation: String {
        let damaged = "The file is damaged or was not written by a safetensors writer; save the model again with "
            + "safetensors.torch.save_file(model.state_dict(), path)."
        let truncated = "The file looks truncated (an interrupted download or copy?); copy or save it again."
        switch problem {
        case .cannotRead(let reason):
            return "cannot read the file: \(reason). Check the path and its permissions."
        case .cannotWrite(let reason):
            return "cannot write the file: \(reason). Check that the folder exists, is writable and the disk "
                + "is not full; an earlier file at this path, if any, was left unchanged."
        case .fileTooShort(let count):
            return "not a safetensors file: it has \(count) bytes, fewer than the 8-byte header length that "
                + "starts every safetensors file. Check the path; " + Self.lowercasedFirst(damaged)
        case .headerTooLarge(let length):
            return "not a safetensors file: its first 8 bytes give a header length of \(length) bytes, above the "
                + "limit of \(Safetensors.maximumHeaderBytes) bytes. Check that this is a safetensors file; "
                + Self.lowercasedFirst(damaged)
        case .headerBeyondFile(let length, let available):
            return "the header length field says \(length) bytes but only \(available) bytes follow it. " + truncated
        case .headerNotUTF8(let offset):
            return "the header is not valid UTF-8 (bad byte sequence at header byte \(offset)). " + damaged
        case .headerNotJSON(let reason):
            return "the header is not valid JSON (\(reason)). " + damaged
        case .headerNotObject(let found):
            return "the header must be a JSON object mapping tensor names to entries, but it is \(found). " + damaged
        case .tooManyTensors(let count, let limit):
            return "the header names \(count > limit + 1 ? "more than \(limit)" : String(count)) tensors; at most \(limit) are read (no recurrent language model has "
                + "nearly so many). Save only the model's state_dict."
        case .duplicateName:
            return "this name appears more than once in the header; each tensor must be named once (this reader "
                + "refuses to guess which entry is meant). " + damaged
        case .metadataNotObject(let found):
            return "\"__metadata__\" must be an object of string values, but it is \(found). " + damaged
        case .metadataValueNotString(let key, let found):
            return "\"__metadata__\" value for key \(Self.quoted(key)) is \(found); metadata values must be strings. "
                + "Convert them with str() before saving."
        case .duplicateMetadataKey(let key):
            return "\"__metadata__\" has key \(Self.quoted(key)) more than once; each key must appear once. " + damaged
        case .entryNotObject(let found):
            return "its entry must be an object with \"dtype\", \"shape\" and \"data_offsets\", but it is \(found). "
                + damaged
        case .missingField(let field):
            return "its entry has no \(Self.quoted(field)); every tensor needs \"dtype\", \"shape\" and \"data_offsets\". "
                + damaged
        case .duplicateField(let field):
            return "its entry has \(Self.quoted(field)) more than once; this reader refuses to guess which is meant. "
                + damaged
        case .wrongFieldType(let field, let expected, let found):
            return "\(Self.quoted(field)) must be \(expected), but it is \(found). " + damaged
        case .unsupportedDtype(let dtype):
            return "dtype \(Self.quoted(dtype)) is not supported; supported dtypes are "
                + SafetensorsDtype.allCases.map(\.rawValue).joined(separator: ", ")
                + ". Convert the model to floating point before saving (model.float() in PyTorch)."
        case .invalidShapeEntry(let index, let found):
            return "shape entry \(index) is \(found); shape entries must be non-negative integers. " + damaged
        case .shapeOverflow(let shape):
            return "shape \(shape) is too large: its element or byte count overflows a 64-bit integer. " + damaged
        case .offsetsReversed(let begin, let end):
            return "data_offsets [\(begin), \(end)] end before they begin. " + damaged
        case .offsetsBeyondData(let end, let count):
            return "data_offsets end at byte \(end) but the data region has only \(count) bytes. " + truncated
        case .byteCountMismatch(let shape, let dtype, let expected, let actual):
            return "shape \(shape) of \(dtype) needs \(expected) bytes but its data_offsets span \(actual) bytes. "
                + damaged
        case .overlap(let other):
            return "its bytes overlap those of tensor \(Self.quoted(other)); tensors must not share bytes. " + damaged
        case .gap(let previous, let count):
            let after = previous.map { "after tensor \(Self.quoted($0))" } ?? "at the start of the data region"
            return "\(count) bytes \(after) belong to no tensor; the data region must be packed without gaps. "
                + damaged
        case .trailingBytes(let last, let count):
            guard let last else {
                return "the data region has \(count) bytes but the header lists no tensors. " + damaged
            }
            return "\(count) bytes after the last tensor \(Self.quoted(last)) belong to no tensor; the data region must "
                + "end with the last tensor. " + damaged
        case .invalidTensor(let reason):
            return "cannot be written: \(reason)."
        }
    }
}

extension SafetensorsError {
    /// `"name"` with quotes and backslashes escaped, cut to 120 characters so that a hostile file
    /// cannot make a message megabytes long.
    static func quoted(_ text: String) -> String {
        var shown = text
        if shown.count > 120 { shown = String(shown.prefix(117)) + "..." }
        var escaped = ""
        for scalar in shown.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                escaped += "\\u{\(String(scalar.value, radix: 16))}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "\"\(escaped)\""
    }

    fileprivate static func lowercasedFirst(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.lowercased() + text.dropFirst()
    }
}
