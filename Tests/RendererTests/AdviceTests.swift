import DiagnoseRecord
import Foundation
import Testing
@testable import Renderer

/// Records that trip one rule each, and records close to them that must not.
private enum AdviceCases {
    /// The fixture LSTM with a clipping threshold above every step's gradient norm.
    static var healthy: RunRecord {
        var record = ReportFixtures.lstm
        record.config.clip = 5
        for i in record.steps.indices { record.steps[i].clipped = false }
        record.summary.clippedFraction = 0
        return record
    }

    static func findings(_ record: RunRecord) -> [Finding] {
        let verdict = GradientVerdict(record: record, referenceLag: GradientVerdict.referenceLag(for: [record]))
        return Advice.findings(record: record, verdict: verdict)
    }

    static func rules(_ record: RunRecord) -> [String] { findings(record).map(\.rule) }

    /// Sets the first probe's lag profiles (hidden, cell, recall answers) to `ratio^l` times their l = 0 value.
    static func firstProbe(_ record: RunRecord, hidden: Double? = nil, cell: Double? = nil) -> RunRecord {
        var record = record
        var layer = record.probes[0].layers[0]
        func scaled(_ profile: [Double], _ rate: Double) -> [Double] {
            profile.indices.map { profile[0] * pow(rate, Double($0)) }
        }
        if let hidden {
            layer.lagProfile = scaled(layer.lagProfile, hidden)
            layer.recallLagProfile = layer.recallLagProfile.map { p in p.indices.map { l in p[0].map { $0 * pow(hidden, Double(l)) } } }
            layer.horizon = layer.lagProfile.firstIndex { $0 / layer.lagProfile[0] < 1e-3 }
            layer.decayPerStep = hidden
        }
        if let cell, let profile = layer.cellLagProfile {
            layer.cellLagProfile = scaled(profile, cell)
            layer.cellHorizon = layer.cellLagProfile!.firstIndex { $0 / profile[0] < 1e-3 }
        }
        record.probes[0].layers[0] = layer
        return record
    }

    /// (rule, a record that triggers it, a similar record that does not).
    static var table: [(rule: String, fires: RunRecord, quiet: RunRecord)] {
        var diverged = healthy
        diverged.status.divergedAtStep = 120
        diverged.status.divergenceReason = "loss is NaN"

        var clipped = healthy
        clipped.summary.clippedFraction = 0.8
        var clippedSome = healthy
        clippedSome.summary.clippedFraction = 0.3

        var spiking = healthy
        spiking.config.clip = 0
        spiking.steps[50].gradientNorm = 500
        spiking.steps[50].clipped = false
        var spikeClipped = spiking
        spikeClipped.config.clip = 1
        spikeClipped.steps[50].clipped = true

        let vanishing = ReportFixtures.rnn
        let notVanishing = firstProbe(ReportFixtures.rnn, hidden: 0.9)

        var expanding = ReportFixtures.rnn
        expanding.summary.spectralRadiusLast = 4.6
        expanding.summary.recallAccuracy = 0.08
        var contracting = expanding
        contracting.summary.spectralRadiusLast = 0.95

        let forgetful = firstProbe(healthy, cell: 0.12)

        var saturated = healthy
        saturated.probes[2].layers[0].gates[0].saturated = 0.85   // input gate
        var forgetHeldOpen = healthy
        forgetHeldOpen.probes[2].layers[0].gates[1].saturated = 0.95  // forget gate: how an LSTM remembers

        var overfit = healthy
        overfit.evaluations[overfit.evaluations.count - 1].validLoss += 0.5
        var fits = healthy
        fits.evaluations[fits.evaluations.count - 1].validLoss = fits.evaluations.last!.trainLoss + 0.05

        return [
            ("diverged", diverged, healthy),
            ("most-steps-clipped", clipped, clippedSome),
            ("gradient-spikes", spiking, spikeClipped),
            ("vanishing-at-initialisation", vanishing, notVanishing),
            ("growing-at-initialisation", firstProbe(ReportFixtures.rnn, hidden: 1.3), notVanishing),
            ("expanding-map", expanding, contracting),
            ("short-cell-horizon", forgetful, healthy),
            ("saturated-gates", saturated, forgetHeldOpen),
            ("overfitting", overfit, fits),
        ]
    }
}

