import ArgumentParser
import BenchHarness
import DiagnoseRecord
import Foundation
import Renderer
import TrainingCore

/// Errors the command itself raises.
enum CommandError: Error, CustomStringConvertible {
    /// `flag` chose the path that cannot be written (--output, --json, --to).
    case output(flag: String, path: String, reason: String)
    case missingInput(flag: String, path: String)
    case unusableInput(flag: String, path: String, reason: String)
    /// The file is there but what it holds is wrong.
    case badInput(flag: String, path: String, reason: String)
    /// Nothing to work on, e.g. no run folders: what is missing and what to do.
    case nothingFound(String)
    case usage(String)
    /// A check did not hold; nil when the command's output has said which.
    case checkFailed(String?)
    /// Ctrl-C or SIGTERM stopped the work; nil when the command has said what was kept.
    case interrupted(String?)

    var description: String {
        switch self {
        case let .output(flag, path, reason):
            let advice = AtomicFileError(path: path, reason: reason).advice
            return "cannot write \(path): \(reason); \(advice), or choose another \(flag)"
        case let .missingInput(flag, path):
            return "\(flag) \(path): no such file; check the path"
        case let .unusableInput(flag, path, reason), let .badInput(flag, path, reason):
            return "\(flag) \(path): \(reason)"
        case let .nothingFound(message), let .usage(message):
            return message
        case let .checkFailed(message), let .interrupted(message):
            return message ?? ""
        }
    }
}

/// An input file must exist and be a regular file (a folder, FIFO or device is refused before it
/// is opened: reading a FIFO could block for ever) that this process can read; with `folder`, a
/// folder instead of a regular file.
func requireInputFile(_ path: String, flag: String, folder: Bool = false) throws {
    var status = stat()
    guard stat(path, &status) == 0 else {
        if errno == ENOENT || errno == ENOTDIR { throw CommandError.missingInput(flag: flag, path: path) }
        throw CommandError.unusableInput(flag: flag, path: path, reason: String(cString: strerror(errno)))
    }
    switch status.st_mode & S_IFMT {
    case S_IFREG where !folder, S_IFDIR where folder: break
    case S_IFDIR: throw CommandError.unusableInput(flag: flag, path: path, reason: "is a folder; give a file")
    case S_IFREG: throw CommandError.unusableInput(flag: flag, path: path, reason: "is a file; give a folder")
    default:
        throw CommandError.unusableInput(flag: flag, path: path,
                                         reason: "is not a regular file (a FIFO, socket or device); give a \(folder ? "folder" : "file")")
    }
    guard access(path, R_OK) == 0 else {
        throw CommandError.unusableInput(flag: flag, path: path, reason: "cannot be read (\(String(cString: strerror(errno))))")
    }
}

/// An output file can be written: its folder exists and takes a new file, and the path is not a folder.
func checkWritableFile(_ path: String, flag: String) throws {
    let url = URL(fileURLWithPath: path)
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
        throw CommandError.output(flag: flag, path: path, reason: "it is a folder; \(flag) names a file")
    }
    let probe = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent)\(TemporaryName.marker)\(getpid())")
    try writing(flag: flag, path: path) { try AtomicFile.writeNew(Data(), to: probe.path) }
    unlink(probe.path)
}

/// Runs `read`; a safetensors file it could not read is named with `flag`, the flag that gave it.
func reading<T>(flag: String, _ read: () throws -> T) throws -> T {
    do {
        return try read()
    } catch var unreadable as SafetensorsError {
        unreadable.flag = flag
        throw unreadable
    }
}

