import ArgumentParser

@main
struct Diagnose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train recurrent language models and picture how their gradients flow.")
    func run() throws {}
}
