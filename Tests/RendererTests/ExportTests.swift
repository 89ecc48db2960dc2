import DiagnoseRecord
import Foundation
import Testing
@testable import Renderer

/// Reads TFRecord frames back, checking lengths and both masked CRCs: a reader independent of the writer's framing code.
func readFrames(_ data: [UInt8]) -> [[UInt8]]? {
    var frames: [[UInt8]] = []
    var at = 0
    func le<I: FixedWidthInteger>(_ type: I.Type, _ offset: Int) -> I {
        data[offset..<(offset + MemoryLayout<I>.size)].reversed().reduce(I(0)) { $0 << 8 | I($1) }
    }
    while at < data.count {
        guard at + 12 <= data.count else { return nil }
        let length = Int(le(UInt64.self, at))
        guard le(UInt32.self, at + 8) == CRC32C.masked(data[at..<(at + 8)]), at + 16 + length <= data.count else { return nil }
        let payload = Array(data[(at + 12)..<(at + 12 + length)])
        guard le(UInt32.self, at + 12 + length) == CRC32C.masked(payload) else { return nil }
        frames.append(payload)
        at += 16 + length
    }
    return frames
}

/// The tags in a Summary-carrying event (field 5 -> field 1 values -> field 1 tag), by a minimal protobuf walk.
func summaryTags(_ event: [UInt8]) -> [String] {
    func fields(_ bytes: ArraySlice<UInt8>) -> [(field: Int, payload: ArraySlice<UInt8>)] {
        var result: [(Int, ArraySlice<UInt8>)] = []
        var i = bytes.startIndex
        func varint() -> Int {
            var value = 0, shift = 0
            while true {
                let b = bytes[i]; i += 1
                value |= Int(b & 0x7F) << shift
                shift += 7
                if b < 0x80 { return value }
            }
        }
        while i < bytes.endIndex {
            let key = varint()
            switch key & 7 {
            case 0: _ = varint()
            case 1: i += 8
            case 5: i += 4
            case 2:
                let n = varint()
                result.append((key >> 3, bytes[i..<(i + n)]))
                i += n
            default: return result
            }
        }
        return result
    }
    return fields(event[...]).filter { $0.field == 5 }.flatMap { summary in
        fields(summary.payload).filter { $0.field == 1 }.flatMap { value in
            fields(value.payload).filter { $0.field == 1 }.map { String(decoding: $0.payload, as: UTF8.self) }
        }
    }
}

@Suite struct TensorBoardEventTests {
    /// RFC 3720 (iSCSI), appendix B.4, and the customary check value of "123456789".
    @Test func crc32cTestVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    /// The file-version record, byte by byte: length 24, its masked CRC, Event{wall_time: 0,
    /// file_version: "brain.Event:2"}, the data's masked CRC (CRCs worked out by a bitwise CRC-32C).
    @Test func fileVersionRecordBytes() {
        let expected: [UInt8] = [
            0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xA3, 0x7F, 0x4B, 0x22,
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x1A, 0x0D, 0x62, 0x72, 0x61, 0x69, 0x6E, 0x2E, 0x45, 0x76, 0x65, 0x6E, 0x74, 0x3A, 0x32,
            0xEE, 0xDF, 0x28, 0xA3,
        ]
        #expect(TensorBoardEvents.frame(TensorBoardEvents.fileVersionEvent(wallTime: 0)) == expected)
    }

    /// A scalar event: wall_time 1.0 (tag 0x09, double), step 1 (0x10, varint), summary (0x2A) holding
    /// one value (0x0A) with tag "a" (0x0A) and simple_value 0.5 (0x15, float 0x3F000000).
    @Test func scalarRecordBytes() {
        let expected: [UInt8] = [
            0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE7, 0xCE, 0xF8, 0x1E,
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F, 0x10, 0x01,
            0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61, 0x15, 0x00, 0x00, 0x00, 0x3F,
            0x5C, 0xA8, 0xC1, 0x37,
        ]
        let event = TensorBoardEvents.summaryEvent(wallTime: 1, step: 1, values: [.scalar(tag: "a", value: 0.5)])
        #expect(TensorBoardEvents.frame(event) == expected)
    }

