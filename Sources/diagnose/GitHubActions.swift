// GitHub Actions integration: workflow-command annotations (`::error`, `::warning`) when
// GITHUB_ACTIONS=true, and Markdown appended to the file GITHUB_STEP_SUMMARY names.

import Foundation

struct StepSummaryError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String {
        "GITHUB_STEP_SUMMARY=\(path): cannot append the job summary (\(reason)); "
            + "unset GITHUB_STEP_SUMMARY or point it at a writable file"
    }
}

enum GitHubActions {
    /// The environment is read once per call so tests can run the command with their own.
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var annotates: Bool { environment["GITHUB_ACTIONS"] == "true" }

    /// `::error title=T::message`, with the escapes GitHub's workflow commands define
    /// (`%`, CR and LF in the message; also `:` and `,` in a property).
    static func annotation(_ level: String, title: String, message: String) -> String {
        func escapeData(_ s: String) -> String {
            s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
                .replacingOccurrences(of: "\n", with: "%0A")
        }
        func escapeProperty(_ s: String) -> String {
            escapeData(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
        }
        return "::\(level) title=\(escapeProperty(title))::\(escapeData(message))"
    }

    /// Prints an annotation to standard output when running in GitHub Actions.
    static func annotate(_ level: String, title: String, message: String) {
        guard annotates else { return }
        print(annotation(level, title: title, message: message))
    }

    /// Appends `markdown` to $GITHUB_STEP_SUMMARY when it is set (and not empty), in one write
    /// to a file opened for appending; it is never created over or truncated.
    static func appendStepSummary(_ markdown: String) throws {
        guard let path = environment["GITHUB_STEP_SUMMARY"], !path.isEmpty else { return }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StepSummaryError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let bytes = Array(markdown.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StepSummaryError(path: path, reason: String(cString: strerror(errno)))
            }
            written += count
        }
    }
}
