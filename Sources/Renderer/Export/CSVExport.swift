// A run record's tables as CSV, for people who plot in pandas or a spreadsheet.
//
// Numbers are written in Swift's shortest round-trip form (0.1, 1e-05, nan, inf), which pandas and
// spreadsheets read back exactly; an absent value is an empty field.

import DiagnoseRecord
import Foundation

public enum CSVExport {
    /// File name -> contents: `steps.csv` (one row per optimiser step), `evaluations.csv` (one per
    /// validation pass), `probes.csv` (one per probe, layer and direction).
    public static func tables(_ record: RunRecord) -> [(name: String, text: String)] {
        [("steps.csv", steps(record)), ("evaluations.csv", evaluations(record)), ("probes.csv", probes(record))]
    }

    public static func steps(_ record: RunRecord) -> String {
        var text = "step,loss,perplexity,gradientNorm,clippedGradientNorm,clipped,learningRate\n"
        for s in record.steps {
            text += row([String(s.step), number(s.loss), number(s.perplexity), number(s.gradientNorm),
                         number(s.clippedGradientNorm), s.clipped ? "1" : "0", number(s.learningRate)])
        }
        return text
    }

    public static func evaluations(_ record: RunRecord) -> String {
        let directions = record.evaluations.map { $0.directionValidLosses?.count ?? 0 }.max() ?? 0
        var header = ["step", "trainLoss", "validLoss", "validPerplexity", "recallAccuracy"]
        if directions >= 2 { header += ["validLossForward", "validLossBackward"] }
        var text = row(header)
        for e in record.evaluations {
            var fields = [String(e.step), number(e.trainLoss), number(e.validLoss), number(e.validPerplexity),
                          number(e.recallAccuracy)]
            if directions >= 2 {
                let losses = e.directionValidLosses ?? []
                fields += (0..<2).map { $0 < losses.count ? number(losses[$0]) : "" }
            }
            text += row(fields)
        }
        return text
    }

    /// One row per probe, layer and direction; one saturation column per gate name in the record.
    public static func probes(_ record: RunRecord) -> String {
        var gates: [String] = []
        for probe in record.probes {
            for layer in probe.layers {
                for gate in layer.gates where !gates.contains(gate.name) { gates.append(gate.name) }
            }
        }
        var text = row(["step", "layer", "direction", "decayPerStep", "horizon", "cellDecayPerStep", "cellHorizon",
                        "spectralRadius"] + gates.map { "\($0)Saturation" })
        for probe in record.probes {
            for layer in probe.layers {
                var fields = [String(probe.step), String(layer.layer), layer.direction.rawValue, number(layer.decayPerStep),
                              layer.horizon.map(String.init) ?? "", number(layer.cellDecayPerStep),
                              layer.cellHorizon.map(String.init) ?? "", number(layer.spectrum.whole.spectralRadius)]
                fields += gates.map { name in number(layer.gates.first { $0.name == name }?.saturated) }
                text += row(fields)
            }
        }
        return text
    }

    static func number(_ value: Double?) -> String {
        guard let value else { return "" }
        return "\(value)"
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }
}
