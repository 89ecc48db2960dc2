import DiagnoseRecord
import Foundation

/// Per-step metrics logged by a training loop elsewhere, as JSON Lines (one object per line) or
/// CSV with a header row. Columns: `step` (whole number), `loss`, and optionally `grad_norm`
/// (before clipping), `clipped_grad_norm`, `lr`, `valid_loss`. A line needs `loss` or `valid_loss`
/// (or both); numbers may be `NaN`, `Infinity` (JSON: as strings); empty CSV cells and JSON
/// `null` mean "not logged". Steps must not decrease, and a step repeats only to add what the
/// line before it lacked (a validation loss logged on its own line).
public struct TrainingMetrics: Sendable, Equatable {
    /// One per line with a `loss`. Unlogged norms and learning rates are NaN.
    public var steps: [StepRecord] = []
    /// One per line with a `valid_loss`; `trainLoss` is the latest logged training loss (NaN if none yet).
    public var evaluations: [EvaluationRecord] = []
    /// Columns that were present but are not used, in order of appearance.
    public var unknownColumns: [String] = []
    /// Whether any line gave `clipped_grad_norm`.
    public var hasClipping = false
    /// Whether any line gave `grad_norm`.
    public var hasGradientNorm = false

    public static let maximumBytes = 256 << 20
    public static let maximumLines = 200_000
    public static let columns = ["step", "loss", "grad_norm", "clipped_grad_norm", "lr", "valid_loss"]

    public init() {}

