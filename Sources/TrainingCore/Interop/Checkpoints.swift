import Foundation

/// Checkpoints of one model saved during training, each with the training step it was saved at,
/// ordered by step. Built from headers alone, so every file is checked before any is probed.
public struct CheckpointSeries: Sendable, Equatable {
    public struct Checkpoint: Sendable, Equatable {
        public var file: String
        public var step: Int
    }

    /// Most checkpoints one run holds: each adds a full probe (G, spectra, Jacobians) to the record.
    public static let maximumCount = 64
    /// Largest step accepted (from metadata or a file name).
    public static let maximumStep = 1_000_000_000_000

    /// Ordered by step, steps distinct.
    public var checkpoints: [Checkpoint]

    /// Every `*.safetensors` file directly in `folder`, sorted by name (hidden files skipped).
    public static func files(inFolder folder: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw InputFileError(kind: .checkpointFolder, file: folder,
                                 problem: "cannot be listed (\(error.localizedDescription)); check that it is a readable folder")
        }
        let files = names.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }.sorted()
        guard !files.isEmpty else {
            throw InputFileError(kind: .checkpointFolder, file: folder, problem: "holds no *.safetensors files", remedy: .checkpointFolder)
        }
        return files.map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Reads each file's header, finds its step and checks that all describe one architecture
    /// (the same tensor names and shapes as the earliest). With one file the step may be absent (0).
    public init(files: [String]) throws {
        guard files.count <= Self.maximumCount else {
            throw InputFileError(kind: .checkpoint, file: files.count > 0 ? (files[0] as NSString).deletingLastPathComponent : "",
                                 problem: "\(files.count) checkpoints given; at most \(Self.maximumCount) fit in one run",
                                 remedy: .fewerCheckpoints)
        }
        // The same file twice would otherwise be reported as two checkpoints sharing a step.
        var seen = Set<String>()
        for file in files where !seen.insert(URL(fileURLWithPath: file).standardizedFileURL.path).inserted {
            throw InputFileError(kind: .checkpoint, file: file, problem: "is given twice; give each checkpoint once")
        }
        var found: [(checkpoint: Checkpoint, shapes: [String: [Int]], origin: String)] = []
        for file in files {
            let header = try Safetensors.readHeader(from: URL(fileURLWithPath: file))
            let step: (Int, String)
            if let value = header.metadata["step"] {
                guard let n = Int(value.trimmingCharacters(in: .whitespaces)), n >= 0, n <= Self.maximumStep else {
                    throw InputFileError(kind: .checkpoint, file: file, problem: "metadata \"step\" is \"\(value.prefix(40))\", not a whole number "
                        + "of steps from 0 to \(Self.maximumStep); save it as metadata={\"step\": str(step)}")
                }
                step = (n, "its metadata")
            } else if let n = try Self.stepInName(file) {
                step = (n, "its name")
            } else if files.count == 1 {
                step = (0, "default")
            } else {
                throw InputFileError(kind: .checkpoint, file: file, problem: "has no training step: no metadata \"step\" and no number in its name. "
                    + "Save it with metadata={\"step\": str(step)} or name it like step-1500.safetensors")
            }
            found.append((Checkpoint(file: file, step: step.0), header.shapes, step.1))
        }
        found.sort { ($0.checkpoint.step, $0.checkpoint.file) < ($1.checkpoint.step, $1.checkpoint.file) }
        for (a, b) in zip(found, found.dropFirst()) where a.checkpoint.step == b.checkpoint.step {
            throw InputFileError(kind: .checkpoint, file: b.checkpoint.file, problem: "has step \(b.checkpoint.step) (from \(b.origin)), "
                + "and so has \(a.checkpoint.file) (from \(a.origin)): each checkpoint needs its own step. "
                + "Remove one, or give each its step in the metadata")
        }
        if let reference = found.first {
            for other in found.dropFirst() {
                if let difference = Self.difference(other.shapes, from: reference.shapes, referenceFile: reference.checkpoint.file) {
                    throw InputFileError(kind: .checkpoint, file: other.checkpoint.file, problem: difference
                        + "; all checkpoints of a series must be one architecture (the same tensor names and shapes)")
                }
            }
        }
        checkpoints = found.map(\.checkpoint)
    }

    /// The last run of digits in the file's name without its extension (`ckpt_001500` -> 1500).
    static func stepInName(_ file: String) throws -> Int? {
        let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        guard let end = stem.lastIndex(where: \.isASCIIDigitCharacter) else { return nil }
        var start = end
        while start > stem.startIndex, stem[stem.index(before: start)].isASCIIDigitCharacter { start = stem.index(before: start) }
        let digits = stem[start...end]
        guard let n = Int(digits), n <= maximumStep else {
            throw InputFileError(kind: .checkpoint, file: file, problem: "the number \(digits.prefix(24)) in its name is too large for a step "
                + "(at most \(maximumStep)); give the step in the metadata instead")
        }
        return n
    }

    /// How `shapes` differs from `reference` (names sorted, first difference), or nil.
    static func difference(_ shapes: [String: [Int]], from reference: [String: [Int]], referenceFile: String) -> String? {
        let referenceName = (referenceFile as NSString).lastPathComponent
        for name in reference.keys.sorted() {
            guard let shape = shapes[name] else {
                return "lacks tensor \"\(name)\" that \(referenceName) has"
            }
            if shape != reference[name]! {
                return "tensor \"\(name)\" has shape \(shape) but \(reference[name]!) in \(referenceName)"
            }
        }
        if let extra = shapes.keys.sorted().first(where: { reference[$0] == nil }) {
            return "has tensor \"\(extra)\" that \(referenceName) lacks"
        }
        return nil
    }
}

private extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
