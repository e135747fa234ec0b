import Foundation
import Render

/// The model inputs of a pre-rendered dataset file's rows, streamed again in file order while features
/// are computed (only the rows of the current batch are decoded and held). Transform per SPEC 5.6.
final class RenderedImages {
    let path: String
    let transform: ImageTransform
    let maxSeqLength: Int
    private var reader: RenderedDatasetReader

    init(path: String, transform: ImageTransform, maxSeqLength: Int) throws {
        self.path = path
        self.transform = transform
        self.maxSeqLength = maxSeqLength
        reader = try RenderedDatasetReader(path: path)
    }

    /// Inputs of the rows at `lines` (1-based line numbers from `DatasetReader.readRendered`), in order.
    func inputs(forLines lines: [Int]) throws -> [PatchModelInput] {
        var result: [PatchModelInput] = []
        for line in lines {
            // Batches go forward through the file; a line behind the reader (a new pass) reopens it.
            if reader.linesRead >= line { reader = try RenderedDatasetReader(path: path) }
            while true {
                guard let next = try reader.nextLine() else {
                    throw RenderError(path: path, .malformedLine(line: line, reason: "row not found on a second read (file changed?)"))
                }
                guard case .row(let row) = next, row.line == line else { continue }
                result.append(try row.modelInput(transform, maxSeqLength: maxSeqLength))
                break
            }
        }
        return result
    }
}
