// TrainingCore: tensors and kernels, data, cells, training and the diagnostic probes.
// Shape letters used throughout: B batch, T steps, E embedding, H hidden, V vocabulary.
