// Reading and writing safetensors files (the format of huggingface/safetensors), so that models
// trained here load into PyTorch with `load_state_dict` and PyTorch state dicts load here.
//
// Layout of a file:
//
//     bytes 0..<8        N, the header length, little-endian UInt64
//     bytes 8..<8+N      header: UTF-8 JSON object, optionally padded with spaces
//                        { "<name>": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [b, e]},
//                          ...,
//                          "__metadata__": {"<key>": "<string>", ...} }      (optional)
//     bytes 8+N..<end    data region; tensor <name> occupies data bytes b..<e, little-endian,
//                        row-major, and e - b = d0 * d1 * ... * size(dtype)
//
// The tensors must cover the data region exactly: no gaps, no overlaps, nothing left over.
//
// Robustness: everything in the header is checked before it is used, all arithmetic on header
// numbers checks for overflow, and nothing is allocated from a header number until that number has
// been checked against the file's real size. (TrainingCore compiles with -Ounchecked, where a
// failed bounds or overflow check would not trap but corrupt memory, so these checks are the only
// guard.)
//
// Duplicate keys: JSON allows an object to repeat a key and JSONSerialization keeps the last one.
// This reader instead rejects a header that names a tensor twice, repeats a field inside one tensor
// entry, or repeats a metadata key, so no two readers can disagree about what the file holds.
// Keys are compared as Swift strings, so names that differ only in Unicode normalisation (é as one
// scalar or as e + combining accent) count as the same name.
//
// Memory: `parse` copies the file into one [UInt8] and decodes from it with plain indexing, so no
// unsafe pointers are needed here (they stay in Kernels/); peak memory is about the
// file size plus the Float32 values.

import DiagnoseRecord
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One named tensor of a safetensors file, with its values converted to Float32.
public struct SafetensorsTensor: Equatable, Sendable {
    /// The state-dict name, e.g. `rnn.weight_ih_l0`.
    public var name: String
    /// The element type in the file: "F32", "F16", "BF16" or "F64". The writer always writes "F32".
    public var dtype: String
    /// Dimensions, outermost first (PyTorch order); [] for a scalar.
    public var shape: [Int]
    /// Row-major values; `values.count` is the product of `shape` (1 for a scalar).
    public var values: [Float]

    public init(name: String, dtype: String = "F32", shape: [Int], values: [Float]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.values = values
    }
}

/// Reads and writes safetensors files.
public enum Safetensors {
    /// Largest header accepted: 100 MB (a header describes tensors; real ones are kilobytes).
    public static let maximumHeaderBytes = 100_000_000

    /// The reserved top-level key that holds string-to-string metadata.
    public static let metadataKey = "__metadata__"

    // MARK: Reading

    /// Reads and validates the safetensors file at `url`.
    /// Throws `SafetensorsError` naming the file, and the tensor when there is one.
    public static func read(from url: URL) throws -> (tensors: [String: SafetensorsTensor], metadata: [String: String]) {
        try parse(mapped(url), source: url.path)
    }

    /// The header of the safetensors file at `url` (every tensor's name and shape, and the
    /// metadata), checked as `read` checks it but without decoding the tensor data: the file is
    /// mapped, so only the header's pages are read.
    public static func readHeader(from url: URL) throws -> (shapes: [String: [Int]], metadata: [String: String]) {
        let data = try mapped(url)
        let (header, _) = try checkedHeader(data, source: url.path)
        var shapes: [String: [Int]] = [:]
        for entry in header.entries { shapes[entry.name] = entry.shape }
        return (shapes, header.metadata)
    }

