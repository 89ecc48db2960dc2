import DiagnoseRecord
import Foundation

/// Plain SGD or Adam (beta1 0.9, beta2 0.999, epsilon 1e-8) over the flat parameter buffer, with
/// the moments Adam keeps between steps.
public struct OptimizerState {
    public let kind: Optimizer
    public var learningRate: Float
    private var firstMoment: FloatBuffer?
    private var secondMoment: FloatBuffer?
    private var stepCount = 0

    public init(kind: Optimizer, learningRate: Double) {
        self.kind = kind
        self.learningRate = Float(learningRate)
    }

    public mutating func step(parameters: FloatBuffer, gradients: FloatBuffer, threads: ComputeThreads = 1) {
        let p = parameters.pointer, g = gradients.pointer, n = parameters.count
        switch kind {
        case .sgd:
            let lr = learningRate
            parallelRanges(n, threads: threads, grain: 1 << 16) { range in
                for i in range { p[i] -= lr * g[i] }
            }
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

/// The global L2 norm of every gradient together, accumulated in Double: the squares are summed
/// in Float (each square rounded as a Float product: `Elementwise.squares`) over consecutive
/// chunks of 4096 elements, in order, and the chunk sums in Double, in
/// order. Eight chunks are summed side by side (eight independent chains instead of one), and
/// the chunks are spread over the threads; neither changes a bit of the result.
public func globalNorm(_ buffer: FloatBuffer, threads: ComputeThreads = 1) -> Double {
    let chunk = 4096, p = buffer.pointer, count = buffer.count
    let chunks = (count + chunk - 1) / chunk
    var partials = [Float](repeating: 0, count: chunks)
    partials.withUnsafeMutableBufferPointer { out in
        let partial = out.baseAddress!
        parallelRanges((chunks + 7) / 8, threads: threads, grain: 8) { groups in
            for group in groups {
                let first = group * 8
                if (first + 8) * chunk <= count {
                    var sums = SIMD8<Float>()
                    for k in 0..<chunk {
                        var values = SIMD8<Float>()
                        for lane in 0..<8 { values[lane] = p[(first + lane) * chunk + k] }
                        sums += Elementwise.squares(values)
                    }
                    for lane in 0..<8 { partial[first + lane] = sums[lane] }
                } else {
                    for c in first..<min(first + 8, chunks) {
                        var sum: Float = 0
                        for k in (c * chunk)..<min((c + 1) * chunk, count) { sum += Elementwise.square(p[k]) }
                        partial[c] = sum
                    }
                }
            }
        }
    }
    var total = 0.0
    for sum in partials { total += Double(sum) }
    return total.squareRoot()
}

/// L2 norm of one tensor's slice of a buffer.
func norm(_ buffer: FloatBuffer, _ range: Range<Int>) -> Double {
    var total = 0.0
    for i in range { total += Double(buffer[i]) * Double(buffer[i]) }
    return total.squareRoot()
}
