import ArgumentParser
import DiagnoseRecord
import Foundation
import Renderer
import TrainingCore

/// Errors the command itself raises.
enum CommandError: Error, CustomStringConvertible {
    case output(path: String, reason: String)
    case missingInput(flag: String, path: String)
    case usage(String)

    var description: String {
        switch self {
        case let .output(path, reason):
            return "--output: cannot write to \(path) (\(reason)); choose a writable folder with --output"
        case let .missingInput(flag, path):
            return "\(flag) \(path): no such file; check the path"
        case let .usage(message):
            return message
        }
    }
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
        case .missingInput: return ExitCode(66)
        case .usage: return ExitCode(64)
        }
    case let report as ReportError:
        if case .cannotCreateFolder = report { return ExitCode(73) }
        return ExitCode(66)
    case let renderer as RendererError:
        switch renderer {
        case .fontNotFound, .fontUnreadable: return ExitCode(66)
        default: return ExitCode(1)
        }
    case is TrainingSetupError, is RunPlanError: return ExitCode(64)
    case is SafetensorsError, is RecordError, is ModelImportError, is ProbeInputError, is CheckpointError, is MetricsError:
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
