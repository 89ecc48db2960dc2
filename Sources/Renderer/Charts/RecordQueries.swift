// Small questions the charts ask of a run record, answered in one place.

import DiagnoseRecord
import Foundation

extension RunRecord {
    /// "LSTM", "RNN (tanh)", "GRU" (as markup).
    var cellLabel: String {
        let cell = config.cell.rawValue.uppercased()
        return config.cell == .rnn ? "\(cell) (\(config.activation.rawValue))" : cell
    }

    /// The run's name as markup that shows it literally.
    var displayName: String { Markup.escape(name) }

    /// One line under every chart title: what run this is.
    var chartSubtitle: String {
        var parts = ["run “\(displayName)”", cellLabel, "H = \(config.hidden)", "T = \(config.bptt)"]
        if config.layers > 1 { parts.append("\(config.layers) layers") }
        if config.bidirectional { parts.append("bidirectional") }
        parts.append("\(summary.stepsCompleted) of \(config.steps) steps")
        parts.append(Markup.escape(corpus.name))
        return parts.joined(separator: " · ")
    }

    /// Notes for every chart of this run: a divergence or an interruption.
    var statusNotes: [String] {
        var notes: [String] = []
        if let step = status.divergedAtStep {
            notes.append("diverged at step \(step)" + (status.divergenceReason.map { ": " + Markup.escape($0) } ?? "") + "; training stopped there")
        }
        if status.interrupted { notes.append("interrupted after \(summary.stepsCompleted) steps") }
        if let names = status.nonFiniteWeights, let first = names.first {
            notes.append("the weights hold NaN or infinite values (\(Markup.escape(String(first.prefix(60))))"
                + (names.count > 1 ? " and \(names.count - 1) more" : "") + "): the figures that depend on them are not numbers")
        }
        return notes
    }

    /// A model trained elsewhere whose log said nothing about clipping: neither "on" nor "off" is known.
    var clippingNotRecorded: Bool { origin.isImported && config.clip == 0 }

    var firstProbe: ProbeRecord? { probes.first }
    var lastProbe: ProbeRecord? { probes.last }

    /// The (layer, direction) slots present in any probe, layer 0 first, forward before backward.
    var layerSlots: [LayerSlot] {
        var slots: [LayerSlot] = []
        for probe in probes {
            for l in probe.layers where !slots.contains(LayerSlot(layer: l.layer, direction: l.direction)) {
                slots.append(LayerSlot(layer: l.layer, direction: l.direction))
            }
        }
        return slots.sorted()
    }

    /// The layer the summary describes (`ProbeRecord.topForward` of the last probe) as a slot.
    var topForwardSlot: LayerSlot? {
        lastProbe?.topForward.map { LayerSlot(layer: $0.layer, direction: $0.direction) }
    }

    /// Whether more than one (layer, direction) exists, so panel titles must name them.
    var hasManyLayerSlots: Bool { layerSlots.count > 1 || config.layers > 1 || config.bidirectional }
}

struct LayerSlot: Hashable, Comparable {
    var layer: Int
    var direction: Direction

    static func < (a: LayerSlot, b: LayerSlot) -> Bool {
        (a.layer, a.direction) < (b.layer, b.direction)
    }

    var label: String { "layer \(layer), \(direction.rawValue)" }
}

extension ProbeRecord {
    func layer(_ slot: LayerSlot) -> LayerProbe? {
        layers.first { $0.layer == slot.layer && $0.direction == slot.direction }
    }
}

enum Series {
    /// (index, value) pairs of an array, for line marks.
    static func indexed(_ values: [Double], from start: Int = 0) -> [(x: Double, y: Double)] {
        values.enumerated().map { (Double($0.offset + start), $0.element) }
    }

    /// values / values[0]: the profile relative to lag 0 (NaN everywhere when g(0) is not a usable divisor).
    static func normalized(_ values: [Double]) -> [Double] {
        guard let first = values.first, first.isFinite, first > 0 else { return values.map { _ in .nan } }
        return values.map { $0 / first }
    }

    /// Moving average over a centred window of `window` points, skipping non-finite values.
    static func smoothed(_ values: [Double], window: Int) -> [Double] {
        guard window > 1, values.count > 2 else { return values }
        var out = [Double](repeating: .nan, count: values.count)
        var prefix = [0.0], counts = [0]
        for v in values {
            prefix.append(prefix.last! + (v.isFinite ? v : 0))
            counts.append(counts.last! + (v.isFinite ? 1 : 0))
        }
        let half = window / 2
        for i in values.indices {
            let a = max(0, i - half), b = min(values.count, i + half + 1)
            let n = counts[b] - counts[a]
            if n > 0 && values[i].isFinite { out[i] = (prefix[b] - prefix[a]) / Double(n) }
        }
        return out
    }
}
