import ArgumentParser

@main
struct Diagnose: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        abstract: "Train recurrent language models and picture how their gradients flow.",
        discussion: "Trains a simple RNN and an LSTM (by default) on a built-in recall task, probes the "
            + "gradient that each step's loss sends back to every earlier hidden state, and writes PNG charts and "
            + "one HTML report (output/report.html) comparing them. Run `diagnose help train` for every flag.",
        version: version,
        subcommands: [Train.self, Report.self, Check.self, Export.self, GradCheck.self, Bench.self, Probe.self],
        defaultSubcommand: Train.self)

    /// Parses the command line (the argument parser reports bad flags, --help and --version) and
    /// runs the command; whatever it throws leaves through `exitReporting(_:)`.
    static func main() {
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do { try command.run() } catch { exitReporting(error) }
    }
}
