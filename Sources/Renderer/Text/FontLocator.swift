// Where DejaVu Sans lives on common systems, and the override from `RenderOptions.fontPath`.

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
        func find(_ name: String) -> String? {
            directories.lazy.map { $0 + "/" + name }.first { fm.isReadableFile(atPath: $0) }
        }
        guard let regular = find("DejaVuSans.ttf") else {
            throw RendererError.fontNotFound(searched: directories.map { $0 + "/DejaVuSans.ttf" })
        }
        return FontFiles(regular: regular, bold: find("DejaVuSans-Bold.ttf") ?? regular,
                         mono: find("DejaVuSansMono.ttf") ?? regular)
    }
}