    /// HistogramProto of two bins over [0, 1] holding 1 and 3: bucket limits 0.5 and 1, sums at the centres.
    @Test func histogramBytes() {
        var proto = ProtobufWriter()
        TensorBoardEvents.encodeHistogram(Histogram(lower: 0, upper: 1, counts: [1, 3]), into: &proto)
        func d(_ x: Double) -> [UInt8] { withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } }
        let expected: [UInt8] = [0x09] + d(0) + [0x11] + d(1) + [0x19] + d(4) + [0x21] + d(2.5) + [0x29] + d(1.75)
            + [0x32, 0x10] + d(0.5) + d(1) + [0x3A, 0x10] + d(1) + d(3)
        #expect(proto.bytes == expected)
    }

    @Test func varintsAndNegativeSteps() {
        var proto = ProtobufWriter()
        proto.int(2, 300)
        #expect(proto.bytes == [0x10, 0xAC, 0x02])
    }

    @Test func aRunsFileHoldsEveryTagDeterministically() throws {
        let record = SampleRecords.small(cell: "lstm")
        let png = try PNGCodec.encode(Pixmap(width: 3, height: 2))
        let data = TensorBoardEvents.file(for: record, charts: [(.training, png)])
        #expect(data == TensorBoardEvents.file(for: record, charts: [(.training, png)]))
        let frames = try #require(readFrames(Array(data)))
        let steps = Set(record.steps.map(\.step) + record.evaluations.map(\.step) + record.probes.map(\.step))
        // The version event, one event per step, evaluation and probe, one per image.
        #expect(frames.count == 1 + record.steps.count + record.evaluations.count + record.probes.count + 1)
        #expect(frames[0] == TensorBoardEvents.fileVersionEvent(wallTime: 0))
        let tags = frames.map(summaryTags)
        #expect(tags.filter { $0 == ["train/loss", "train/perplexity", "train/gradient_norm", "train/gradient_norm_clipped",
                                     "train/learning_rate"] }.count == record.steps.count)
        let all = Set(tags.joined())
        for tag in ["train/loss", "eval/valid_loss", "eval/valid_perplexity", "gradient/decay_per_step/l0",
                    "spectrum/spectral_radius/l0", "gates/forget_saturation/l0", "gate_activations/forget/l0",
                    "charts/training"] {
            #expect(all.contains(tag), "\(tag)")
        }
        #expect(tags.last == ["charts/training"])
        #expect(steps.count > 1)
        // The image carries its size from the PNG header.
        #expect(TensorBoardEvents.pngSize(png)! == (3, 2))
        #expect(TensorBoardEvents.pngSize(Data("not a png".utf8)) == nil)
    }
}

@Suite struct CSVExportTests {
    @Test func stepsAndEvaluationsAsCSV() {
        var record = SampleRecords.small(cell: "gru")
        record.steps = [StepRecord(step: 1, loss: 4.5, perplexity: 90.017, gradientNorm: .infinity,
                                   clippedGradientNorm: 1, clipped: true, learningRate: 0.01),
                        StepRecord(step: 2, loss: .nan, perplexity: .nan, gradientNorm: 1e-5,
                                   clippedGradientNorm: 1e-5, clipped: false, learningRate: 0.01)]
        record.evaluations = [EvaluationRecord(step: 2, trainLoss: 4, validLoss: 4.25, validPerplexity: 70.1,
                                               recallAccuracy: 0.5)]
        #expect(CSVExport.steps(record) == """
            step,loss,perplexity,gradientNorm,clippedGradientNorm,clipped,learningRate
            1,4.5,90.017,inf,1.0,1,0.01
            2,nan,nan,1e-05,1e-05,0,0.01

            """)
        #expect(CSVExport.evaluations(record) == """
            step,trainLoss,validLoss,validPerplexity,recallAccuracy
            2,4.0,4.25,70.1,0.5

            """)
        let probes = CSVExport.probes(record).split(separator: "\n")
        #expect(probes[0] == "step,layer,direction,decayPerStep,horizon,cellDecayPerStep,cellHorizon,spectralRadius,"
            + "updateSaturation,resetSaturation,candidateSaturation")
        #expect(probes.count == 1 + record.probes.count)
        #expect(CSVExport.field("a,\"b\"") == "\"a,\"\"b\"\"\"")
    }
}
