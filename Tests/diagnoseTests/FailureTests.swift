import ArgumentParser
import DiagnoseRecord
import Foundation
import Testing
@testable import diagnose
@testable import TrainingCore

/// The command line's one error path: each library error becomes a message that names the flag,
/// what is wrong and what to do, and its sysexits code.
@Suite struct FailureTests {
    func failure(_ error: Error) throws -> (message: String, code: Int32) {
        let failure = try #require(Failure(error))
        return (failure.message ?? "", failure.code)
    }

    @Test func corpusErrorsNameTheFlagOfTheFilesRole() throws {
        var result = try failure(CorpusError.missing(path: "v.txt", role: .validation))
        #expect(result.message == "--valid v.txt: no such file; give the path of a UTF-8 text file")
        #expect(result.code == 66)
        result = try failure(CorpusError.notUTF8(path: "t.txt", byteOffset: 7, role: .test))
        #expect(result.message.hasPrefix("--test t.txt: not valid UTF-8 (first bad byte at offset 7); convert it"))
        #expect(result.code == 65)
        result = try failure(CorpusError.tooShort(name: "c.txt", split: .validation, have: 9, need: 44))
        #expect(result.message == "--corpus c.txt: the validation split has 9 tokens but one batch x (bptt + 1) window "
            + "needs 44; raise --valid-fraction or use smaller --batch / --bptt")
        // The built-in corpus has no file to name: only the sizes can be at fault.
        result = try failure(CorpusError.tooShort(name: SyntheticCorpus.name, split: .training, have: 9, need: 44))
        #expect(result.message.hasPrefix("the built-in synthetic corpus: the training split has 9 tokens"))
        #expect(result.message.hasSuffix("lower --valid-fraction or use smaller --batch / --bptt"))
        result = try failure(CorpusError.badValidFraction(2))
        #expect(result.message.hasPrefix("--valid-fraction 2.0:") && result.code == 64)
    }

    @Test func setupAndInputFileErrorsGainTheirFlagsAndRemedies() throws {
        var result = try failure(TrainingSetupError.epochs(0))
        #expect(result.message == "--epochs 0: must be a positive whole number" && result.code == 64)
        result = try failure(TrainingSetupError.dropoutNeedsPlainStack(dropout: 0.2, connections: .dense))
        #expect(result.message.hasSuffix("drop --dropout or --dense"))
        result = try failure(InputFileError(kind: .weights, file: "m.safetensors", place: .tensor("rnn.weight_hh_l0"),
                                            problem: "is missing", remedy: .sameArchitectureOrIgnoreExtra))
        #expect(result.message.hasPrefix("--weights m.safetensors: tensor \"rnn.weight_hh_l0\" is missing; give the same --cell"))
        #expect(result.message.hasSuffix("or pass --ignore-extra-tensors to load the rest anyway") && result.code == 65)
        result = try failure(InputFileError(kind: .metrics, file: "m.csv", place: .line(3), problem: "has no step"))
        #expect(result.message == "--metrics m.csv, line 3: has no step")
        // A file of a series may have come from --weights or from --checkpoints: no flag is guessed.
        result = try failure(InputFileError(kind: .checkpoint, file: "a/s.safetensors", problem: "has no training step"))
        #expect(result.message == "a/s.safetensors: has no training step")
    }

    @Test func commandOutcomesAndUntypedErrorsHaveTheirCodes() throws {
        #expect(try failure(CommandError.checkFailed(nil)).code == 1)
        #expect(Failure(CommandError.interrupted(nil))?.message == nil)
        #expect(try failure(CommandError.interrupted(nil)).code == 130)
        #expect(try failure(CommandError.badInput(flag: "--vocab", path: "v.json", reason: "x")).code == 65)
        #expect(try failure(CocoaError(.fileReadUnknown)).code == 1)
        // A file that cannot be written: under --output unless a command names its own flag.
        var result = try failure(AtomicFileError(path: "o/run.json", reason: "Permission denied"))
        #expect(result.message == "cannot write o/run.json: Permission denied; check that the folder exists and is writable, "
            + "or choose another --output" && result.code == 73)
        result = try failure(CommandError.output(flag: "--json", path: "b.json", reason: String(cString: strerror(ENOSPC))))
        #expect(result.message.hasSuffix("; free some space, or choose another --json") && result.code == 73)
        // The argument parser reports its own errors, with the usage.
        #expect(Failure(ValidationError("--x: bad")) == nil)
        #expect(Failure(ExitCode(3)) == nil)
    }
}
