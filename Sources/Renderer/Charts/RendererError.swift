// Everything that can go wrong while drawing, with a message that says what to do.

import Foundation

public enum RendererError: Error, CustomStringConvertible, Equatable {
    /// No DejaVu Sans at any of the searched paths.
    case fontNotFound(searched: [String])
    /// The font named by --font is not a readable file.
    case fontFileMissing(path: String)
    /// A font file exists but FreeType could not open it.
    case fontUnreadable(path: String, freetypeError: Int32)
    /// FreeType itself failed (init, size or glyph loading).
    case freetype(operation: String, error: Int32)
    /// libpng refused to encode a pixmap.
    case pngEncode(String)
    /// Bytes that libpng cannot read as a PNG.
    case pngDecode(String)

    public var description: String {
        switch self {
        case let .fontFileMissing(path):
            return "--font \(path): no readable file there; give the path of a TrueType (.ttf) font, or leave --font out to use DejaVu Sans"
        case let .fontNotFound(searched):
            return "no DejaVu Sans font found (looked at " + searched.joined(separator: ", ")
                + "); install the package fonts-dejavu-core (Debian/Ubuntu; dejavu-sans-fonts on Fedora, "
                + "ttf-dejavu on Arch) or pass --font FILE with a TrueType font"
        case let .fontUnreadable(path, error):
            // FreeType's codes for the ways a file fails to open (fterrdef.h: 1, 2, 3).
            let reason = [1: "it cannot be opened", 2: "it is not in a font format FreeType reads",
                          3: "it is truncated or corrupt"][error] ?? "FreeType error \(error)"
            return "cannot use font \(path): \(reason); pass --font with a TrueType (.ttf) file"
        case let .freetype(operation, error):
            return "FreeType failed in \(operation) (error \(error))"
        case let .pngEncode(message):
            return "cannot encode PNG: \(message)"
        case let .pngDecode(message):
            return "cannot decode PNG: \(message); is the file a PNG image?"
        }
    }
}
