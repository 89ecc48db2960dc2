import DiagnoseRecord

extension LanguageModel {
    /// Runs every probe on `batch` from `state` (nil: zeros): per-step losses, per-tensor gradient norms,
    /// G for every layer and direction (and the LSTM's cell state), W_hh spectra, step Jacobians
    /// along stream 0 and gate statistics.
    public func probe(_ batch: Batch, step: Int, keepActivations: Bool, workspace: Workspace,
                      state: RecurrentState? = nil) -> ProbeRecord {
        let (stepLosses, norms, flows) = gradientFlowSection(batch, workspace: workspace, state: state)
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
        return ProbeRecord(step: step, stepLosses: stepLosses, parameterGradientNorms: norms, layers: layers)
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
