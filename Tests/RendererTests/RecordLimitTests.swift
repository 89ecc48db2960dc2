// Records that claim impossible sizes, records that cannot be read beside ones that can, and a
// seeded fuzz run of random mutations of a valid record: the renderer draws or refuses, by name,
// and never traps or runs unbounded.

import DiagnoseRecord
import Foundation
@testable import Renderer
import Testing

@Suite struct RecordLimitTests {
    /// A small valid record as a JSON object, for editing.
    static func smallJSON() throws -> [String: Any] {
        let data = try RecordCoding.encode(SampleRecords.small())
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed])
    }

    static func refusal(_ data: Data) -> String? {
        do {
            _ = try RecordCoding.decode(data, path: "x/run.json")
            return nil
        } catch {
            return String(describing: error)
        }
    }

    @Test func hugeSizesAreRefusedByNameBeforeAnythingIsAllocated() throws {
        for (field, value) in [("bptt", 1 << 40), ("hidden", 1 << 40), ("layers", 1 << 20), ("batch", -3), ("steps", Int.max)] {
            var object = try Self.smallJSON()
            var config = object["config"] as! [String: Any]
            config[field] = value
            object["config"] = config
            let message = try #require(Self.refusal(Self.data(object)))
            #expect(message.contains("x/run.json") && message.contains("config.\(field)"), "\(message)")
        }
    }

    @Test func arraysLongerThanTheSizesTheyBelongToAreRefused() throws {
        var record = SampleRecords.small()
        record.probes[0].layers[0].gradientFlow.append(Array(repeating: 1, count: 17))
        #expect(Self.refusal(try RecordCoding.encode(record))?.contains("probes[0].layers[0].gradientFlow") == true)
        record = SampleRecords.small()
        record.probes[1].layers[0].gradientFlow[3] = [1, 2]
        #expect(Self.refusal(try RecordCoding.encode(record))?.contains("gradientFlow[3]") == true)
        record = SampleRecords.small()
        record.probeTokens += Array(repeating: "x", count: 100)
        #expect(Self.refusal(try RecordCoding.encode(record))?.contains("probeTokens") == true)
        record = SampleRecords.small()
        record.probes[0].layers[0].jacobians.size = 1 << 30
        #expect(Self.refusal(try RecordCoding.encode(record))?.contains("jacobians.size") == true)
        record = SampleRecords.small()
        record.probes[0].layers[0].gates[0].histogram.counts[0] = Int.max
        #expect(Self.refusal(try RecordCoding.encode(record))?.contains("histogram.counts") == true)
        // Every sample record is within the limits.
        for (name, record) in SampleRecords.brokenCases() {
            #expect(Self.refusal(try RecordCoding.encode(record)) == nil, "\(name)")
        }
    }

    @Test func schemaProblemsAreSaidInWords() throws {
        var object = try Self.smallJSON()
        object["schemaVersion"] = 1.5
        let fractional = try #require(Self.refusal(Self.data(object)))
        #expect(fractional.contains("schemaVersion") && !fractional.contains("not valid JSON"), "\(fractional)")
        // A newer schema is named as such even when its fields changed shape.
        let newer = try #require(Self.refusal(Data(#"{"schemaVersion": 7, "config": 3}"#.utf8)))
        #expect(newer.contains("schema 7") && newer.contains("update diagnose"), "\(newer)")
        object = try Self.smallJSON()
        var config = object["config"] as! [String: Any]
        config["hidden"] = "wide"
        object["config"] = config
        let mistyped = try #require(Self.refusal(Self.data(object)))
        #expect(mistyped.contains("config.hidden is not a whole number"), "\(mistyped)")
        #expect(Self.refusal(Data("{\"schemaVersion\": 1, \"name\": ".utf8))?.contains("not valid JSON") == true)
    }

    @Test func anUndrawableSiblingIsSkippedWithItsNameAndTheRestIsDrawn() throws {
        let root = try ReportFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let good = try ReportFixtures.writeRun(SampleRecords.small(), to: root.appendingPathComponent("good"))
        let old = root.appendingPathComponent("old")
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        try Data("{\"schemaVersion\": 1, \"na".utf8).write(to: old.appendingPathComponent("run.json"))
        let summary = try ReportWriter.renderRuns(runDirectories: [good, old], outputDirectory: root,
                                                  options: ReportFixtures.renderOptions, skipUndrawable: true)
        #expect(summary.runNames == ["lstm"])
        #expect(summary.skipped.count == 1 && summary.skipped[0].contains("old/run.json"))
        // Without any drawable run the error stays.
        #expect(throws: RecordError.self) {
            try ReportWriter.renderRuns(runDirectories: [old], outputDirectory: root, options: ReportFixtures.renderOptions,
                                        skipUndrawable: true)
        }
    }

    // MARK: - Fuzzing

    /// Rounds of the fuzz test; RECORD_FUZZ_ROUNDS=2000 swift test --filter RecordLimitTests runs a longer search.
    static let rounds = ProcessInfo.processInfo.environment["RECORD_FUZZ_ROUNDS"].flatMap(Int.init) ?? 60

    /// Every container and leaf of a JSON value, as paths of keys and indices.
    static func paths(_ value: Any, _ prefix: [Any] = [], into out: inout [[Any]]) {
        out.append(prefix)
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() { paths(object[key]!, prefix + [key], into: &out) }
        } else if let array = value as? [Any] {
            // A few elements per array keep the path list small; the mutation can still reach any size.
            for index in Set([0, array.count / 2, array.count - 1]).sorted() where index >= 0 && index < array.count {
                paths(array[index], prefix + [index], into: &out)
            }
        }
    }

    static func replacing(_ value: Any, at path: ArraySlice<Any>, with f: (Any) -> Any?) -> Any? {
        guard let head = path.first else { return f(value) }
        if var object = value as? [String: Any], let key = head as? String {
            object[key] = object[key].flatMap { replacing($0, at: path.dropFirst(), with: f) }
            return object
        }
        if var array = value as? [Any], let index = head as? Int, index < array.count {
            if let new = replacing(array[index], at: path.dropFirst(), with: f) { array[index] = new } else { array.remove(at: index) }
            return array
        }
        return value
    }

    @Test func randomMutationsOfAValidRecordAreDrawnOrRefusedNeverATrap() throws {
        var rng = SampleRandom(seed: 2026)
        let base = try Self.smallJSON()
        var allPaths: [[Any]] = []
        Self.paths(base, into: &allPaths)
        let numbers: [Any] = [0, -1, 1, 2, 17, 1 << 31, 1 << 40, Int.max, Int.min, 0.5, -2.5, 1e300, -1e300, "NaN", "Infinity"]
        var drawn = 0, refused = 0
        for _ in 0..<Self.rounds {
            var value: Any = base
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let path = allPaths[Int(rng.next() % UInt64(allPaths.count))]
                let kind = rng.next() % 7
                value = Self.replacing(value, at: path[...], with: { old in
                    switch kind {
                    case 0: return numbers[Int(rng.next() % UInt64(numbers.count))]
                    case 1: return nil  // delete
                    case 2: return ["x", NSNull(), [1, 2], ["a": 1]][Int(rng.next() % 4)]
                    case 3:  // grow an array
                        guard let array = old as? [Any], let last = array.last else { return old }
                        return array + Array(repeating: last, count: 1 + Int(rng.next() % 40))
                    case 4:  // shrink an array
                        guard let array = old as? [Any] else { return old }
                        return Array(array.prefix(Int(rng.next() % UInt64(array.count + 1))))
                    case 5: return String(repeating: "w", count: 20_000)
                    default: return [old]
                    }
                }) ?? value
            }
            let data = try Self.data(value)
            guard let record = try? RecordCoding.decode(data, path: "fuzz/run.json") else {
                refused += 1
                continue
            }
            // Within the limits: every chart must draw (a trap would end the test process).
            let charts = try RunCharts.render(record, options: ReportFixtures.renderOptions)
            #expect(charts.count == RunCharts.ids.count)
            drawn += 1
        }
        // The mutations reach both outcomes.
        #expect(drawn > 0 && refused > 0, "drawn \(drawn), refused \(refused)")
    }
}
