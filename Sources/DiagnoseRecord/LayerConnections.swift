/// How a stack of recurrent layers is wired through depth. Shape letters: E embedding, H hidden,
/// L layers; y_l(t) is what layer l hands upwards (to the next layer, or to the decoder from the top).
public enum LayerConnections: String, Codable, Sendable, CaseIterable {
    /// Each layer reads the one below: y_l = h_l.
    case plain
    /// From the second layer up each layer adds the output of the layer below to its own
    /// (He et al. 2016): y_l = h_l + y_(l-1) for l >= 1, y_0 = h_0. No extra weights; the
    /// recurrence of every layer still runs on its own h_l.
    case residual
    /// Each layer reads the embedding and the outputs of every layer below it, concatenated
    /// (Huang et al. 2017): x_l = [x_0, h_0, ..., h_(l-1)], so `weight_ih_l{l}` is (gH, E + l H).
    /// The decoder reads the top layer.
    case dense
}

extension ProbeRecord {
    /// The forward direction's depth profile at the bottom layer: the share of the top layer's
    /// gradient that reaches layer 0. nil for a one-layer model or a record without a depth probe.
    public var firstLayerShare: Double? {
        guard let profile = depth?.first?.profile, profile.count > 1 else { return nil }
        return profile[0]
    }
}
