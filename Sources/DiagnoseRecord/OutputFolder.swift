// The output folder's write phase, shared by everything that writes runs or reports:
//
// - one process at a time: an advisory `flock` on `<output>/.diagnose.lock`, held from the first
//   write to the last (a second process waits, and says so);
// - a run folder is written whole: its files go to `<output>/.NAME.tmp-PID/`, which then replaces
//   `<output>/NAME/` (the old folder is renamed aside and removed only once the new one is in
//   place), so a reader never sees one run's record beside another run's model or charts, and a
//   failure (a full disk) leaves the previous run as it was;
// - temporaries left by processes that died (SIGKILL, power loss) are removed, and a run folder
//   that was renamed aside but never replaced is put back, when the folder is next locked.

import Foundation

/// A locked output folder. The lock is released by `unlock()` or when the value is freed.
public final class OutputFolder {
    public static let lockFileName = ".diagnose.lock"
    /// Run names are folder names with room for the temporary suffix (`.NAME.tmp-PID`).
    public static let maxRunNameBytes = 200

    public let url: URL
    private var descriptor: Int32

    /// Creates `url` if needed and locks it. If another process holds the lock, `waiting` is
    /// called once with a message and the call blocks until the lock is free. Then removes stale
    /// temporaries of dead processes. Throws `AtomicFileError` when the folder cannot be created,
    /// is not a folder or is not writable.
    public init(_ url: URL, waiting: (String) -> Void = { _ in }) throws {
        self.url = url
        try OutputFolder.createFolder(url)
        let lockPath = url.appendingPathComponent(OutputFolder.lockFileName).path
        descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw AtomicFileError(path: url.path, reason: String(cString: strerror(errno)))
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            waiting("waiting for another diagnose that is writing to \(url.path)")
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let reason = String(cString: strerror(errno))
                    close(descriptor)
                    throw AtomicFileError(path: lockPath, reason: reason)
                }
            }
        }
        removeStaleTemporaries()
    }

    deinit { unlock() }

    public func unlock() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    /// Starts writing the run folder `<output>/<name>/` afresh (see `StagedRun`).
    public func stageRun(named name: String) throws -> StagedRun {
        try StagedRun(output: url, name: name)
    }

    /// Creates `url` (and its parents); the error names the path and says why in words.
    public static func createFolder(_ url: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw AtomicFileError(path: url.path, reason: "it is a file, not a folder") }
            return
        }
        let parent = url.deletingLastPathComponent()
        if parent.path != url.path { try createFolder(parent) }
        if mkdir(url.path, 0o755) != 0 && errno != EEXIST {
            throw AtomicFileError(path: url.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Checks, before any training, that every path a run of these names will write can be
    /// written: the output folder (run folders are staged in it) or, when it does not exist yet, the
    /// nearest folder above it that does; and that nothing in the way has the wrong kind (a folder
    /// named report.html, a file named compare or like a run). Creates nothing.
    public static func checkWritable(_ url: URL, runNames: [String], reportFile: String, comparisonFolder: String) throws {
        var existing = url.standardizedFileURL
        var isFolder: ObjCBool = false
        while !FileManager.default.fileExists(atPath: existing.path, isDirectory: &isFolder) {
            let parent = existing.deletingLastPathComponent()
            if parent.path == existing.path { break }
            existing = parent
        }
        guard isFolder.boolValue else {
            throw AtomicFileError(path: existing.path, reason: existing.path == url.standardizedFileURL.path
                ? "it is not a folder" : "it is not a folder, so \(url.path) cannot be created in it")
        }
        // A real file, not access(2): root passes access() on a read-only file system.
        let probe = existing.appendingPathComponent(".write-test\(TemporaryName.marker)\(getpid())").path
        do {
            try AtomicFile.writeNew(Data(), to: probe)
        } catch let error as AtomicFileError {
            throw AtomicFileError(path: existing.path, reason: error.reason)
        }
        unlink(probe)
        func kind(_ name: String) -> Bool? {
            var isFolder: ObjCBool = false
            let path = url.appendingPathComponent(name).path
            return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) ? isFolder.boolValue : nil
        }
        if kind(reportFile) == true {
            throw AtomicFileError(path: url.appendingPathComponent(reportFile).path, reason: "it is a folder; the report is a file")
        }
        if kind(comparisonFolder) == false {
            throw AtomicFileError(path: url.appendingPathComponent(comparisonFolder).path,
                                  reason: "it is a file; the comparison charts go in a folder of that name")
        }
        for name in runNames where kind(name) == false {
            throw AtomicFileError(path: url.appendingPathComponent(name).path,
                                  reason: "it is a file; the run's folder would replace it. Move it or choose another --name")
        }
    }

    /// Removes `.NAME.tmp-PID` files and folders of processes that are gone, here and one level
    /// down (charts and records are written atomically inside run folders too), and puts back a
    /// run folder `.NAME.old-PID` whose replacement never arrived.
    func removeStaleTemporaries() {
        let fileManager = FileManager.default
        func clean(_ folder: URL, depth: Int) {
            guard let entries = try? fileManager.contentsOfDirectory(atPath: folder.path) else { return }
            for entry in entries {
                let path = folder.appendingPathComponent(entry)
                if let parsed = TemporaryName.parse(entry) {
                    guard parsed.pid != getpid(), TemporaryName.isDead(parsed.pid) else { continue }
                    let target = folder.appendingPathComponent(parsed.target)
                    if parsed.old, !fileManager.fileExists(atPath: target.path) {
                        if rename(path.path, target.path) == 0, depth == 0 { clean(target, depth: 1) }
                    } else {
                        try? fileManager.removeItem(at: path)
                    }
                } else if depth == 0, !entry.hasPrefix(".") {
                    var isFolder: ObjCBool = false
                    if fileManager.fileExists(atPath: path.path, isDirectory: &isFolder), isFolder.boolValue {
                        clean(path, depth: 1)
                    }
                }
            }
        }
        clean(url, depth: 0)
    }
}

