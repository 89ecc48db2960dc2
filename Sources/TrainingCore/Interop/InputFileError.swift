/// A problem in a file made elsewhere (weights, a checkpoint series, a probe batch, a training
/// log): which file, where in it, and what is wrong, with the numbers. Where the fix is a choice
/// the caller makes (a name prefix, the model's sizes), `remedy` names that choice; the command
/// line phrases it with its own option names.
public struct InputFileError: Error, CustomStringConvertible, Equatable {
    /// What the file is.
    public enum Kind: Sendable, Equatable {
        /// Model weights (safetensors), one model.
        case weights
        /// One file of a checkpoint series, or the folder that holds the series.
        case checkpoint, checkpointFolder
        /// A probe batch (JSON token ids).
        case batch
        /// The vocabulary a probe batch is cut from text with (a JSON array of token strings).
        case vocabulary
        /// A training loop's metrics log.
        case metrics
    }

    /// Where in the file.
    public enum Place: Sendable, Equatable {
        case tensor(String)
        /// 1-based.
        case line(Int)
    }

    /// The caller's choice that would fix the problem.
    public enum Remedy: Sendable, Equatable {
        /// Map the file's names to ours with the recurrent module's name prefix.
        case namePrefix
        /// The file holds two models: save one per file, or give a prefix only one of them matches.
        case oneModelPerFile
        /// Leave the cell to the shapes.
        case cellFromShapes
        /// Build the model with the cell and sizes the weights were saved with.
        case sameArchitecture
        /// The same, or load this model's tensors and ignore the others in the file.
        case sameArchitectureOrIgnoreExtra
        /// Point at the folder the checkpoints were saved in.
        case checkpointFolder
        /// Name fewer checkpoints, or save them less often.
        case fewerCheckpoints
    }

    public var kind: Kind
    public var file: String
    public var place: Place? = nil
    /// What is wrong, with the numbers.
    public var problem: String
    public var remedy: Remedy? = nil

    /// The tensor the problem is in, if it is in one.
    public var tensor: String? {
        if case let .tensor(name)? = place { return name }
        return nil
    }

    /// `file, line 3: problem` or `file: tensor "name" problem`.
    public var description: String {
        switch place {
        case let .tensor(name)?: return "\(file): tensor \"\(name)\" \(problem)"
        case let .line(line)?: return "\(file), line \(line): \(problem)"
        case nil: return "\(file): \(problem)"
        }
    }
}
