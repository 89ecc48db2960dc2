import Foundation

/// Writes files so that a reader never sees a half-written one and a failure leaves the
/// previous file intact: write a temporary sibling, then rename it over the target.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw AtomicFileError(path: url.path, reason: error.localizedDescription)
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw AtomicFileError(path: url.path, reason: reason)
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}

public struct AtomicFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String {
        "cannot write \(path): \(reason); check that the folder exists and is writable"
    }
}
