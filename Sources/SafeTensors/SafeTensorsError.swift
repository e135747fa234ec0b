/// Every failure of this module: the file it concerns and what is wrong, in one line.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let problem: Problem

    public init(path: String, _ problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public enum Problem: Equatable, Sendable {
        case cannotOpen(String)
        case notARegularFile
        case tooSmall(fileSize: Int)
        case headerTooLarge(UInt64)
        case headerPastEnd(headerSize: UInt64, fileSize: Int)
        case headerNotUTF8
        case headerSyntax(message: String, offset: Int)
        case headerNotAnObject(found: String)
        case invalidEntry(tensor: String, reason: String)
        case unknownDType(tensor: String, dtype: String)
        case invalidMetadata(String)
        case duplicateTensor(String)
        case offsetsNotContiguous(tensor: String, expectedBegin: Int, begin: Int, end: Int)
        case sizeMismatch(tensor: String, expectedBytes: Int, actualBytes: Int)
        case sizeOverflow(tensor: String)
        case dataSizeMismatch(headerEnd: Int, available: Int)
        case tensorNotFound(String)
        case notDecodable(tensor: String, dtype: DType)
        case invalidIndex(String)
        case missingShard(shard: String, tensor: String)
        case shardDisagrees(shard: String, reason: String)
        case writeFailed(String)
        case invalidTensor(tensor: String, reason: String)
    }

    public var description: String { "\(path): \(problem.message)" }
}

extension SafeTensorsError.Problem {
    public var message: String {
        switch self {
        case .cannotOpen(let why): "cannot open: \(why)"
        case .notARegularFile: "not a regular file (a directory, FIFO or device?)"
        case .tooSmall(let size): "not a safetensors file: \(size) bytes, fewer than the 8-byte header length"
        case .headerTooLarge(let n): "header length \(n) exceeds the format's limit of 100000000 bytes (truncated or not a safetensors file?)"
        case .headerPastEnd(let n, let size): "header length \(n) runs past the end of the \(size)-byte file (truncated?)"
        case .headerNotUTF8: "header is not valid UTF-8"
        case .headerSyntax(let message, let offset): "header is not valid JSON: \(message) at header byte \(offset)"
        case .headerNotAnObject(let found): "header must be a JSON object, found \(found)"
        case .invalidEntry(let tensor, let reason): "tensor \"\(tensor)\": \(reason)"
        case .unknownDType(let tensor, let dtype): "tensor \"\(tensor)\": unknown dtype \"\(dtype)\""
        case .invalidMetadata(let reason): "__metadata__: \(reason)"
        case .duplicateTensor(let name): "tensor \"\(name)\" appears more than once"
        case .offsetsNotContiguous(let tensor, let expected, let begin, let end):
            begin < expected
                ? "tensor \"\(tensor)\": data_offsets [\(begin), \(end)] overlap the previous tensor, which ends at \(expected)"
                : begin > expected
                    ? "tensor \"\(tensor)\": data_offsets [\(begin), \(end)] leave a gap after byte \(expected)"
                    : "tensor \"\(tensor)\": data_offsets [\(begin), \(end)] end before they begin"
        case .sizeMismatch(let tensor, let expected, let actual):
            "tensor \"\(tensor)\": dtype and shape need \(expected) bytes but data_offsets span \(actual)"
        case .sizeOverflow(let tensor): "tensor \"\(tensor)\": shape overflows the addressable size"
        case .dataSizeMismatch(let end, let available):
            end > available
                ? "tensors need \(end) data bytes but the file holds \(available) (truncated?)"
                : "file holds \(available) data bytes but tensors cover only \(end) (trailing bytes)"
        case .tensorNotFound(let name): "no tensor named \"\(name)\""
        case .notDecodable(let tensor, let dtype): "tensor \"\(tensor)\": dtype \(dtype.rawValue) cannot be converted element-wise to F32"
        case .invalidIndex(let reason): "invalid sharded index: \(reason)"
        case .missingShard(let shard, let tensor): "shard \"\(shard)\" (holding \"\(tensor)\") is missing"
        case .shardDisagrees(let shard, let reason): "shard \"\(shard)\": \(reason)"
        case .writeFailed(let why): "write failed: \(why)"
        case .invalidTensor(let tensor, let reason): "cannot write tensor \"\(tensor)\": \(reason)"
        }
    }
}