@Suite struct AdviceTests {
    @Test func everyRuleIsTestedBothWays() {
        #expect(Set(AdviceCases.table.map(\.rule)) == Set(Advice.rules.map(\.id)))
        #expect(Advice.rules.count == Set(Advice.rules.map(\.id)).count, "rule ids are unique")
        for (rule, fires, quiet) in AdviceCases.table {
            #expect(AdviceCases.rules(fires).contains(rule), "\(rule) should fire")
            #expect(!AdviceCases.rules(quiet).contains(rule), "\(rule) should stay quiet")
        }
    }

    @Test func aHealthyRunGetsNothingToChange() {
        #expect(AdviceCases.findings(AdviceCases.healthy).isEmpty)
        let html = HTMLReport.build(runs: [ReportFixtures.reportRun(AdviceCases.healthy)], comparison: [],
                                    generatedBy: "diagnose 0.1.0")
        #expect(html.contains("<p class=\"healthy\">Nothing to change: no rule found a problem in this run.</p>"))
    }

    @Test func vanishingRNNGetsCellsAndASpectralRadiusSweep() throws {
        let finding = try #require(AdviceCases.findings(ReportFixtures.rnn).first { $0.rule == "vanishing-at-initialisation" })
        // The fixture's command was --cell rnn --steps 200 --seed 7: the cell and seed are replaced, the rest kept.
        #expect(finding.commands == [
            ["--steps", "200", "--cell", "rnn,gru,lstm", "--seed", "0,1,2", "--output", "output/try-cells"],
            ["--steps", "200", "--cell", "rnn", "--spectral-radius", "0.9:1.1:0.1", "--seed", "0,1,2",
             "--output", "output/try-spectral-radius"],
        ])
        // The evidence quotes the record: r(10) of the recall answers at the first probe.
        let recall = try #require(ReportFixtures.rnn.probes[0].layers[0].recallLagProfile)
        let share = try #require(recall[10]) / (try #require(recall[0]))
        #expect(finding.evidence.contains("the recall answers send " + ReportFormat.ratio(share)
            + " of their local gradient to the letter 10 steps back"))
        #expect(finding.text.chart == .gradientDecay)
    }

    @Test func forgetfulLSTMGetsAForgetBiasSweep() throws {
        var record = AdviceCases.firstProbe(AdviceCases.healthy, cell: 0.12)
        record.command = ["--cell", "lstm", "--forget-bias=-2", "--output", "runs/", "--quiet", "--steps", "300"]
        record.config.forgetBias = -2
        let finding = try #require(AdviceCases.findings(record).first { $0.rule == "short-cell-horizon" })
        #expect(finding.commands == [["--steps", "300", "--cell", "lstm", "--forget-bias", "0:2:1", "--seed", "0,1,2",
                                      "--output", "runs/try-forget-bias"]])
        #expect(finding.evidence.hasPrefix("With forget-gate bias -2, at initialisation along the cell state "))
        #expect(finding.text.source.contains("Gers") && finding.text.source.contains("Jozefowicz"))
    }

    @Test func anInitialSpectralRadiusMissingFromTheCommandIsKept() throws {
        var record = ReportFixtures.rnn
        record.config.spectralRadius = 3
        record.summary.spectralRadiusLast = 6
        record.summary.recallAccuracy = 0.06
        let finding = try #require(AdviceCases.findings(record).first { $0.rule == "expanding-map" })
        #expect(finding.commands == [["--steps", "200", "--spectral-radius", "3", "--cell", "rnn,gru,lstm", "--seed", "0,1,2",
                                      "--output", "output/try-cells"]])
    }

    @Test func lowerLearningRatesAreAThirdAndATenth() {
        var record = AdviceCases.healthy
        record.config.learningRate = 0.01
        let input = AdviceInput(record: record, verdict: GradientVerdict(record: record, referenceLag: 1))
        #expect(input.lowerLearningRates == "0.001,0.0033,0.01")
        #expect(Advice.clipSuggestions(median: 0.8) == "0.4,0.8,1.6")
    }

    @Test func findingsShowEvidenceLinkSourceAndCommandInTheReport() throws {
        let html = HTMLReport.build(runs: [ReportFixtures.reportRun(ReportFixtures.rnn), ReportFixtures.reportRun(ReportFixtures.lstm)],
                                    comparison: ReportFixtures.comparisonCharts, generatedBy: "diagnose 0.1.0")
        #expect(html.contains("<li id=\"try-r1-vanishing-at-initialisation\" data-rule=\"vanishing-at-initialisation\">"))
        #expect(html.contains("<a class=\"evidence\" href=\"#fig-r1-gradient-decay\">"))
        #expect(html.contains("<pre><code>diagnose --steps 200 --cell rnn,gru,lstm --seed 0,1,2 --output output/try-cells</code></pre>"))
        #expect(html.contains("Source: Hochreiter and Schmidhuber (1997)"))
        let section = try #require(html.range(of: "<section id=\"what-to-try\">"))
        let verdict = try #require(html.range(of: "<section id=\"verdict\">"))
        #expect(verdict.lowerBound < section.lowerBound)
    }
}

