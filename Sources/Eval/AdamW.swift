import Foundation

/// torch.optim.AdamW (the HF Trainer's `adamw_torch`, SPEC 8): decoupled weight decay applied to the
/// parameter before the Adam step, bias-corrected moments, ε added after the square root.
public struct AdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    public private(set) var step = 0
    private var m: [Float]
    private var v: [Float]

    public init(parameterCount: Int, weightDecay: Float = 0) {
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: parameterCount)
        v = m
    }

    /// One update of `parameters` by `gradient` at `learningRate`; `decayMask` selects the decayed elements.
    public mutating func update(_ parameters: inout [Float], gradient: [Float], learningRate: Float, decayMask: [Bool]) {
        precondition(parameters.count == m.count && gradient.count == m.count && decayMask.count == m.count)
        step += 1
        let correction1 = 1 - Float(Double(beta1).pow(step))
        let correction2 = 1 - Float(Double(beta2).pow(step))
        let stepSize = learningRate / correction1
        let root2 = correction2.squareRoot()
        let decay = 1 - learningRate * weightDecay
        for i in parameters.indices {
            if decayMask[i] && weightDecay != 0 { parameters[i] *= decay }
            let g = gradient[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            parameters[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + epsilon)
        }
    }

    /// torch.nn.utils.clip_grad_norm_: scales `gradient` by maxNorm / (norm + 1e-6) when that is below 1;
    /// returns the norm before clipping.
    @discardableResult
    public static func clipGradientNorm(_ gradient: inout [Float], maxNorm: Float) -> Float {
        let norm = Float(gradient.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        let scale = maxNorm / (norm + 1e-6)
        if scale < 1 { for i in gradient.indices { gradient[i] *= scale } }
        return norm
    }
}

extension Double {
    fileprivate func pow(_ n: Int) -> Double { Foundation.pow(self, Double(n)) }
}