/// Runs `write`; when it fails, the error names `flag`, the flag that chose where to write, and
/// `path` if given (instead of the file that failed, e.g. a temporary sibling).
func writing<T>(flag: String, path: String? = nil, _ write: () throws -> T) throws -> T {
    do {
        return try write()
    } catch let error as AtomicFileError {
        throw CommandError.output(flag: flag, path: path ?? error.path, reason: error.reason)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// How an error reads on the command line: the message (the flag or file, what is wrong and what to
/// do; nil when the command has printed it already) and the sysexits code: 64 bad flags, 65 bad
/// data, 66 missing input, 73 cannot write output, 1 a check failed, 130 interrupted.
struct Failure {
    var message: String?
    var code: Int32

    /// nil for the argument parser's errors (usage errors, --help, --version), which it reports itself.
    init?(_ error: Error) {
        switch error {
        case let corpus as CorpusError: (message, code) = (corpus.message, corpus.exitCode)
        case let setup as TrainingSetupError: (message, code) = (setup.message, 64)
        case let input as InputFileError: (message, code) = (input.message, 65)
        case let command as CommandError:
            message = command.description
            switch command {
            case .output: code = 73
            case .missingInput, .unusableInput, .nothingFound: code = 66
            case .badInput: code = 65
            case .usage: code = 64
            case let .checkFailed(text): (message, code) = (text, 1)
            case let .interrupted(text): (message, code) = (text, 130)
            }
        case let report as ReportError:
            if case .cannotCreateFolder = report { (message, code) = (report.description, 73) } else { (message, code) = (report.description, 66) }
        case let safetensors as SafetensorsError:
            message = safetensors.description
            switch safetensors.problem {
            case .cannotWrite: code = 73
            case .cannotRead: code = 66
            default: code = 65
            }
        case let renderer as RendererError:
            message = renderer.description
            switch renderer {
            case .fontNotFound, .fontFileMissing, .fontUnreadable: code = 66
            default: code = 1
            }
        case is MeasurementError: (message, code) = ("bench: \(error)", 1)
        case is MemoryLimitError, is RunPlanError, is CheckUsageError: (message, code) = ("\(error)", 64)
        case is RecordError: (message, code) = ("\(error)", 65)
        // Every command but bench --json and export --to writes under --output.
        case let file as AtomicFileError: (message, code) = ("\(file), or choose another --output", 73)
        case is StepSummaryError: (message, code) = ("\(error)", 73)
        // The argument parser's own (usage errors, --help, ExitCode): it reports them with the usage.
        case _ where String(reflecting: type(of: error)).hasPrefix("ArgumentParser."): return nil
        default: (message, code) = ("\(error)", 1)
        }
    }
}

/// The one way a command fails: prints the error's message and exits with its code. Every
/// subcommand's `run()` throws, and `Diagnose.main` hands what it throws here.
func exitReporting(_ error: Error) -> Never {
    guard let failure = Failure(error) else { Diagnose.exit(withError: error) }
    if let message = failure.message { printError("error: \(message)") }
    exit(failure.code)
}

extension CorpusFileRole {
    /// The flag that names a corpus file of this role.
    var flag: String {
        switch self {
        case .training: return "--corpus"
        case .validation: return "--valid"
        case .test: return "--test"
        }
    }
}

extension CorpusError {
    var message: String {
        let named = role.map { "\($0.flag) \(description)" } ?? description
        switch self {
        case let .missing(_, role):
            return named + (role == .training
                ? "; give the path of a UTF-8 text file, or omit --corpus to use the built-in synthetic corpus"
                : "; give the path of a UTF-8 text file")
        case .unreadable: return named + "; check the permissions"
        case .isFolder: return named + "; give the path of a UTF-8 text file"
        case .tooLarge: return named + "; use a part of it"
        case .empty: return named + "; give a text file with content"
        case .notUTF8: return named + "; convert it with `iconv -t UTF-8`"
        case let .tooShort(_, split, _, _, role):
            // The built-in corpus is sized for the run, so only the flags can be at fault there.
            let sizes = "smaller --batch / --bptt"
            if isSynthetic {
                return description + (split == .validation ? "; raise --valid-fraction or use \(sizes)"
                    : "; lower --valid-fraction or use \(sizes)")
            }
            switch (role, split) {
            case (.training, .validation): return named + "; raise --valid-fraction or use \(sizes)"
            case (.training, .whole): return named + "; use a longer text or \(sizes)"
            case (.training, _): return named + "; use a longer corpus or \(sizes)"
            case (.validation, _): return named + "; use a longer validation file or \(sizes)"
            case (.test, _): return named + "; use a longer test file or \(sizes)"
            }
        case let .badValidFraction(value):
            return "--valid-fraction \(value): must lie strictly between 0 and 1 (default 0.1)"
        case .notInVocabulary: return named + "; give the --vocab the model was trained with, or --tokenize as it was"
        }
    }

    var exitCode: Int32 {
        switch self {
        case .missing, .unreadable, .isFolder: return 66
        case .badValidFraction: return 64
        default: return 65
        }
    }
}

extension TrainingSetupError {
    var message: String {
        switch self {
        case let .dropoutNeedsPlainStack(dropout, connections):
            return "--dropout \(dropout): dropout is applied to plain stacks only so far; drop --dropout or --\(connections.rawValue)"
        case let .epochs(epochs):
            return "--epochs \(epochs): must be a positive whole number"
        }
    }
}

extension InputFileError {
    /// The flag that names the file, when one flag alone can (a series' files come from --weights or --checkpoints).
    var flag: String? {
        switch kind {
        case .weights: return "--weights"
        case .checkpointFolder: return "--checkpoints"
        case .batch: return "--tokens"
        case .vocabulary: return "--vocab"
        case .metrics: return "--metrics"
        case .checkpoint: return nil
        }
    }

    var message: String {
        let named = flag.map { "\($0) \(description)" } ?? description
        guard let remedy else { return named }
        let sizes = "give the same --cell, --layers, --hidden, --embed and --bidirectional it was trained with"
        switch remedy {
        case .namePrefix: return named + "; map the file's names with --prefix (the recurrent module's name in it, e.g. model.lstm.)"
        case .oneModelPerFile: return named + "; save one model per file, or give a --prefix that only one of them matches"
        case .cellFromShapes: return named + "; drop --cell (the shapes tell the cell)"
        case .sameArchitecture: return named + "; \(sizes)"
        case .sameArchitectureOrIgnoreExtra: return named + "; \(sizes), or pass --ignore-extra-tensors to load the rest anyway"
        case .checkpointFolder: return named + "; point --checkpoints at the folder the checkpoints were saved in"
        case .fewerCheckpoints: return named + "; pick some with --weights A B ..., or save less often (every=N in the recorder)"
        }
    }
}
