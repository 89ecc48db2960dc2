import ArgumentParser
import DiagnoseRecord
import Foundation
import Renderer
import TrainingCore

/// Errors the command itself raises.
enum CommandError: Error, CustomStringConvertible {
    case output(path: String, reason: String)
    case missingInput(flag: String, path: String)
    case unusableInput(flag: String, path: String, reason: String)
    case usage(String)

    var description: String {
        switch self {
        case let .output(path, reason):
            return "--output: cannot write to \(path) (\(reason)); choose a writable folder with --output"
        case let .missingInput(flag, path):
            return "\(flag) \(path): no such file; check the path"
        case let .unusableInput(flag, path, reason):
            return "\(flag) \(path): \(reason)"
        case let .usage(message):
            return message
        }
    }
}

/// An input file must exist and be a regular file (a folder, FIFO or device is refused before it
/// is opened: reading a FIFO could block for ever) that this process can read.
func requireInputFile(_ path: String, flag: String) throws {
    var status = stat()
    guard stat(path, &status) == 0 else {
        if errno == ENOENT || errno == ENOTDIR { throw CommandError.missingInput(flag: flag, path: path) }
        throw CommandError.unusableInput(flag: flag, path: path, reason: String(cString: strerror(errno)))
    }
    switch status.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw CommandError.unusableInput(flag: flag, path: path, reason: "is a folder; give a file")
    default: throw CommandError.unusableInput(flag: flag, path: path, reason: "is not a regular file (a FIFO, socket or device); give a file")
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
        throw AtomicFileError(path: path, reason: "it is a folder; \(flag) names a file")
    }
    let probe = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent)\(TemporaryName.marker)\(getpid())")
    try AtomicFile.writeNew(Data(), to: probe.path)
    unlink(probe.path)
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Prints a library error and maps it to a sysexits-style code: 64 bad flags, 65 bad data,
/// 66 missing input, 73 cannot write output, 1 anything else.
func fail(_ error: Error) -> ExitCode {
    printError("error: \(error)")
    switch error {
    case let corpus as CorpusError:
        switch corpus {
        case .missing, .unreadable, .isFolder: return ExitCode(66)
        case .badValidFraction: return ExitCode(64)
        default: return ExitCode(65)
        }
    case let command as CommandError:
        switch command {
        case .output: return ExitCode(73)
        case .missingInput, .unusableInput: return ExitCode(66)
        case .usage: return ExitCode(64)
        }
    case let report as ReportError:
        if case .cannotCreateFolder = report { return ExitCode(73) }
        return ExitCode(66)
    case let safetensors as SafetensorsError:
        if case .cannotWrite = safetensors.problem { return ExitCode(73) }
        if case .cannotRead = safetensors.problem { return ExitCode(66) }
        return ExitCode(65)
    case is MemoryLimitError: return ExitCode(64)
    case let renderer as RendererError:
        switch renderer {
        case .fontNotFound, .fontFileMissing, .fontUnreadable: return ExitCode(66)
        default: return ExitCode(1)
        }
    case is TrainingSetupError, is RunPlanError: return ExitCode(64)
    case is RecordError, is ModelImportError, is ProbeInputError, is CheckpointError, is MetricsError:
        return ExitCode(65)
    case is AtomicFileError, is StepSummaryError: return ExitCode(73)
    case is CheckUsageError: return ExitCode(64)
    default: return ExitCode(1)
    }
}

/// Runs a command body, printing library errors and turning them into exit codes.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        throw fail(error)
    }
}
