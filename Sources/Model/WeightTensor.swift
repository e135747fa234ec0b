/// Float32 values that a weight tensor reads from: an array the model owns, or memory someone else keeps
/// alive (a mapped checkpoint file). Model never sees the file format, only this (DESIGN: dependency rule).
public protocol Float32Storage: Sendable {
    var count: Int { get }
    /// Calls `body` with the values in place; they stay valid for the duration of the call only.
    func withFloat32<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R
    /// Hands resident pages back to the kernel when the values live in a mapped file (they are read again
    /// from the file if used later); nothing for memory the model owns.
    func releaseResidentPages()
}

extension Float32Storage {
    public func releaseResidentPages() {}
}

extension Array: Float32Storage where Element == Float {
    public func withFloat32<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        withUnsafeBufferPointer(body)
    }
}

/// One named weight of the model, row-major in its PyTorch shape (Linear: [out_features, in_features]).
public struct WeightTensor: Sendable {
    public let name: String
    public let shape: [Int]
    public let storage: any Float32Storage

    public init(name: String, shape: [Int], storage: any Float32Storage) {
        precondition(storage.count == shape.reduce(1, *), "\(name): \(storage.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.storage = storage
    }

    public init(name: String, shape: [Int], values: [Float]) {
        self.init(name: name, shape: shape, storage: values)
    }

    public var elementCount: Int { storage.count }

    public func withFloat32<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R { storage.withFloat32(body) }
}
