// The sizes a run record (and the flags that make one) may have, and the check that a decoded
// record keeps to them. The renderer allocates pictures and arrays from these sizes, so every one
// is checked against its limit and against the others before anything is drawn: a record that
// claims T = 2^40, or whose gradient-flow matrix has more rows than T, is refused by name instead
// of ending the process.

import Foundation

/// Hard limits shared by the command line (flags), the probe (its batch) and the record check.
public enum RecordLimits {
    /// Steps per window (T): `--bptt`, the length of a `probe --tokens` row minus one, `config.bptt`.
    public static let maxSteps = 4096
    /// Hidden units and embedding size (H, E).
    public static let maxHidden = 4096
    /// Stacked recurrent layers.
    public static let maxLayers = 16
    /// Rows in a batch (B).
    public static let maxBatch = 4096
    /// Optimiser steps of one run (`--steps`, `config.steps`, step indices).
    public static let maxTrainingSteps = 100_000_000
    /// Probes kept in one record.
    public static let maxProbes = 100_000
    /// Named parameter tensors (record) and tensors in a safetensors file.
    public static let maxTensors = 10_000
    /// Bins of a gate histogram.
    public static let maxHistogramBins = 10_000
    /// Vocabulary size (tokens) a record may claim.
    public static let maxVocabulary = 10_000_000
    /// Bytes of a `run.json` that will be read at all.
    public static let maxRecordBytes = 1 << 30
}

/// What is wrong with a record's sizes: the field (a JSON path such as `probes[2].layers[0].gradientFlow`)
/// and the problem.
public struct RecordLimitViolation: Error, Equatable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public var description: String { "\(field) \(problem)" }
}

extension RunRecord {
    /// Checks every size the renderer reads against its limit (`RecordLimits`) and against the
    /// others (T, H, layers): arrays indexed by step have at most T entries, row t of a gradient-flow
    /// matrix has t + 1, Jacobian spectra at most the Jacobian's size, and so on. Shorter arrays
    /// are allowed (the charts note missing data); nothing here reads more than the record holds.
    public func checkLimits() throws {
        func fail(_ field: String, _ problem: String) -> RecordLimitViolation {
            RecordLimitViolation(field: field, problem: problem)
        }
        func within(_ field: String, _ value: Int, _ range: ClosedRange<Int>) throws {
            guard range.contains(value) else {
                throw fail(field, "is \(value); it must lie in \(range.lowerBound)...\(range.upperBound)")
            }
        }
        func atMost(_ field: String, _ count: Int, _ limit: Int, _ what: String) throws {
            guard count <= limit else { throw fail(field, "has \(count) entries, more than \(what) (\(limit))") }
        }

        try within("schemaVersion", schemaVersion, 1...RunRecord.currentSchemaVersion)
        let T = config.bptt, H = config.hidden
        try within("config.bptt", T, 1...RecordLimits.maxSteps)
        try within("config.hidden", H, 1...RecordLimits.maxHidden)
        try within("config.embed", config.embed, 1...RecordLimits.maxHidden)
        try within("config.layers", config.layers, 1...RecordLimits.maxLayers)
        try within("config.batch", config.batch, 1...RecordLimits.maxBatch)
        try within("config.steps", config.steps, 0...RecordLimits.maxTrainingSteps)
        try within("config.probeEvery", config.probeEvery, 1...Int.max)
        try within("config.evalEvery", config.evalEvery, 1...Int.max)
        try within("config.threads", config.threads, 0...65_536)
        if let limit = config.vocabSizeLimit { try within("config.vocabSizeLimit", limit, 0...RecordLimits.maxVocabulary) }
        if let lag = config.lag { try within("config.lag", lag, 0...Int(Int32.max)) }
        try within("corpus.vocabularySize", corpus.vocabularySize, 0...RecordLimits.maxVocabulary)
        for (field, value) in [("corpus.tokens", corpus.tokens), ("corpus.trainTokens", corpus.trainTokens),
                               ("corpus.validTokens", corpus.validTokens), ("parameterCount", parameterCount)] {
            try within(field, value, 0...Int.max)
        }

        try atMost("parameters", parameters.count, RecordLimits.maxTensors, "the tensor limit")
        for (i, parameter) in parameters.enumerated() {
            try atMost("parameters[\(i)].shape", parameter.shape.count, 8, "8 dimensions")
            for dimension in parameter.shape { try within("parameters[\(i)].shape", dimension, 0...Int(Int32.max)) }
        }

        try atMost("steps", steps.count, RecordLimits.maxTrainingSteps, "the step limit")
        for (i, step) in steps.enumerated() {
            try within("steps[\(i)].step", step.step, 0...RecordLimits.maxTrainingSteps)
        }
        try atMost("evaluations", evaluations.count, RecordLimits.maxTrainingSteps, "the step limit")
        for (i, evaluation) in evaluations.enumerated() {
            try within("evaluations[\(i)].step", evaluation.step, 0...RecordLimits.maxTrainingSteps)
            try atMost("evaluations[\(i)].directionValidLosses", evaluation.directionValidLosses?.count ?? 0, 2, "two directions")
        }
        if let step = status.divergedAtStep { try within("status.divergedAtStep", step, 0...RecordLimits.maxTrainingSteps) }
        try within("summary.stepsCompleted", summary.stepsCompleted, 0...RecordLimits.maxTrainingSteps)
        for (field, value) in [("summary.horizon", summary.horizon), ("summary.horizonFirst", summary.horizonFirst)] {
            if let value { try within(field, value, 0...RecordLimits.maxSteps) }
        }
        try atMost("status.nonFiniteWeights", status.nonFiniteWeights?.count ?? 0, RecordLimits.maxTensors, "the tensor limit")
        try atMost("summary.gateSaturation", summary.gateSaturation?.count ?? 0, 16, "16 gates")

        try atMost("probeTokens", probeTokens.count, T, "config.bptt")
        try atMost("probes", probes.count, RecordLimits.maxProbes, "the probe limit")
        let directions = config.bidirectional ? 2 : 1
        for (p, probe) in probes.enumerated() {
            let field = "probes[\(p)]"
            try within("\(field).step", probe.step, 0...RecordLimits.maxTrainingSteps)
            try atMost("\(field).stepLosses", probe.stepLosses.count, 2, "two directions")
            for (d, losses) in probe.stepLosses.enumerated() {
                try atMost("\(field).stepLosses[\(d)]", losses.count, T, "config.bptt")
            }
            try atMost("\(field).parameterGradientNorms", probe.parameterGradientNorms.count, RecordLimits.maxTensors,
                       "the tensor limit")
            try atMost("\(field).layers", probe.layers.count, config.layers * directions, "config.layers x directions")
            for (l, layer) in probe.layers.enumerated() {
                try layer.checkLimits(field: "\(field).layers[\(l)]", T: T, H: H, layers: config.layers)
            }
        }
    }
}

