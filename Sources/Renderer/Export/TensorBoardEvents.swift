// TensorBoard event files, written without TensorFlow: a TFRecord stream of `Event` protobufs.
//
// TFRecord framing, per record:  uint64 length (little-endian)
//                                uint32 masked CRC-32C of those 8 bytes
//                                length bytes of data
//                                uint32 masked CRC-32C of the data
// where mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2^32) and CRC-32C is the Castagnoli
// polynomial (reflected 0x82F63B78, initial and final XOR 0xFFFFFFFF).
//
// The protobuf fields used (tensorflow/core/util/event.proto and framework/summary.proto):
//   Event          1 wall_time double, 2 step int64, 3 file_version string, 5 summary Summary
//   Summary        1 value repeated Value
//   Summary.Value  1 tag string, 2 simple_value float, 4 image Image, 5 histo HistogramProto
//   Summary.Image  1 height int32, 2 width int32, 3 colorspace int32, 4 encoded_image_string bytes
//   HistogramProto 1 min, 2 max, 3 num, 4 sum, 5 sum_squares (double), 6 bucket_limit, 7 bucket
//                  (packed repeated double)
// TensorBoard reads these legacy summaries directly (scalars, histograms and images dashboards).

import DiagnoseRecord
import Foundation

/// CRC-32C (Castagnoli), as TFRecord uses it.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// The masked form TFRecord stores, so that a CRC of data containing CRCs stays well distributed.
    public static func masked<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// The few protobuf encodings an event needs, appended to a byte array.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        littleEndian(value.bitPattern)
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        littleEndian(value.bitPattern)
    }

    mutating func int(_ field: Int, _ value: Int) {
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }

    mutating func bytes(_ field: Int, _ data: [UInt8]) {
        key(field, 2)
        varint(UInt64(data.count))
        bytes += data
    }

    mutating func string(_ field: Int, _ text: String) { bytes(field, Array(text.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }

    mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        key(field, 2)
        varint(UInt64(values.count * 8))
        for value in values { littleEndian(value.bitPattern) }
    }

    private mutating func littleEndian<I: FixedWidthInteger>(_ value: I) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}

/// One summary value of an event.
public enum SummaryValue: Equatable, Sendable {
    case scalar(tag: String, value: Double)
    /// Buckets [lower + i w, lower + (i + 1) w) with w = (upper - lower) / counts.count.
    case histogram(tag: String, histogram: Histogram)
    case image(tag: String, png: Data, width: Int, height: Int)
}

public enum TensorBoardEvents {
    /// A file name TensorBoard recognises (it looks for "tfevents"), the same for every run so
    /// a rewritten run replaces its events.
    public static let fileName = "events.out.tfevents.0.diagnose"

