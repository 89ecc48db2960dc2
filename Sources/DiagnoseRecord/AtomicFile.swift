import Foundation

private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

/// Writes files so that a reader never sees a half-written one and a failure leaves the
/// previous file intact: write a temporary sibling `.NAME.tmp-PID`, check every write (a full
/// disk is an error, never a short file), then rename it over the target.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent)\(TemporaryName.marker)\(getpid())")
        do {
            try writeNew(data, to: temporary.path)
        } catch let error as AtomicFileError {
            throw AtomicFileError(path: url.path, reason: error.reason)
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw AtomicFileError(path: url.path, reason: reason)
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Creates `path` (which must not exist) and writes `data` to it with checked POSIX calls;
    /// on any failure the partial file is removed and the error says why (strerror).
    public static func writeNew(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFileError(path: path, reason: String(cString: strerror(errno))) }
        var failure = data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Int32 in
            let (written, failure) = transferAll(buffer.count) { posixWrite(fd, buffer.baseAddress! + $0, buffer.count - $0) }
            return failure != 0 || written == buffer.count ? failure : EIO
        }
        if failure == 0, fsync(fd) != 0, errno != EINVAL { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure != 0 {
            unlink(path)
            throw AtomicFileError(path: path, reason: String(cString: strerror(failure)))
        }
    }
}

public struct AtomicFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    /// What to do about it; the command line adds which flag chose the path.
    public var advice: String {
        reason == String(cString: strerror(ENOSPC)) || reason == String(cString: strerror(EDQUOT))
            ? "free some space" : "check that the folder exists and is writable"
    }
    public var description: String { "cannot write \(path): \(reason); \(advice)" }
}

/// Names of the temporary files and folders diagnose leaves while it writes: `.NAME.tmp-PID`
/// (a file or run folder being written) and `.NAME.old-PID` (a run folder being replaced).
public enum TemporaryName {
    public static let marker = ".tmp-"
    public static let oldMarker = ".old-"

    /// The process id of a temporary name, and which kind it is; nil for any other name.
    public static func parse(_ name: String) -> (pid: pid_t, target: String, old: Bool)? {
        guard name.hasPrefix(".") else { return nil }
        for (marker, old) in [(marker, false), (oldMarker, true)] {
            guard let range = name.range(of: marker, options: .backwards),
                  let pid = pid_t(name[range.upperBound...]), pid > 0 else { continue }
            let target = String(name[name.index(after: name.startIndex)..<range.lowerBound])
            guard !target.isEmpty else { continue }
            return (pid, target, old)
        }
        return nil
    }

    /// Whether process `pid` is gone (so its temporaries are stale).
    public static func isDead(_ pid: pid_t) -> Bool {
        kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// Reads a whole regular file of at most `limit` bytes; the error says why in words (strerror, or
/// the size), never Foundation's NSCocoaErrorDomain codes.
public enum FileBytes {
    public struct ReadError: Error, CustomStringConvertible, Equatable {
        public var reason: String
        public var description: String { reason }
    }

    public static func read(_ path: String, limit: Int) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw ReadError(reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw ReadError(reason: String(cString: strerror(errno))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw ReadError(reason: "it is not a regular file") }
        guard Int(status.st_size) <= limit else {
            throw ReadError(reason: "it is \(status.st_size) bytes, more than the \(limit)-byte limit")
        }
        var data = Data(count: Int(status.st_size))
        let (total, failure) = data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            transferAll(buffer.count) { posixRead(fd, buffer.baseAddress! + $0, buffer.count - $0) }
        }
        if failure != 0 { throw ReadError(reason: String(cString: strerror(failure))) }
        return data.prefix(total)
    }
}

/// Calls `io(offset)` (one read or write of the bytes from `offset` on, returning how many moved or
/// -1) until `count` bytes have moved or it moves none, retrying after EINTR. Returns the bytes
/// moved and the errno of a failure (0 when none).
private func transferAll(_ count: Int, _ io: (Int) -> Int) -> (moved: Int, failure: Int32) {
    var offset = 0
    while offset < count {
        let moved = io(offset)
        if moved < 0 {
            if errno == EINTR { continue }
            return (offset, errno)
        }
        if moved == 0 { break }
        offset += moved
    }
    return (offset, 0)
}

private func posixRead(_ fd: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, bytes, count) }