    public static func load(path: String) throws -> TrainingMetrics {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maximumBytes else {
            throw InputFileError(kind: .metrics, file: path, problem: "is \(size) bytes, above the limit of \(maximumBytes); log every k-th step")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InputFileError(kind: .metrics, file: path, problem: "cannot be read (\(error.localizedDescription))")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> TrainingMetrics {
        guard data.count <= maximumBytes else {
            throw InputFileError(kind: .metrics, file: file, problem: "is \(data.count) bytes, above the limit of \(maximumBytes); log every k-th step")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputFileError(kind: .metrics, file: file, problem: "is not UTF-8 text; write JSON Lines or CSV")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? line.dropLast() : line
        }
        if lines.first?.hasPrefix("\u{FEFF}") == true { lines[0] = lines[0].dropFirst() }
        guard lines.count <= maximumLines + 1 else {
            throw InputFileError(kind: .metrics, file: file, problem: "has \(lines.count) lines, above the limit of \(maximumLines); log every k-th step")
        }
        let json = lines.first { !$0.allSatisfy(\.isWhitespace) }?.first { !$0.isWhitespace } == "{"
        var metrics = TrainingMetrics()
        var parser = RowParser(file: file)
        if json {
            for (index, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
                try parser.add(try jsonRow(line, file: file, line: index + 1), line: index + 1, into: &metrics)
            }
        } else {
            guard let headerIndex = lines.firstIndex(where: { !$0.allSatisfy(\.isWhitespace) }) else {
                throw InputFileError(kind: .metrics, file: file, problem: "is empty; write one JSON object per line, or CSV with a header row")
            }
            let header = lines[headerIndex].split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            guard header.contains("step"), header.contains("loss") || header.contains("valid_loss") else {
                throw InputFileError(kind: .metrics, file: file, place: .line(headerIndex + 1), problem: "the header \"\(lines[headerIndex].prefix(80))\" "
                    + "needs a step column and a loss (or valid_loss) column; expected e.g. step,loss,grad_norm,lr")
            }
            if let duplicate = header.enumerated().first(where: { header.firstIndex(of: $0.element) != $0.offset }) {
                throw InputFileError(kind: .metrics, file: file, place: .line(headerIndex + 1), problem: "column \"\(duplicate.element)\" appears twice in the header")
            }
            for index in (headerIndex + 1)..<lines.count where !lines[index].allSatisfy(\.isWhitespace) {
                let cells = lines[index].split(separator: ",", omittingEmptySubsequences: false)
                guard cells.count == header.count else {
                    throw InputFileError(kind: .metrics, file: file, place: .line(index + 1), problem: "has \(cells.count) fields but the header has \(header.count)")
                }
                var row: [String: Double?] = [:]
                for (name, cell) in zip(header, cells) {
                    let value = cell.trimmingCharacters(in: .whitespaces)
                    if value.isEmpty || !columns.contains(name) { row[name] = .some(nil); continue }
                    guard let number = Double(value) else {
                        throw InputFileError(kind: .metrics, file: file, place: .line(index + 1), problem: "\(name) is \"\(value.prefix(40))\", not a number")
                    }
                    row[name] = number
                }
                try parser.add(row, line: index + 1, into: &metrics)
            }
        }
        guard !metrics.steps.isEmpty || !metrics.evaluations.isEmpty else {
            throw InputFileError(kind: .metrics, file: file, problem: "holds no metrics lines; each line needs step and loss")
        }
        return metrics
    }

    /// One JSON object -> column -> value (nil inside: JSON null).
    private static func jsonRow(_ line: Substring, file: String, line number: Int) throws -> [String: Double?] {
        func fail(_ problem: String) -> InputFileError { InputFileError(kind: .metrics, file: file, place: .line(number), problem: problem) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw fail("is not a JSON object (\"\(line.prefix(60))\"); write one {\"step\": ..., \"loss\": ...} per line, "
                + "and NaN or Infinity as strings")
        }
        var row: [String: Double?] = [:]
        for (key, value) in object {
            let name = key.lowercased()
            if value is NSNull { row[name] = .some(nil); continue }
            if let number = value as? NSNumber, String(cString: number.objCType) != "c" {
                row[name] = number.doubleValue
            } else if let text = value as? String, let number = nonFinite(text) {
                row[name] = number
            } else if columns.contains(name) {
                throw fail("\(name) is \(String(describing: value).prefix(40)), not a number")
            } else {
                row[name] = .some(nil)  // an unknown column of another type: only its name matters
            }
        }
        return row
    }

    private static func nonFinite(_ text: String) -> Double? {
        switch text.lowercased() {
        case "nan": return .nan
        case "infinity", "inf": return .infinity
        case "-infinity", "-inf": return -.infinity
        default: return nil
        }
    }

    /// Checks one row and appends it.
    private struct RowParser {
        var file: String
        var previous: (step: Int, line: Int, loss: Bool, valid: Bool)?
        var latestLoss = Double.nan

        mutating func add(_ row: [String: Double?], line: Int, into metrics: inout TrainingMetrics) throws {
            func fail(_ problem: String) -> InputFileError { InputFileError(kind: .metrics, file: file, place: .line(line), problem: problem) }
            for name in row.keys.sorted() where !columns.contains(name) && !metrics.unknownColumns.contains(name) {
                metrics.unknownColumns.append(name)
            }
            guard let stepValue = row["step"] ?? nil else { throw fail("has no step") }
            guard stepValue.isFinite, stepValue >= 0, stepValue <= Double(CheckpointSeries.maximumStep),
                  stepValue == stepValue.rounded() else {
                throw fail("step \(stepValue) is not a whole number from 0 to \(CheckpointSeries.maximumStep)")
            }
            let step = Int(stepValue)
            let loss = row["loss"] ?? nil, valid = row["valid_loss"] ?? nil
            guard loss != nil || valid != nil else { throw fail("has neither loss nor valid_loss") }
            let gradNorm = row["grad_norm"] ?? nil, clippedNorm = row["clipped_grad_norm"] ?? nil, lr = row["lr"] ?? nil
            for (name, value) in [("grad_norm", gradNorm), ("clipped_grad_norm", clippedNorm)] {
                if let value, value < 0 { throw fail("\(name) is \(value); a norm is never negative") }
            }
            if let previous {
                if step < previous.step {
                    throw fail("step \(step) comes after step \(previous.step) (line \(previous.line)): steps must not decrease")
                }
                if step == previous.step && (loss != nil && previous.loss || valid != nil && previous.valid) {
                    throw fail("step \(step) is logged again (line \(previous.line)): each step once")
                }
            }
            let same = previous?.step == step
            previous = (step, line, (same && previous!.loss) || loss != nil, (same && previous!.valid) || valid != nil)
            if let loss {
                let norm = gradNorm ?? .nan
                let clippedValue = clippedNorm ?? norm
                metrics.steps.append(StepRecord(step: step, loss: loss, perplexity: Foundation.exp(loss), gradientNorm: norm,
                                                clippedGradientNorm: clippedValue,
                                                clipped: clippedNorm != nil && clippedValue < norm * (1 - 1e-6),
                                                learningRate: lr ?? .nan))
                latestLoss = loss
                metrics.hasClipping = metrics.hasClipping || clippedNorm != nil
                metrics.hasGradientNorm = metrics.hasGradientNorm || gradNorm != nil
            }
            if let valid {
                metrics.evaluations.append(EvaluationRecord(step: step, trainLoss: latestLoss, validLoss: valid,
                                                            validPerplexity: Foundation.exp(valid)))
            }
        }
    }

    /// The clipping threshold the logged norms imply: the median clipped norm of the clipped steps
    /// (clipping scales the gradient to the threshold), or 0 when no step was clipped.
    public var impliedClipThreshold: Double {
        let clipped = steps.filter(\.clipped).map(\.clippedGradientNorm).filter(\.isFinite).sorted()
        return clipped.isEmpty ? 0 : clipped[clipped.count / 2]
    }
}