extension LayerProbe {
    func checkLimits(field: String, T: Int, H: Int, layers: Int) throws {
        func fail(_ name: String, _ problem: String) -> RecordLimitViolation {
            RecordLimitViolation(field: "\(field).\(name)", problem: problem)
        }
        func atMost(_ name: String, _ count: Int, _ limit: Int, _ what: String) throws {
            guard count <= limit else { throw fail(name, "has \(count) entries, more than \(what) (\(limit))") }
        }
        /// A lower-triangular matrix: at most T rows, row t with t + 1 entries.
        func triangle<Element>(_ name: String, _ rows: [[Element]]?) throws {
            guard let rows else { return }
            try atMost(name, rows.count, T, "config.bptt")
            for (t, row) in rows.enumerated() where row.count != t + 1 {
                throw fail("\(name)[\(t)]", "has \(row.count) entries; row t of the matrix has t + 1")
            }
        }
        guard (0..<layers).contains(layer) else { throw fail("layer", "is \(layer); the run has \(layers) layer(s)") }
        try triangle("gradientFlow", gradientFlow)
        try triangle("cellGradientFlow", cellGradientFlow)
        try triangle("recallGradientFlow", recallGradientFlow)
        try atMost("lagProfile", lagProfile.count, T, "config.bptt")
        try atMost("cellLagProfile", cellLagProfile?.count ?? 0, T, "config.bptt")
        try atMost("recallLagProfile", recallLagProfile?.count ?? 0, T, "config.bptt")
        for (name, value) in [("horizon", horizon), ("cellHorizon", cellHorizon)] {
            if let value, !(0...T).contains(value) { throw fail(name, "is \(value); it must lie in 0...\(T)") }
        }

        let matrices = [spectrum.whole] + spectrum.blocks
        try atMost("spectrum.blocks", spectrum.blocks.count, 4, "four gate blocks")
        for (m, matrix) in matrices.enumerated() {
            let name = m == 0 ? "spectrum.whole" : "spectrum.blocks[\(m - 1)]"
            try atMost("\(name).eigenvalues", matrix.eigenvalues.count, 4 * H, "4 x config.hidden")
            try atMost("\(name).singularValues", matrix.singularValues.count, 4 * H, "4 x config.hidden")
            for (i, pair) in matrix.eigenvalues.enumerated() where pair.count != 2 {
                throw fail("\(name).eigenvalues[\(i)]", "has \(pair.count) numbers; an eigenvalue is [re, im]")
            }
        }

        guard (0...2 * H).contains(jacobians.size) else {
            throw fail("jacobians.size", "is \(jacobians.size); it must lie in 0...\(2 * H) (2 x config.hidden)")
        }
        for (name, rows) in [("stepSingularValues", jacobians.stepSingularValues),
                             ("productSingularValues", jacobians.productSingularValues),
                             ("lyapunovExponents", jacobians.lyapunovExponents)] {
            try atMost("jacobians.\(name)", rows.count, T, "config.bptt")
            for (i, row) in rows.enumerated() {
                try atMost("jacobians.\(name)[\(i)]", row.count, jacobians.size, "jacobians.size")
            }
        }

        try atMost("gates", gates.count, 4, "four gates")
        for (g, gate) in gates.enumerated() {
            let name = "gates[\(g)]"
            try atMost("\(name).activations", gate.activations?.count ?? 0, T, "config.bptt")
            for (t, row) in (gate.activations ?? []).enumerated() {
                try atMost("\(name).activations[\(t)]", row.count, H, "config.hidden")
            }
            try atMost("\(name).histogram.counts", gate.histogram.counts.count, RecordLimits.maxHistogramBins, "the bin limit")
            // Bounded so that summing every bin can never overflow.
            if let bad = gate.histogram.counts.first(where: { !(0...(1 << 40)).contains($0) }) {
                throw fail("\(name).histogram.counts", "holds \(bad); a count lies in 0...2^40")
            }
        }
    }
}
