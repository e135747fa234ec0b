/// transformers' get_linear_schedule_with_warmup (the Trainer default, SPEC 8): the rate rises linearly
/// from 0 over `warmupSteps`, then falls linearly to 0 at `maxSteps`. Optimizer step t (0-based) uses
/// the factor at t, so with warmup the first update has rate 0, as in the Trainer.
public struct LinearSchedule: Sendable, Equatable {
    public let peak: Double
    public let warmupSteps: Int
    public let maxSteps: Int

    public init(peak: Double, warmupSteps: Int, maxSteps: Int) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.maxSteps = maxSteps
    }

    public func learningRate(atStep step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step) / Double(max(1, warmupSteps)) }
        return peak * max(0, Double(maxSteps - step) / Double(max(1, maxSteps - warmupSteps)))
    }
}
