import DiagnoseRecord

extension LanguageModel {
    /// Per gate (or the simple RNN's activation): a 50-bin histogram over the probe batch, the
    /// saturated fractions (Karpathy, Johnson and Fei-Fei 2015: sigmoid below 0.1 or above 0.9;
    /// tanh |x| > 0.9; relu exact zeros) and, when asked, the T x H activations of stream 0.
    func gateRecords(layer: RecurrentLayer, cache: LayerCache, keepActivations: Bool) -> [GateRecord] {
        let H = layer.hidden, B = cache.batch, T = cache.steps, width = layer.gateRows
        let gates = cache.gates!.pointer
        let functions = layer.cell.gateFunctions(activation: layer.activation)
        return layer.cell.gateNames.enumerated().map { g, name in
            let function = functions[g]
            var values: [Double] = []
            values.reserveCapacity(T * B * H)
            for r in 0..<(T * B) {
                let row = gates + r * width + g * H
                for u in 0..<H { values.append(Double(row[u])) }
            }
            let finite = values.filter(\.isFinite)
            let (lower, upper): (Double, Double)
            switch function {
            case .sigmoid: (lower, upper) = (0, 1)
            case .tanh: (lower, upper) = (-1, 1)
            case .relu: (lower, upper) = (0, max(finite.max() ?? 1, 1e-6))
            case .linear:
                let low = finite.min() ?? -1, high = finite.max() ?? 1
                (lower, upper) = low < high ? (low, high) : (low - 1, low + 1)
            }
            var counts = [Int](repeating: 0, count: 50)
            for v in finite {
                let bin = Int(((v - lower) / (upper - lower) * 50).rounded(.down))
                counts[min(max(bin, 0), 49)] += 1
            }
            let total = Double(max(values.count, 1))
            var low: Double?, high: Double?, saturated: Double
            switch function {
            case .sigmoid:
                low = Double(values.filter { $0 < 0.1 }.count) / total
                high = Double(values.filter { $0 > 0.9 }.count) / total
                saturated = low! + high!
            case .tanh:
                high = Double(values.filter { abs($0) > 0.9 }.count) / total
                saturated = high!
            case .relu:
                low = Double(values.filter { $0 == 0 }.count) / total
                saturated = low!
            case .linear:
                saturated = 0
            }
            var activations: [[Double]]? = nil
            if keepActivations {
                activations = (0..<T).map { t in (0..<H).map { Double(gates[(t * B) * width + g * H + $0]) } }
            }
            return GateRecord(name: name, function: function, activations: activations,
                              histogram: Histogram(lower: lower, upper: upper, counts: counts),
                              saturatedLow: low, saturatedHigh: high, saturated: saturated)
        }
    }
}
