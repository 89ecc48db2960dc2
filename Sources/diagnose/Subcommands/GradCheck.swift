import ArgumentParser
import TrainingCore

/// `diagnose gradcheck`: the finite-difference gradient check the test suite runs, for a user.
struct GradCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check the BPTT gradient against central finite differences and print the worst error per tensor.")

    @OptionGroup var model: ModelFlags

    @Option(parsing: .unconditional, help: "Largest acceptable relative error.")
    var tolerance: Double = GradientCheck.tolerance

    @Option(help: "Check the network with dropout at this probability (one mask, held fixed).")
    var dropout: Double = 0

    func validate() throws {
        try model.requireSingleValues(command: "gradcheck")
        guard tolerance.isFinite, tolerance > 0 else {
            throw ValidationError("--tolerance \(tolerance): must be a positive finite number (default \(GradientCheck.tolerance))")
        }
        guard dropout >= 0 && dropout < 1 else {
            throw ValidationError("--dropout \(dropout): must lie in [0, 1), e.g. 0.5")
        }
    }

    func run() throws {
        var failed = false
        for cell in model.cells {
            // A small model of the same kind: the check runs two forward passes per parameter.
            var config = model.modelConfig(cell: cell)
            config.vocabularySize = 7
            config.hidden = min(config.hidden, 6)
            config.embed = min(config.embed, 4)
            let results = GradientCheck.run(config: config, dropout: dropout)
            print("\(cell.rawValue) (activation \(config.activation.rawValue), layers \(config.layers)"
                + (config.bidirectional ? ", bidirectional" : "") + (dropout > 0 ? ", dropout \(dropout)" : "")
                + (config.connections == .plain ? "" : ", \(config.connections.rawValue)")
                + ", H=\(config.hidden), E=\(config.embed))")
            for result in results {
                let ok = result.relativeError <= tolerance
                failed = failed || !ok
                print("  \(ok ? "ok  " : "FAIL") \(result.name.padding(toLength: 28, withPad: " ", startingAt: 0)) "
                    + "relative error \(format(result.relativeError, 6)) (max abs diff \(String(format: "%.2e", result.maxAbsoluteDifference)))")
            }
        }
        if failed {
            throw CommandError.checkFailed("the gradient check failed (relative error above \(tolerance))")
        }
    }
}
