import DiagnoseRecord

extension LanguageModel {
    /// Runs every probe on `batch` from `state` (nil: zeros): per-step losses, per-tensor gradient norms,
    /// G for every layer and direction (and the LSTM's cell state), W_hh spectra, step Jacobians
    /// along stream 0 and gate statistics.
    public func probe(_ batch: Batch, step: Int, keepActivations: Bool, workspace: Workspace,
                      state: RecurrentState? = nil) -> ProbeRecord {
        workspace.recordsDepth = true
        let (stepLosses, norms, flows) = gradientFlowSection(batch, workspace: workspace, state: state)
        workspace.recordsDepth = false
        let depth = depthProbes(batch, workspace: workspace)
        let layers = flows.map { flow -> LayerProbe in
            let layer = stacks[flow.direction][flow.layer]
            let cache = workspace.caches[flow.direction][flow.layer]
            let hidden = LagProfile(gradientFlow: flow.hidden)
            let cell = flow.cell.map { LagProfile(gradientFlow: $0) }
            var probe = LayerProbe(
                layer: flow.layer, direction: Direction(index: flow.direction),
                gradientFlow: flow.hidden, lagProfile: hidden.values, decayPerStep: hidden.decayPerStep,
                horizon: hidden.horizon, cellGradientFlow: flow.cell, cellLagProfile: cell?.values,
                cellDecayPerStep: cell?.decayPerStep, cellHorizon: cell?.horizon,
                spectrum: spectrum(of: layer), jacobians: jacobianRecord(layer: layer, cache: cache),
                gates: gateRecords(layer: layer, cache: cache, keepActivations: keepActivations))
            if let recall = flow.recall {
                probe.recallGradientFlow = recall
                probe.recallLagProfile = LagProfile.sparse(recall)
            }
            return probe
        }
        return ProbeRecord(step: step, stepLosses: stepLosses, parameterGradientNorms: norms, layers: layers,
                           depth: depth)
    }

    /// D[l][t] = mean_b ||dJ/dh_l,b(t)|| from the squared norms the last `backward` stored, and the
    /// depth profile mean_t D[l] / mean_t D[top], per direction.
    func depthProbes(_ batch: Batch, workspace: Workspace) -> [DepthProbe] {
        let B = batch.batch, T = batch.steps
        return (0..<config.directions).map { direction in
            let gradient = (0..<config.layers).map { l -> [Double] in
                guard let squares = workspace.depthSquares[direction][l] else { return [] }
                return (0..<T).map { t in meanOfRoots(squares.pointer + t * B, count: B) }
            }
            let means = gradient.map { $0.reduce(0, +) / Double(max($0.count, 1)) }
            let top = means.last ?? 0
            return DepthProbe(direction: Direction(index: direction), gradient: gradient,
                              profile: means.map { top > 0 ? $0 / top : .nan })
        }
    }

    /// Section 1 of the probes (what the benchmark times): from a zero state, the per-step losses
    /// (mean over the batch of l_b(t), per direction), the norm of each tensor's gradient of the
    /// batch's mean loss, and G for every layer and direction.
    public func gradientFlowSection(_ batch: Batch, workspace: Workspace, state: RecurrentState? = nil)
        -> (stepLosses: [[Double]], gradientNorms: [String: Double], flows: [GradientFlowMatrices]) {
        let B = batch.batch, T = batch.steps
        forward(batch, state: state, workspace: workspace)
        let stepLosses = workspace.rowLosses.map { rows in
            (0..<T).map { t in (0..<B).reduce(0.0) { $0 + Double(rows[t * B + $1]) } / Double(B) }
        }
        let gradients = FloatBuffer(count: parameterCount)
        backward(batch, workspace: workspace, gradients: gradients)
        var norms: [String: Double] = [:]
        for entry in layout.entries { norms[entry.name] = norm(gradients, entry.range) }
        return (stepLosses, norms, gradientFlow(batch, workspace: workspace))
    }
}
