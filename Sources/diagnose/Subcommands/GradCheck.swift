import ArgumentParser
import TrainingCore

/// `diagnose gradcheck`: the finite-difference gradient check the test suite runs, for a user.
struct GradCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check the BPTT gradient against central finite differences and print the worst error per tensor.")

    @OptionGroup var model: ModelFlags

    @Option(help: "Largest acceptable relative error.")
    var tolerance: Double = GradientCheck.tolerance

    func validate() throws {
        try model.requireSingleValues(command: "gradcheck")
    }

    func run() throws {
        var failed = false
        for cell in model.cells {
            // A small model of the same kind: the check runs two forward passes per parameter.
            var config = model.modelConfig(cell: cell)
            config.vocabularySize = 7
            config.hidden = min(config.hidden, 6)
            config.embed = min(config.embed, 4)
            let results = GradientCheck.run(config: config)
            print("\(cell.rawValue) (activation \(config.activation.rawValue), layers \(config.layers)"
                + (config.bidirectional ? ", bidirectional" : "")
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
            printError("error: the gradient check failed (relative error above \(tolerance))")
            throw ExitCode(1)
        }
    }
}
