// What a piece of text looks like.

import Foundation

struct TextStyle: Equatable {
    enum Weight: Equatable { case regular, bold }
    enum Family: Equatable { case sans, mono }
    /// Size in points (one em).
    var size: Double
    var weight: Weight = .regular
    var family: Family = .sans
    var color: Color = Color(hex: 0x222222)

    func with(size: Double? = nil, weight: Weight? = nil, color: Color? = nil) -> TextStyle {
        var s = self
        if let size { s.size = size }
        if let weight { s.weight = weight }
        if let color { s.color = color }
        return s
    }
}