    /// One TFRecord: length, its masked CRC, the data, the data's masked CRC.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { length += $0 }
        var out = length
        withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { out += $0 }
        out += data
        withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { out += $0 }
        return out
    }

    /// The first event of every file: its format version.
    public static func fileVersionEvent(wallTime: Double) -> [UInt8] {
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        return event.bytes
    }

    /// An event carrying a summary of `values` at `step`.
    public static func summaryEvent(wallTime: Double, step: Int, values: [SummaryValue]) -> [UInt8] {
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.int(2, step)
        event.message(5) { summary in
            for value in values {
                summary.message(1) { v in
                    switch value {
                    case let .scalar(tag, x):
                        v.string(1, tag)
                        v.float(2, Float(x))
                    case let .histogram(tag, histogram):
                        v.string(1, tag)
                        v.message(5) { encodeHistogram(histogram, into: &$0) }
                    case let .image(tag, png, width, height):
                        v.string(1, tag)
                        v.message(4) { image in
                            image.int(1, height)
                            image.int(2, width)
                            image.int(3, 4)  // RGBA
                            image.bytes(4, Array(png))
                        }
                    }
                }
            }
        }
        return event.bytes
    }

    /// The record's histogram as HistogramProto. The record keeps bin counts only, so sum and
    /// sum of squares are taken at the bin centres.
    static func encodeHistogram(_ histogram: Histogram, into proto: inout ProtobufWriter) {
        let n = histogram.counts.count
        let width = n > 0 ? (histogram.upper - histogram.lower) / Double(n) : 0
        var limits: [Double] = []
        var sum = 0.0, squares = 0.0, total = 0.0
        for (i, count) in histogram.counts.enumerated() {
            limits.append(i == n - 1 ? histogram.upper : histogram.lower + Double(i + 1) * width)
            let centre = histogram.lower + (Double(i) + 0.5) * width
            sum += centre * Double(count)
            squares += centre * centre * Double(count)
            total += Double(count)
        }
        proto.double(1, histogram.lower)
        proto.double(2, histogram.upper)
        proto.double(3, total)
        proto.double(4, sum)
        proto.double(5, squares)
        proto.packedDoubles(6, limits)
        proto.packedDoubles(7, histogram.counts.map(Double.init))
    }

    /// Width and height from a PNG's IHDR chunk; nil if `png` is not a PNG.
    static func pngSize(_ png: Data) -> (width: Int, height: Int)? {
        let b = [UInt8](png.prefix(24))
        guard b.count == 24, b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], b[12..<16] == [0x49, 0x48, 0x44, 0x52]
        else { return nil }
        func be32(_ at: Int) -> Int { b[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// The whole event file of a run: per step loss, perplexity, gradient norm before and after
    /// clipping and learning rate; per evaluation the losses, perplexity and recall accuracy; per
    /// probe and layer the decay per step, horizon, spectral radius and gate saturation as scalars
    /// and each gate's activations as a histogram; the charts as images at the last step.
    ///
    /// Wall time is the step number in seconds (the record keeps no clock times it could repeat),
    /// so the same seed and flags give the same bytes.
    public static func file(for record: RunRecord, charts: [(id: ChartID, png: Data)]) -> Data {
        var entries: [(step: Int, order: Int, values: [SummaryValue])] = []
        for s in record.steps {
            entries.append((s.step, 0, [
                .scalar(tag: "train/loss", value: s.loss),
                .scalar(tag: "train/perplexity", value: s.perplexity),
                .scalar(tag: "train/gradient_norm", value: s.gradientNorm),
                .scalar(tag: "train/gradient_norm_clipped", value: s.clippedGradientNorm),
                .scalar(tag: "train/learning_rate", value: s.learningRate),
            ]))
        }
        for e in record.evaluations {
            var values: [SummaryValue] = [
                .scalar(tag: "eval/train_loss", value: e.trainLoss),
                .scalar(tag: "eval/valid_loss", value: e.validLoss),
                .scalar(tag: "eval/valid_perplexity", value: e.validPerplexity),
            ]
            if let recall = e.recallAccuracy { values.append(.scalar(tag: "eval/recall_accuracy", value: recall)) }
            entries.append((e.step, 1, values))
        }
        for probe in record.probes {
            var scalars: [SummaryValue] = []
            var histograms: [SummaryValue] = []
            for layer in probe.layers {
                let suffix = "/l\(layer.layer)" + (layer.direction == .forward ? "" : "_\(layer.direction.rawValue)")
                if let d = layer.decayPerStep { scalars.append(.scalar(tag: "gradient/decay_per_step" + suffix, value: d)) }
                if let h = layer.horizon { scalars.append(.scalar(tag: "gradient/horizon" + suffix, value: Double(h))) }
                if let d = layer.cellDecayPerStep {
                    scalars.append(.scalar(tag: "gradient/cell_decay_per_step" + suffix, value: d))
                }
                scalars.append(.scalar(tag: "spectrum/spectral_radius" + suffix, value: layer.spectrum.whole.spectralRadius))
                for gate in layer.gates {
                    scalars.append(.scalar(tag: "gates/\(gate.name)_saturation" + suffix, value: gate.saturated))
                    histograms.append(.histogram(tag: "gate_activations/\(gate.name)" + suffix, histogram: gate.histogram))
                }
            }
            entries.append((probe.step, 2, scalars + histograms))
        }
        // Stable: steps before evaluations before probes at the same step.
        entries = entries.enumerated().sorted { a, b in
            (a.element.step, a.element.order, a.offset) < (b.element.step, b.element.order, b.offset)
        }.map(\.element)

        var out = frame(fileVersionEvent(wallTime: 0))
        for entry in entries where !entry.values.isEmpty {
            out += frame(summaryEvent(wallTime: Double(entry.step), step: entry.step, values: entry.values))
        }
        let lastStep = max(record.steps.last?.step ?? 0, record.probes.last?.step ?? 0)
        let images: [SummaryValue] = charts.compactMap { chart in
            pngSize(chart.png).map { .image(tag: "charts/\(chart.id.rawValue)", png: chart.png, width: $0.width, height: $0.height) }
        }
        for image in images {
            out += frame(summaryEvent(wallTime: Double(lastStep), step: lastStep, values: [image]))
        }
        return Data(out)
    }
}
