// How charts are drawn: pixel density and which font file to use.

import Foundation

public struct RenderOptions: Sendable, Equatable {
    /// Pixels per layout point. 2 (the default) gives crisp pictures on high-density screens;
    /// a chart laid out 960 points wide is then 1920 pixels wide.
    public var scale: Double = 2
    /// A TrueType file to use instead of the DejaVu Sans found at the usual system paths
    /// (the bold face is looked for beside it as `<name>-Bold.ttf`; otherwise the same file is used).
    public var fontPath: String? = nil

    public init(scale: Double = 2, fontPath: String? = nil) {
        self.scale = scale
        self.fontPath = fontPath
    }
}

extension RenderOptions {
    /// Finds and opens the fonts these options name, so a bad `--font` is reported before any
    /// training time is spent rather than after.
    public func validate() throws {
        let files = try FontLocator.locate(override: fontPath)
        _ = try FontFace(path: files.regular)
    }
}
