// Where DejaVu Sans lives on common systems, the faces every macOS has when it is not installed,
// and the override from `RenderOptions.fontPath`.

import Foundation

struct FontFiles: Equatable {
    var regular: String
    var bold: String
    /// A monospaced face for the probe text (falls back to `regular`).
    var mono: String
}

enum FontLocator {
    static let directories = [
        "/usr/share/fonts/truetype/dejavu",      // Debian, Ubuntu (fonts-dejavu-core)
        "/usr/share/fonts/dejavu-sans-fonts",    // Fedora
        "/usr/share/fonts/dejavu-sans-mono-fonts",
        "/usr/share/fonts/dejavu",               // older Fedora, openSUSE
        "/usr/share/fonts/TTF",                  // Arch (ttf-dejavu)
        "/usr/share/fonts/truetype",
        "/usr/local/share/fonts",
        "/usr/local/share/fonts/dejavu",
        "/opt/homebrew/share/fonts",
        "/Library/Fonts",
        NSHomeDirectory() + "/Library/Fonts",
        NSHomeDirectory() + "/.local/share/fonts",
        NSHomeDirectory() + "/.fonts",
    ]

    /// macOS without DejaVu: Arial, Arial Bold and Courier New ship with the system.
    static let systemDirectories = ["/System/Library/Fonts/Supplemental", "/Library/Fonts"]

    /// The fonts to use: `override` (with `-Bold` and `Mono` siblings when they exist), else DejaVu
    /// Sans from the first directory that has it.
    static func locate(override: String?) throws -> FontFiles {
        let fm = FileManager.default
        if let override {
            guard fm.isReadableFile(atPath: override) else { throw RendererError.fontFileMissing(path: override) }
            let url = URL(fileURLWithPath: override)
            let stem = url.deletingPathExtension().lastPathComponent
            let folder = url.deletingLastPathComponent()
            let bold = folder.appendingPathComponent(stem + "-Bold." + url.pathExtension).path
            let mono = folder.appendingPathComponent("DejaVuSansMono.ttf").path
            return FontFiles(regular: override, bold: fm.isReadableFile(atPath: bold) ? bold : override,
                             mono: fm.isReadableFile(atPath: mono) ? mono : override)
        }
        func find(_ name: String, in folders: [String] = directories) -> String? {
            folders.lazy.map { $0 + "/" + name }.first { fm.isReadableFile(atPath: $0) }
        }
        if let regular = find("DejaVuSans.ttf") {
            return FontFiles(regular: regular, bold: find("DejaVuSans-Bold.ttf") ?? regular,
                             mono: find("DejaVuSansMono.ttf") ?? regular)
        }
        if let regular = find("Arial.ttf", in: systemDirectories) {
            return FontFiles(regular: regular, bold: find("Arial Bold.ttf", in: systemDirectories) ?? regular,
                             mono: find("Courier New.ttf", in: systemDirectories) ?? regular)
        }
        throw RendererError.fontNotFound(searched: directories.map { $0 + "/DejaVuSans.ttf" }
            + systemDirectories.map { $0 + "/Arial.ttf" })
    }
}