@Suite struct HeadlineTests {
    @Test func comparesTheGradientAtInitialisationAndTheOutcome() throws {
        let records = [ReportFixtures.rnn, ReportFixtures.lstm]
        let verdicts = records.map { GradientVerdict(record: $0, referenceLag: GradientVerdict.referenceLag(for: records)) }
        let sentences = Headline.sentences(records: records, verdicts: verdicts)
        #expect(sentences.count == 2)
        // The factor is computed from the records' recall-answer profiles at lag 10.
        func share(_ r: RunRecord) throws -> Double {
            let p = try #require(r.probes[0].layers[0].recallLagProfile)
            return try #require(p[10]) / (try #require(p[0]))
        }
        let factor = try share(ReportFixtures.lstm) / share(ReportFixtures.rnn)
        #expect(sentences[0] == "At initialisation lstm delivers about \(ReportFormat.scientific(factor, digits: 2)) times as much "
            + "of the recall answers' gradient to the letter 10 steps back as rnn "
            + "(\(ReportFormat.ratio(try share(ReportFixtures.lstm))) against \(ReportFormat.ratio(try share(ReportFixtures.rnn))) "
            + "of the local gradient).")
        #expect(sentences[1] == "After training, rnn recalls 16% of the answers; lstm recalls 99% of the answers.")
    }

    @Test func anExpandingRNNAtChanceIsSaidInOneClause() {
        var rnn = ReportFixtures.rnn
        rnn.summary.spectralRadiusLast = 4.6
        rnn.summary.recallAccuracy = 0.08
        rnn = AdviceCases.lastProbeHolds(rnn)
        let verdict = GradientVerdict(record: rnn, referenceLag: 29)
        #expect(Headline.outcome(rnn, verdict) == "rnn's gradient no longer vanishes but its recurrent map expands "
            + "(spectral radius 4.6), and it still recalls near chance (8.0%, chance 6.2%)")
    }

    @Test func runsThatDeliverAlikeAreSaidToBeAlike() {
        let a = ReportFixtures.lstm
        var b = ReportFixtures.lstm
        b.name = "lstm-2"
        let verdicts = [a, b].map { GradientVerdict(record: $0, referenceLag: 29) }
        let sentence = Headline.gradientSentence(records: [a, b], verdicts: verdicts)
        #expect(sentence?.hasPrefix("At initialisation the runs deliver about the same share of the recall answers' gradient") == true)
    }

    @Test func theHeadlineOpensTheReport() throws {
        let html = HTMLReport.build(runs: [ReportFixtures.reportRun(ReportFixtures.rnn), ReportFixtures.reportRun(ReportFixtures.lstm)],
                                    comparison: ReportFixtures.comparisonCharts, generatedBy: "diagnose 0.1.0")
        let headline = try #require(html.range(of: "<p class=\"headline\" id=\"headline\">At initialisation lstm delivers"))
        let verdicts = try #require(html.range(of: "<ul class=\"verdicts\">"))
        #expect(headline.lowerBound < verdicts.lowerBound)
        #expect(html.contains("<a href=\"#what-to-try\">What to try ("))
    }
}

extension AdviceCases {
    /// The last probe's lag profile flattened to 0.9^l: the gradient no longer vanishes.
    static func lastProbeHolds(_ record: RunRecord) -> RunRecord {
        var record = record
        let last = record.probes.count - 1
        var layer = record.probes[last].layers[0]
        layer.lagProfile = layer.lagProfile.indices.map { layer.lagProfile[0] * pow(0.9, Double($0)) }
        layer.recallLagProfile = layer.recallLagProfile.map { p in p.indices.map { l in p[0].map { $0 * pow(0.9, Double(l)) } } }
        layer.horizon = nil
        layer.decayPerStep = 0.9
        record.probes[last].layers[0] = layer
        return record
    }
}