    private static func mapped(_ url: URL) throws -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw SafetensorsError(file: url.path, problem: .cannotRead(reason: "there is no such file"))
        }
        guard !isFolder.boolValue else {
            throw SafetensorsError(file: url.path, problem: .cannotRead(reason: "it is a folder, not a file"))
        }
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafetensorsError(file: url.path, problem: .cannotRead(reason: reason(error)))
        }
    }

    /// The checked header of `data` and the offset where its data region starts.
    private static func checkedHeader(_ data: Data, source: String) throws -> (SafetensorsHeader, headerEnd: Int) {
        func failure(_ problem: SafetensorsError.Problem) -> SafetensorsError {
            SafetensorsError(file: source, problem: problem)
        }
        // Header length: 8 bytes, little-endian.
        guard data.count >= 8 else { throw failure(.fileTooShort(byteCount: data.count)) }
        let lengthBytes = [UInt8](data.prefix(8))
        var declaredLength: UInt64 = 0
        for i in 0..<8 { declaredLength |= UInt64(lengthBytes[i]) << (8 * i) }
        guard declaredLength <= UInt64(maximumHeaderBytes) else {
            throw failure(.headerTooLarge(length: declaredLength))
        }
        guard declaredLength <= UInt64(data.count - 8) else {
            throw failure(.headerBeyondFile(length: declaredLength, available: data.count - 8))
        }
        let headerEnd = 8 + Int(declaredLength)
        let json = [UInt8](data[data.startIndex + 8 ..< data.startIndex + headerEnd])
        let header = try SafetensorsHeader(json: json[...], dataByteCount: data.count - headerEnd, source: source)
        return (header, headerEnd)
    }

    /// Validates and decodes the bytes of a safetensors file; `source` names them in errors.
    ///
    /// Values of F16, BF16 and F64 tensors are converted to Float32 (F16 and BF16 exactly,
    /// F64 rounded to nearest). Tensors may appear in the header in any order; their data is found
    /// through `data_offsets`.
    public static func parse(_ data: Data, source: String) throws -> (tensors: [String: SafetensorsTensor], metadata: [String: String]) {
        let (header, headerEnd) = try checkedHeader(data, source: source)
        let bytes = [UInt8](data)
        var tensors: [String: SafetensorsTensor] = [:]
        tensors.reserveCapacity(header.entries.count)  // bounded by the header's size
        for entry in header.entries {
            // SafetensorsHeader checked begin <= end <= dataByteCount and
            // end - begin == elementCount * byteSize, so this stays inside `bytes`.
            let values = entry.dtype.decode(bytes, start: headerEnd + entry.begin, count: entry.elementCount)
            tensors[entry.name] = SafetensorsTensor(name: entry.name, dtype: entry.dtype.rawValue,
                                                    shape: entry.shape, values: values)
        }
        return (tensors, header.metadata)
    }

    // MARK: Writing

    /// The bytes of a safetensors file holding `tensors` as F32, in the given order, and `metadata`.
    ///
    /// Deterministic: equal inputs give equal bytes. The header is compact JSON with keys in a
    /// fixed order: `__metadata__` first (keys sorted, omitted when empty), then the tensors in the
    /// given order, each as `{"dtype":"F32","shape":[...],"data_offsets":[b,e]}`; it is padded
    /// with spaces so the data region starts at a multiple of 8 bytes. Data follows in the same
    /// order, packed, little-endian. The `dtype` of each tensor is ignored: values are Float32.
    ///
    /// Throws `SafetensorsError.Problem.invalidTensor` when a tensor's values do not fill its shape,
    /// a shape entry is negative, two tensors share a name, or a tensor is named `__metadata__`.
    public static func encode(tensors: [SafetensorsTensor], metadata: [String: String]) throws -> Data {
        func invalid(_ tensor: String, _ reason: String) -> SafetensorsError {
            SafetensorsError(file: "(encoding)", tensor: tensor, problem: .invalidTensor(reason: reason))
        }
        var seen: Set<String> = []
        var json = "{"
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(metadata[$0]!))" }
            members.append("\(JSONText.quoted(metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            guard tensor.name != metadataKey else {
                throw invalid(tensor.name, "the name \(metadataKey) is reserved for metadata")
            }
            guard seen.insert(tensor.name).inserted else {
                throw invalid(tensor.name, "another tensor already has this name")
            }
            guard let count = elementCount(tensor.shape) else {
                throw invalid(tensor.name, "shape \(tensor.shape) has a negative entry or too many elements")
            }
            guard count == tensor.values.count else {
                throw invalid(tensor.name, "shape \(tensor.shape) needs \(count) values but it has \(tensor.values.count)")
            }
            let end = offset + 4 * count  // cannot overflow: the values exist in memory
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append("\(JSONText.quoted(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                           + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += members.joined(separator: ",") + "}"

        var headerBytes = Array(json.utf8)
        let padded = (headerBytes.count + 7) / 8 * 8
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padded - headerBytes.count))

        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let length = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * i))) }
        out.append(contentsOf: headerBytes)
        for tensor in tensors {
            for value in tensor.values {
                let bits = value.bitPattern
                out.append(UInt8(truncatingIfNeeded: bits))
                out.append(UInt8(truncatingIfNeeded: bits >> 8))
                out.append(UInt8(truncatingIfNeeded: bits >> 16))
                out.append(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return Data(out)
    }

    /// Writes `encode(tensors:metadata:)` to `url` atomically: the bytes go to
    /// `.<name>.tmp-<pid>` in the same folder, are flushed to disk, and that file is renamed over
    /// `url` (rename(2) replaces atomically within one file system). If anything fails, an earlier
    /// file at `url` is left as it was and the temporary file is removed.
    public static func write(tensors: [SafetensorsTensor], metadata: [String: String] = [:], to url: URL) throws {
        var bytes: Data
        do {
            bytes = try encode(tensors: tensors, metadata: metadata)
        } catch let error as SafetensorsError {
            throw SafetensorsError(file: url.path, tensor: error.tensor, problem: error.problem)
        }
        let path = url.path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        func failure(_ reason: String) -> SafetensorsError {
            SafetensorsError(file: path, problem: .cannotWrite(reason: reason))
        }

        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw failure("cannot create the temporary file \(temporary)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.write(contentsOf: bytes)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw failure("writing \(temporary) failed: \(reason(error))")
        }
        bytes = Data()  // release before the rename; the file is complete
        guard rename(temporary, path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: temporary)
            throw failure("renaming \(temporary) to it failed: \(String(cString: strerror(code)))")
        }
    }

    // MARK: Helpers

    /// d0 * d1 * ... (1 for [], 0 if any entry is 0), or nil if an entry is negative or the product
    /// overflows `Int`.
    static func elementCount(_ shape: [Int]) -> Int? {
        guard shape.allSatisfy({ $0 >= 0 }) else { return nil }
        if shape.contains(0) { return 0 }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Foundation's description of an I/O error, without its final period (the message adds its own).
    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        var text = nsError.localizedDescription
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
            text += " (\(underlying.localizedDescription))"
        }
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
