import Foundation
import Support

/// The model input of one strip, whether rendered here or read from the original's pre-rendered files: pixel
/// values Float32 channel-first [3, 16, 16·L] in [0, 1] and the patch attention mask of length L (SPEC 5.5, 5.6).
public struct PatchModelInput: Sendable, Equatable {
    public let pixelValues: [Float]
    public let patchAttentionMask: [Float]
    /// num_patches of the row (num_text_patches of a rendered strip): the index of the black end patch.
    public let numPatches: Int
    public let maxSeqLength: Int
    public let pixelsPerPatch: Int

    /// [3, 16, 16·L].
    public var shape: [Int] { [3, pixelsPerPatch, pixelsPerPatch * maxSeqLength] }
}

extension RenderedStrip {
    /// The same input as a pre-rendered row gives: RGB strips as they are; grey and binary strips repeated into
    /// three channels, as PIL's convert('RGB') does.
    public func patchModelInput() -> PatchModelInput {
        PatchModelInput(
            pixelValues: modelInput(asRGB: true), patchAttentionMask: attentionMask(), numPatches: numTextPatches,
            maxSeqLength: maxSeqLength, pixelsPerPatch: pixelsPerPatch)
    }
}

/// One row of a pre-rendered dataset file (SPEC 5.1, 7.1, 7.2): the task's text fields, the label, the decoded
/// PNG and num_patches.
public struct RenderedDatasetRow: Sendable {
    public let file: String
    /// 1-based line number in the decompressed file.
    public let line: Int
    /// Every string-valued key except `image` (e.g. premise, hypothesis; sentence1, sentence2; question, sentence).
    public let texts: [String: String]
    /// `label` as a number (an integer class id, or the STS-B score); nil when absent or null (test splits).
    public let label: Double?
    public let numPatches: Int
    public let image: PNGImage

    /// The transform of SPEC 5.6 applied to the image, then ToTensor, with the mask of min(num_patches + 1, L)
    /// ones. A colour mode the transform cannot take is an error naming this file and line.
    public func modelInput(_ transform: ImageTransform, maxSeqLength: Int, pixelsPerPatch: Int = 16) throws(RenderError) -> PatchModelInput {
        guard maxSeqLength > 0, pixelsPerPatch > 0 else {
            throw RenderError(path: file, .malformedLine(line: line, reason: "max_seq_length and pixels_per_patch must be positive"))
        }
        let rgb: [UInt8]
        do { rgb = try transform.apply(image, pixelsPerPatch: pixelsPerPatch, maxSeqLength: maxSeqLength) } catch {
            throw RenderError(path: file, .malformedLine(line: line, reason: error.message))
        }
        let geometry = PatchGeometry(pixelsPerPatch: pixelsPerPatch, maxSequenceLength: maxSeqLength)
        return PatchModelInput(
            pixelValues: ImageTransform.toTensor(rgb, width: geometry.width, height: pixelsPerPatch),
            patchAttentionMask: geometry.attentionMask(numTextPatches: numPatches), numPatches: numPatches,
            maxSeqLength: maxSeqLength, pixelsPerPatch: pixelsPerPatch)
    }
}

/// What one non-empty line of a dataset file gave: a row, or why it is not one.
public enum RenderedDatasetLine: Sendable {
    case row(RenderedDatasetRow)
    case malformed(RenderError)
}

/// Streams a gzip JSON-lines file of the original's pre-rendered datasets (`rendered_glue/<task>-<split>/
/// part-00000.gz`, `rendered_xnli/xnli-<lang>-<split>/part-00000.gz`), one line at a time: the file is inflated in
/// small pieces and never held whole. A line that is not a row (bad JSON, bad base64, bad PNG, no image or
/// num_patches) comes back as `.malformed` with the file and line, is counted, and reading goes on. Empty lines
/// are skipped. Errors that end the file (unreadable, corrupt gzip) are thrown.
public final class RenderedDatasetReader: IteratorProtocol {
    public let path: String
    /// Lines read so far (1-based number of the last one).
    public private(set) var linesRead = 0
    public private(set) var rowsRead = 0
    public private(set) var malformedCount = 0

    private let handle: FileHandle
    private let inflater: Inflater
    private var pending: [UInt8] = []
    /// Start of the unread part of `pending`.
    private var cursor = 0
    /// Where the search for the next newline goes on: the bytes before it have none (a long line spans reads).
    private var searched = 0
    private var endOfInput = false
    /// Compressed bytes read per step: at most about 1032 times that when inflated (zlib's largest ratio).
    private static let readSize = 1 << 14
    /// A longer line is refused rather than buffered without end.
    static let maxLineBytes = 1 << 28

