import CHDF5
import Foundation
import SafeTensors

/// The weights of one HDF5 file, in any of the three layouts users have:
/// - this project's (root attribute `format = "pixelgpt-hdf5"`): datasets at the root by dotted name;
/// - h5py's as people commonly write it: one dataset per tensor, dotted at the root or nested in groups
///   (`model/layers/0/self_attn/q_proj/weight` -> `model.layers.0.self_attn.q_proj.weight`);
/// - Keras/TF `tf_model.h5` (root `layer_names`, per-layer `weight_names`), names mapped and kernels
///   transposed by `KerasWeightNames`.
/// Listing reads only metadata; `load` reads one dataset.
public final class HDF5Weights: WeightSource, @unchecked Sendable {
    // @unchecked: serial HDF5 (see HDF5Object); loads happen one at a time.
    public enum Layout: String, Sendable { case pixelgpt, h5py, keras }

    public let path: String
    public let layout: Layout
    public let weights: [WeightInfo]
    public let metadata: [String: String]?
    /// config.json stored in the file (this project's layout), when present.
    public let configJSON: String?
    private let file: HDF5File
    /// Dataset path of each weight.
    private let locations: [String: String]

    public init(path: String) throws {
        try HDF5CrashGuard.check(path)
        file = try HDF5File(path: path)
        self.path = path
        let root = file.rootID
        let fileName = (path as NSString).lastPathComponent
        var weights: [WeightInfo] = []
        var locations: [String: String] = [:]
        func add(_ name: String, location: String, info: HDF5File.DatasetInfo, permutation: [Int]?) throws {
            guard locations[name] == nil else { throw HDF5Error(path: path, message: "two datasets map to the tensor name \"\(name)\" (\(locations[name]!) and \(location))") }
            let shape = permutation.map { p in p.map { info.shape[$0] } } ?? info.shape
            weights.append(WeightInfo(name: name, dtype: info.dtype, shape: shape, file: fileName, storage: info.storage, permutation: permutation))
            locations[name] = location
        }
        if try file.stringAttribute(on: root, name: "format", location: "/") == HDF5WeightWriter.format {
            layout = .pixelgpt
            let version = try file.integerAttribute(on: root, name: "format_version", location: "/") ?? 0
            guard version >= 1 && version <= HDF5WeightWriter.formatVersion else {
                throw HDF5Error(path: path, message: "format_version \(version) is not one this tool reads (1...\(HDF5WeightWriter.formatVersion))")
            }
            for location in try file.datasetPaths() {
                try add(String(location.dropFirst()), location: location, info: try file.datasetInfo(location, declaredDtype: true), permutation: nil)
            }
            if let json = try file.stringAttribute(on: root, name: "metadata", location: "/") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String] else {
                    throw HDF5Error(path: path, message: "root attribute metadata is not a JSON object of strings")
                }
                metadata = object
            } else {
                metadata = nil
            }
            configJSON = try file.stringAttribute(on: root, name: "config_json", location: "/")
        } else if let layers = try file.splitStringListAttribute(on: root, name: "layer_names", location: "/") {
            layout = .keras
            for layer in layers {
                try file.hardPath(of: "/" + layer)
                let group = try HDF5.check(H5Gopen2(root, layer, pgpt_h5p_default()), .group, path: path, "layer_names lists \"\(layer)\" but there is no such group")
                defer { withExtendedLifetime(group) {} }
                let names = try file.splitStringListAttribute(on: group.id, name: "weight_names", location: "/" + layer) ?? []
                for weightName in names {
                    let location = "/\(layer)/\(weightName)"
                    let info = try file.datasetInfo(location, declaredDtype: false)
                    let mapping = KerasWeightNames.pytorchName(weightName, rank: info.shape.count)
                    try add(mapping.name, location: location, info: info, permutation: mapping.permutation)
                }
            }
            metadata = nil
            configJSON = nil
        } else {
            layout = .h5py
            for location in try file.datasetPaths() {
                let name = location.dropFirst().replacingOccurrences(of: "/", with: ".")
                try add(name, location: location, info: try file.datasetInfo(location, declaredDtype: false), permutation: nil)
            }
            metadata = nil
            configJSON = nil
        }
        self.weights = weights
        self.locations = locations
    }

    public func load(_ name: String) throws -> LoadedWeight {
        guard let info = weights.first(where: { $0.name == name }), let location = locations[name] else {
            throw HDF5Error(path: path, message: "no tensor named \"\(name)\"")
        }
        let storedShape = info.permutation.map { p in
            var shape = [Int](repeating: 0, count: p.count)
            for (k, axis) in p.enumerated() { shape[axis] = info.shape[k] }
            return shape
        } ?? info.shape
        var bytes = try file.read(location, as: info.dtype, elementCount: info.elementCount)
        if let permutation = info.permutation {
            bytes = KerasWeightNames.permute(bytes, shape: storedShape, elementSize: max(1, info.dtype.bitSize / 8), permutation: permutation)
        }
        return LoadedWeight(info: info, payload: .bytes(bytes), isZeroCopy: false)
    }
}
