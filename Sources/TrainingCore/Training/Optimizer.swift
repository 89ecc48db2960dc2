import Foundation

public enum OptimizerKind: String, Sendable, CaseIterable { case sgd, adam }

/// Plain SGD or Adam (beta1 0.9, beta2 0.999, epsilon 1e-8) over the flat parameter buffer.
public struct Optimizer {
    public let kind: OptimizerKind
    public var learningRate: Float
    private var firstMoment: FloatBuffer?
    private var secondMoment: FloatBuffer?
    private var stepCount = 0

    public init(kind: OptimizerKind, learningRate: Double) {
        self.kind = kind
        self.learningRate = Float(learningRate)
    }

    public mutating func step(parameters: FloatBuffer, gradients: FloatBuffer) {
        let p = parameters.pointer, g = gradients.pointer, n = parameters.count
        switch kind {
        case .sgd:
            let lr = learningRate
            for i in 0..<n { p[i] -= lr * g[i] }
        case .adam:
            let m = FloatBuffer.ensure(&firstMoment, count: n).pointer
            let v = FloatBuffer.ensure(&secondMoment, count: n).pointer
            stepCount += 1
            let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
            let correction1 = 1 - Float(Foundation.pow(Double(beta1), Double(stepCount)))
            let correction2 = 1 - Float(Foundation.pow(Double(beta2), Double(stepCount)))
            let stepSize = learningRate / correction1
            let inverseRoot = 1 / correction2.squareRoot()
            for i in 0..<n {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                p[i] -= stepSize * m[i] / ((v[i]).squareRoot() * inverseRoot + epsilon)
            }
        }
    }
}

/// The global L2 norm of every gradient together, accumulated in Double.
public func globalNorm(_ buffer: FloatBuffer) -> Double {
    var total = 0.0
    let p = buffer.pointer
    var i = 0
    while i < buffer.count {
        let end = min(i + 4096, buffer.count)
        var partial: Float = 0
        for k in i..<end { partial += p[k] * p[k] }
        total += Double(partial)
        i = end
    }
    return total.squareRoot()
}

/// L2 norm of one tensor's slice of a buffer.
func norm(_ buffer: FloatBuffer, _ range: Range<Int>) -> Double {
    var total = 0.0
    for i in range { total += Double(buffer[i]) * Double(buffer[i]) }
    return total.squareRoot()
}
