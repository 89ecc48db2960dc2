// Dashing: cuts a polyline into the "on" pieces of a dash pattern, measured by arc length.

import Foundation

enum Dasher {
    /// The "on" pieces of `points` for `pattern` (on, off, on, off, ...) starting `phase` into it.
    /// A pattern with no positive length leaves the line solid.
    static func split(_ points: [Point], closed: Bool, pattern: [Double], phase: Double) -> [[Point]] {
        let pattern = pattern.count % 2 == 1 ? pattern + pattern : pattern
        let period = pattern.reduce(0, +)
        guard !pattern.isEmpty, period > 0, pattern.allSatisfy({ $0 >= 0 && $0.isFinite }),
              points.count >= 2 else { return [points] }
        var path = points
        if closed, let first = points.first { path.append(first) }

        // Position in the pattern after `phase`.
        var index = 0
        var remaining = pattern[0]
        var skip = phase.truncatingRemainder(dividingBy: period)
        if skip < 0 { skip += period }
        while skip > 0 {
            if skip >= remaining {
                skip -= remaining
                index = (index + 1) % pattern.count
                remaining = pattern[index]
            } else {
                remaining -= skip
                skip = 0
            }
        }

        var pieces: [[Point]] = []
        var current: [Point] = index % 2 == 0 ? [path[0]] : []
        for k in 0..<(path.count - 1) {
            let a = path[k], b = path[k + 1]
            let length = (b - a).length
            var travelled = 0.0
            while length - travelled > remaining {
                travelled += remaining
                let p = a + (b - a) * (travelled / length)
                if index % 2 == 0 {
                    current.append(p)
                    pieces.append(current)
                    current = []
                } else {
                    current = [p]
                }
                index = (index + 1) % pattern.count
                remaining = pattern[index]
            }
            remaining -= length - travelled
            if index % 2 == 0 { current.append(b) }
        }
        if current.count >= 2 { pieces.append(current) }
        return pieces
    }
}
