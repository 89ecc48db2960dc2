import DiagnoseRecord
import Foundation
import Testing
@testable import diagnose
@testable import Renderer

/// The commands in the report's "What to try" section are commands this tool accepts.
@Suite struct AdviceCommandTests {
    /// Records from a tiny real run of each cell, changed so that every rule fires on one of them.
    static func triggering(_ rnn: RunRecord, _ lstm: RunRecord) -> [RunRecord] {
        func profile(_ record: RunRecord, rate: Double, cell: Bool = false) -> RunRecord {
            var record = record
            var layer = record.probes[0].layers[0]
            let scaled = { (p: [Double]) in p.indices.map { p[0] * pow(rate, Double($0)) } }
            if cell, let c = layer.cellLagProfile {
                layer.cellLagProfile = scaled(c)
            } else {
                layer.lagProfile = scaled(layer.lagProfile)
                layer.recallLagProfile = nil
                layer.decayPerStep = rate
                layer.horizon = layer.lagProfile.firstIndex { $0 / layer.lagProfile[0] < 1e-3 }
            }
            record.probes[0].layers[0] = layer
            return record
        }
        var diverged = lstm
        diverged.status.divergedAtStep = 3
        var clipped = lstm
        clipped.summary.clippedFraction = 0.9
        var spike = lstm
        spike.config.clip = 0
        for i in spike.steps.indices { spike.steps[i].clipped = false }
        spike.steps = Array(repeating: spike.steps[0], count: 30).enumerated().map { i, step in
            var step = step
            step.step = i + 1
            step.gradientNorm = i == 10 ? 1e3 : 1
            return step
        }
        var expanding = rnn
        expanding.summary.spectralRadiusLast = 5
        expanding.summary.recallAccuracy = 0
        var saturated = lstm
        saturated.probes[saturated.probes.count - 1].layers[0].gates[0].saturated = 0.95
        var overfit = lstm
        overfit.evaluations[overfit.evaluations.count - 1].validLoss += 1
        return [diverged, clipped, spike, profile(rnn, rate: 0.1), profile(rnn, rate: 1.5), expanding,
                profile(lstm, rate: 0.05, cell: true), saturated, overfit]
    }

    @Test func everySuggestedCommandIsAcceptedByTheCommandLine() throws {
        let output = try temporaryDirectory()
        let trained = try Command.run(["--cell", "rnn,lstm", "--steps", "4", "--hidden", "6", "--embed", "4", "--batch", "2",
                                       "--bptt", "12", "--probe-every", "2", "--eval-every", "2", "--quiet", "--threads", "2",
                                       "--output", output.path])
        #expect(trained.status == 0, "\(trained.stderr)")
        let rnn = try RecordCoding.load(from: output.appendingPathComponent("rnn/run.json"))
        let lstm = try RecordCoding.load(from: output.appendingPathComponent("lstm/run.json"))
        var fired: Set<String> = []
        var commands: [[String]] = []
        for record in Self.triggering(rnn, lstm) {
            let verdict = GradientVerdict(record: record, referenceLag: GradientVerdict.referenceLag(for: [record]))
            for finding in Advice.findings(record: record, verdict: verdict) {
                fired.insert(finding.rule)
                commands += finding.commands
            }
        }
        #expect(fired == Set(Advice.rules.map(\.id)), "rules that did not fire: \(Set(Advice.rules.map(\.id)).subtracting(fired))")
        for command in Set(commands.map { $0.joined(separator: "\u{0}") }).sorted() {
            let arguments = command.split(separator: "\u{0}").map(String.init)
            let result = try Command.run(arguments + ["--dry-run"])
            #expect(result.status == 0, "diagnose \(arguments.joined(separator: " ")): \(result.stderr)")
            // A sweep: three seeds at least, each run on a line of its own.
            #expect(result.stdout.split(separator: "\n").count >= 3, "\(arguments): \(result.stdout)")
        }
    }
}