    public init(path: String) throws(RenderError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw RenderError(path: path, .missingFile(what: "the dataset file")) }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw RenderError(path: path, .cannotRead("cannot open")) }
        self.handle = handle
        do { inflater = try Inflater(.gzip) } catch { throw RenderError(path: path, .cannotRead("zlib: \(error.message)")) }
    }

    deinit { try? handle.close() }

    /// The next row or malformed line; nil at the end of the file.
    public func nextLine() throws(RenderError) -> RenderedDatasetLine? {
        while true {
            guard let line = try nextRawLine() else { return nil }
            linesRead += 1
            if TextLine(number: linesRead, bytes: line).isBlank { continue }
            switch parse(line, number: linesRead) {
            case .success(let row):
                rowsRead += 1
                return .row(row)
            case .failure(let error):
                malformedCount += 1
                return .malformed(error)
            }
        }
    }

    /// IteratorProtocol: rows and malformed lines; a fatal error of the file ends the iteration as a final
    /// `.malformed` entry naming it.
    public func next() -> RenderedDatasetLine? {
        do { return try nextLine() } catch {
            endOfInput = true
            pending = []
            cursor = 0
            searched = 0
            return .malformed(error)
        }
    }

    /// Reads every line, handing rows to `body` and malformed lines to `malformed` (e.g. to log them); returns
    /// the number of rows.
    @discardableResult
    public func forEachRow(
        _ body: (RenderedDatasetRow) throws -> Void, malformed: (RenderError) -> Void
    ) throws -> Int {
        while let line = try nextLine() {
            switch line {
            case .row(let row): try body(row)
            case .malformed(let error): malformed(error)
            }
        }
        return rowsRead
    }

    private func nextRawLine() throws(RenderError) -> ArraySlice<UInt8>? {
        while true {
            if let newline = pending[max(cursor, searched)...].firstIndex(of: 0x0A) {
                let line = pending[cursor ..< newline]
                cursor = newline + 1
                searched = cursor
                return line
            }
            searched = pending.count
            if endOfInput {
                guard cursor < pending.count else { return nil }
                let line = pending[cursor...]
                cursor = pending.count
                return line
            }
            // Drop what has been handed out before reading more.
            if cursor > 0 {
                pending.removeSubrange(0 ..< cursor)
                searched -= cursor
                cursor = 0
            }
            guard pending.count <= Self.maxLineBytes else {
                throw RenderError(path: path, .malformedLine(line: linesRead + 1, reason: "longer than \(Self.maxLineBytes) bytes"))
            }
            let data: Data?
            do { data = try handle.read(upToCount: Self.readSize) } catch { throw RenderError(path: path, .cannotRead(error.localizedDescription)) }
            guard let data, !data.isEmpty else {
                endOfInput = true
                guard inflater.finished else {
                    throw RenderError(path: path, .cannotRead("not a complete gzip stream: it ends after line \(linesRead)"))
                }
                continue
            }
            do {
                try data.withUnsafeBytes { input in
                    try inflater.inflate(input) { piece in pending.append(contentsOf: piece) }
                }
            } catch let failure as Inflater.Failure {
                throw RenderError(path: path, .cannotRead("gzip: \(failure.message) (after line \(linesRead))"))
            } catch {
                throw RenderError(path: path, .cannotRead("gzip: \(error)"))
            }
        }
    }

    private func parse(_ line: ArraySlice<UInt8>, number: Int) -> Result<RenderedDatasetRow, RenderError> {
        func bad(_ reason: String) -> Result<RenderedDatasetRow, RenderError> { .failure(RenderError(path: path, .malformedLine(line: number, reason: reason))) }
        let object: [String: JSONValue]
        switch JSONLines.object(line) {
        case .success(let parsed): object = parsed
        case .failure(let problem): return bad(problem.description)
        }
        guard let imageValue = object["image"] else { return bad("no \"image\" key") }
        guard case .string(let base64) = imageValue else { return bad("\"image\" is \(imageValue.summary), not a base64 string") }
        guard let numPatchesValue = object["num_patches"] else { return bad("no \"num_patches\" key") }
        guard case .number(let n) = numPatchesValue, n >= 0, n == n.rounded(), n < 1e9 else {
            return bad("\"num_patches\" is \(numPatchesValue.summary), not a non-negative integer")
        }
        var label: Double?
        switch object["label"] {
        case nil, .null?: label = nil
        case .number(let x)?: label = x
        case let other?: return bad("\"label\" is \(other.summary), not a number")
        }
        // Python's base64.b64decode (validate=False) discards characters outside the alphabet, as this option does.
        guard let bytes = Data(base64Encoded: base64, options: .ignoreUnknownCharacters), !bytes.isEmpty else {
            return bad("\"image\" is not valid base64")
        }
        let image: PNGImage
        do { image = try PNGImage.decode([UInt8](bytes)) } catch { return bad("\"image\" is not a usable PNG: \(error.message)") }
        var texts: [String: String] = [:]
        for (key, value) in object where key != "image" {
            if case .string(let s) = value { texts[key] = s }
        }
        return .success(RenderedDatasetRow(file: path, line: number, texts: texts, label: label, numPatches: Int(n), image: image))
    }
}
