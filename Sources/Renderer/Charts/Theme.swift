// The look shared by every chart: sizes, greys, and the fixed colours of the cell types.

import DiagnoseRecord
import Foundation

enum Theme {
    // Text (points).
    static let title = TextStyle(size: 15, weight: .bold, color: Color(hex: 0x111111))
    static let subtitle = TextStyle(size: 10.5, color: Color(hex: 0x555555))
    static let panelTitle = TextStyle(size: 11.5, weight: .bold, color: Color(hex: 0x222222))
    static let axisTitle = TextStyle(size: 10.5, color: Color(hex: 0x333333))
    static let tickLabel = TextStyle(size: 9.5, color: Color(hex: 0x444444))
    static let legend = TextStyle(size: 9.5, color: Color(hex: 0x222222))
    static let annotation = TextStyle(size: 9, color: Color(hex: 0x333333))
    static let endLabel = TextStyle(size: 9.5, weight: .bold)
    static let note = TextStyle(size: 10.5, weight: .bold, color: Color(hex: 0xB3261E))
    static let token = TextStyle(size: 8.5, family: .mono, color: Color(hex: 0x333333))

    // Lines (points).
    static let axisColor = Color(hex: 0x444444)
    static let axisWidth = 1.0
    static let gridColor = Color(hex: 0xE4E4E4)
    static let gridWidth = 0.75
    static let tickLength = 4.0
    static let dataWidth = 1.8
    static let noteColor = Color(hex: 0xB3261E)
    /// Learning-rate decays on the training chart.
    static let decayColor = Color(hex: 0x6A3D9A)
    static let referenceColor = Color(hex: 0x555555)
    static let missingColor = Color(hex: 0xF2F2F2)

    // Spacing (points).
    static let figureMargin = 16.0
    static let panelGap = 18.0

    // Okabe-Ito colours: distinguishable with every common colour-vision deficiency.
    static let orange = Color(hex: 0xE69F00)
    static let skyBlue = Color(hex: 0x56B4E9)
    static let green = Color(hex: 0x009E73)
    static let blue = Color(hex: 0x0072B2)
    static let vermillion = Color(hex: 0xD55E00)
    static let purple = Color(hex: 0xCC79A7)

    /// One fixed colour per cell type, the same in every chart: simple RNN vermillion,
    /// LSTM blue, GRU green.
    static func cellColor(_ cell: CellKind) -> Color {
        switch cell {
        case .rnn: return vermillion
        case .lstm: return blue
        case .gru: return green
        }
    }

    /// Series colours for things that are not cells (gates, singular-value ranks).
    static let series: [Color] = [orange, skyBlue, purple, Color(hex: 0x333333), green, vermillion, blue]

    static func gateColor(_ name: String, index: Int) -> Color {
        switch name {
        case "input", "update": return orange
        case "forget", "reset": return skyBlue
        case "candidate": return purple
        case "output": return Color(hex: 0x333333)
        default: return series[index % series.count]
        }
    }

    /// A lighter (t < 0, towards white) or darker (t > 0, towards black) shade in Oklab.
    static func shade(_ c: Color, _ t: Double) -> Color {
        let lab = Oklab(c)
        let target = t < 0 ? Oklab(l: 1, a: 0, b: 0) : Oklab(l: 0.15, a: 0, b: 0)
        var mixed = lab.mixed(with: target, abs(t))
        mixed.alpha = c.alpha
        return mixed.color
    }
}