/// A run folder being written: files go to the hidden staging folder `<output>/.NAME.tmp-PID/`;
/// `commit()` puts it in place of `<output>/NAME/` (the previous folder, if any, is removed only
/// after); `discard()` removes it. A staged run that is never committed leaves the old run intact.
public struct StagedRun {
    public let name: String
    /// `<output>/<name>`: where the run will be.
    public let finalURL: URL
    /// Where its files are written until `commit()`.
    public let stagingURL: URL

    init(output: URL, name: String) throws {
        self.name = name
        finalURL = output.appendingPathComponent(name, isDirectory: true)
        stagingURL = output.appendingPathComponent(".\(name)\(TemporaryName.marker)\(getpid())", isDirectory: true)
        try? FileManager.default.removeItem(at: stagingURL)
        guard mkdir(stagingURL.path, 0o755) == 0 else {
            throw AtomicFileError(path: finalURL.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Writes one file of the run (checked: a full disk is an error naming the final path).
    public func write(_ data: Data, as fileName: String) throws {
        do {
            try AtomicFile.writeNew(data, to: stagingURL.appendingPathComponent(fileName).path)
        } catch let error as AtomicFileError {
            throw AtomicFileError(path: finalURL.appendingPathComponent(fileName).path, reason: error.reason)
        }
    }

    /// Puts the staged folder in place of the run folder.
    public func commit() throws {
        let aside = finalURL.deletingLastPathComponent()
            .appendingPathComponent(".\(name)\(TemporaryName.oldMarker)\(getpid())").path
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: finalURL.path, isDirectory: &isFolder)
        if exists {
            guard isFolder.boolValue else {
                throw AtomicFileError(path: finalURL.path, reason: "it is a file, not a run folder")
            }
            try? FileManager.default.removeItem(atPath: aside)
            guard rename(finalURL.path, aside) == 0 else {
                throw AtomicFileError(path: finalURL.path, reason: String(cString: strerror(errno)))
            }
        }
        guard rename(stagingURL.path, finalURL.path) == 0 else {
            let reason = String(cString: strerror(errno))
            if exists { _ = rename(aside, finalURL.path) }
            throw AtomicFileError(path: finalURL.path, reason: reason)
        }
        if exists { try? FileManager.default.removeItem(atPath: aside) }
    }

    /// Removes the staged files; the run folder stays as it was.
    public func discard() {
        try? FileManager.default.removeItem(at: stagingURL)
    }
}
