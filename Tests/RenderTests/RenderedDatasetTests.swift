import Foundation
import Testing
@testable import Render

/// Reading the original's pre-rendered datasets (SPEC 5.1, 5.6, 7.1, 7.2) against Pillow + numpy: the fixture
/// (scripts/make_rendered_dataset_fixtures.py) holds a gzip JSON-lines file in the original's row format and the
/// model inputs Pillow gives for each row. Every comparison is bit for bit.
@Suite struct RenderedDatasetTests {
    static let fixtures = RenderFixtures.repoRoot + "/Tests/RenderTests/Fixtures/rendered_dataset"
    static let dataset = fixtures + "/part-00000.gz"

    struct Manifest: Decodable {
        let maxSeqLength: Int
        let lines: Int
        let rows: Int
        let malformed: Int
        let entries: [Entry]

        struct Entry: Decodable {
            let line: Int
            let malformed: Bool
            let errorContains: String?
            let mode: String?
            let width: Int?
            let height: Int?
            let numPatches: Int?
            let label: Double?
            let texts: [String: String]?

            enum CodingKeys: String, CodingKey {
                case line, malformed, mode, width, height, label, texts
                case errorContains = "error_contains", numPatches = "num_patches"
            }
        }

        enum CodingKeys: String, CodingKey {
            case lines, rows, malformed, entries
            case maxSeqLength = "max_seq_length"
        }

        static func load() throws -> Manifest {
            try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: fixtures + "/manifest.json")))
        }
    }

    /// Every line of the file in order: rows, malformed lines, nothing dropped.
    static func readAll(_ path: String = dataset) throws -> (lines: [RenderedDatasetLine], reader: RenderedDatasetReader) {
        let reader = try RenderedDatasetReader(path: path)
        var lines: [RenderedDatasetLine] = []
        while let line = try reader.nextLine() { lines.append(line) }
        return (lines, reader)
    }

    @Test func everyLineComesBackAsARowOrAMalformedLine() throws {
        let manifest = try Manifest.load()
        let (lines, reader) = try Self.readAll()
        // The blank line is skipped; every other line is reported, in order.
        #expect(lines.count == manifest.entries.count)
        #expect(reader.linesRead == manifest.lines)
        #expect(reader.rowsRead == manifest.rows && reader.malformedCount == manifest.malformed)
        for (line, entry) in zip(lines, manifest.entries) {
            switch line {
            case .row(let row):
                #expect(!entry.malformed, "line \(entry.line) should be malformed")
                #expect(row.line == entry.line && row.file == Self.dataset)
                #expect(row.image.mode.rawValue == entry.mode, "line \(entry.line): mode")
                #expect(row.image.width == entry.width && row.image.height == entry.height, "line \(entry.line): size")
                #expect(row.numPatches == entry.numPatches && row.label == entry.label, "line \(entry.line)")
                #expect(row.texts == entry.texts, "line \(entry.line): texts")
            case .malformed(let error):
                #expect(entry.malformed, "line \(entry.line): \(error)")
                guard case .malformedLine(let number, let reason) = error.problem else { Issue.record("\(error)"); continue }
                #expect(number == entry.line && error.path == Self.dataset)
                #expect(reason.contains(entry.errorContains ?? "?"), "line \(entry.line): \(reason)")
                // One line naming file and line.
                #expect(error.description.hasPrefix("\(Self.dataset): line \(entry.line): ") && !error.description.contains("\n"))
            }
        }
    }

    @Test func modelInputsAreBitIdenticalToPillows() throws {
        let manifest = try Manifest.load()
        let expected = try TinySafeTensors(path: Self.fixtures + "/expected.safetensors")
        let length = manifest.maxSeqLength
        var rows = 0
        for case .row(let row) in try Self.readAll().lines {
            rows += 1
            let crop = try row.modelInput(.glueImage, maxSeqLength: length)
            let bicubic = try row.modelInput(.xnliImage, maxSeqLength: length)
            #expect(crop.shape == [3, 16, 16 * length] && crop.pixelValues.count == 3 * 16 * 16 * length)
            #expect(try Self.mismatch(crop.pixelValues, expected.floats("line\(row.line).crop")) == nil, "line \(row.line): crop")
            #expect(try Self.mismatch(bicubic.pixelValues, expected.floats("line\(row.line).bicubic")) == nil, "line \(row.line): bicubic")
            #expect(try crop.patchAttentionMask == expected.floats("line\(row.line).mask"), "line \(row.line): mask")
            #expect(bicubic.patchAttentionMask == crop.patchAttentionMask && crop.numPatches == row.numPatches)
            // The image-text scripts do not convert: the same crop for RGB, an error naming the line otherwise.
            if row.image.mode == .rgb {
                #expect(try row.modelInput(.imageText, maxSeqLength: length) == crop)
            } else {
                #expect(throws: RenderError(path: Self.dataset, .malformedLine(
                    line: row.line, reason: "a mode \(row.image.mode.rawValue) image where the image-text scripts expect RGB (they do not convert)"))) {
                    try row.modelInput(.imageText, maxSeqLength: length)
                }
            }
        }
        #expect(rows == manifest.rows)
    }

    /// Line 1 is `pixelgpt render --text <premise> --pair <hypothesis> --max-seq-length 8`: read back, it is the
    /// same model input as rendering gives.
    @Test func aRenderedStripReadsBackAsTheSameModelInput() throws {
        let manifest = try Manifest.load()
        let entry = try #require(manifest.entries.first { $0.line == 1 })
        let texts = try #require(entry.texts)
        let strip = try RenderFixtures.notoTextRenderer().render(
            try #require(texts["premise"]), pair: try #require(texts["hypothesis"]), maxSeqLength: manifest.maxSeqLength, mode: .rgb)
        guard case .row(let row)? = try RenderedDatasetReader(path: Self.dataset).nextLine() else { Issue.record("line 1 is not a row"); return }
        for transform in [ImageTransform.glueImage, .imageText, .xnliImage] {
            #expect(try row.modelInput(transform, maxSeqLength: manifest.maxSeqLength) == strip.patchModelInput())
        }
    }

    @Test func aCutShortFileReadsItsCompleteLinesThenFails() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.dataset))
        let dir = try RenderFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/cut.gz"
        // Cut inside the first gzip member.
        try bytes.prefix(bytes.count / 4).write(to: URL(fileURLWithPath: path))
        let reader = try RenderedDatasetReader(path: path)
        var rows = 0
        var failure: RenderError?
        do { while let line = try reader.nextLine() { if case .row = line { rows += 1 } } } catch { failure = error }
        let error = try #require(failure, "a cut-short gzip file must not read as complete")
        guard case .cannotRead(let why) = error.problem else { Issue.record("\(error)"); return }
        #expect(error.path == path && why.contains("gzip"), "\(error)")
        #expect(rows >= 1)
    }

    @Test func missingAndNonGzipFilesAreErrors() throws {
        #expect(throws: RenderError(path: "/nonexistent/part-00000.gz", .missingFile(what: "the dataset file"))) {
            try RenderedDatasetReader(path: "/nonexistent/part-00000.gz")
        }
        let dir = try RenderFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/plain.jsonl"
        try Data("{\"image\": \"\", \"num_patches\": 1}\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: RenderError.self) { try Self.readAll(path) }
        let empty = dir + "/empty.gz"
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(throws: RenderError.self) { try Self.readAll(empty) }
    }

    /// nil when the two arrays are bit-identical (so -0 or NaN could not pass for 0); else a short summary.
    static func mismatch(_ actual: [Float], _ expected: [Float]) -> String? {
        guard actual.count == expected.count else { return "\(actual.count) values, \(expected.count) expected" }
        let differing = zip(actual, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
        guard let first = differing.first else { return nil }
        let maxDiff = differing.map { abs($0.element.0 - $0.element.1) * 255 }.max() ?? 0
        return "\(differing.count) values differ, the first at \(first.offset) (\(first.element.0) vs \(first.element.1)), max |diff| \(maxDiff)/255"
    }
}

/// The PNG decoder on its own (the project's only one): files of every supported kind, written by Pillow,
/// decode to Pillow's mode and `convert('RGB')` bytes, and damaged files are refused.
@Suite struct PNGDecoderTests {
    /// Pillow writes one small image per mode (seeded noise), then prints mode, size and the RGB bytes' hex.
    static let pillowScript = """
        import random, sys
        from PIL import Image
        random.seed(5)
        out = sys.argv[1]
        for mode in ["1", "L", "LA", "RGB", "RGBA", "P"]:
            w, h = 7, 3
            image = Image.new(mode, (w, h))
            bands = len(image.getbands())
            image.putdata([tuple(random.randrange(256) for _ in range(bands)) if bands > 1 else random.randrange(2 if mode == "1" else 256) for _ in range(w * h)])
            if mode == "P":
                image.putpalette([random.randrange(256) for _ in range(768)])
            image.save(f"{out}/{mode}.png")
            again = Image.open(f"{out}/{mode}.png")
            print(mode, again.mode, again.size[0], again.size[1], again.convert("RGB").tobytes().hex())
        """

    @Test(.enabled(if: PythonReference.isAvailableOrRequired("PIL")))
    func everyModeDecodesAsPillowReadsIt() throws {
        let dir = try RenderFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = String(decoding: try PythonReference.run(["-c", Self.pillowScript, dir]), as: UTF8.self)
        let lines = output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.count == 6)
        for fields in lines {
            let image = try PNGImage.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + fields[0] + ".png"))))
            #expect(image.mode.rawValue == fields[1], "\(fields[0])")
            #expect(image.width == Int(fields[2]) && image.height == Int(fields[3]), "\(fields[0])")
            #expect(try image.convertedToRGB().hex == fields[4], "\(fields[0])")
        }
    }

    @Test func damagedPNGsAreRefused() throws {
        let dir = try RenderFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/strip.png"
        try PNGFile.write(pixels: [UInt8](repeating: 200, count: 16 * 32 * 3), width: 32, height: 16, channels: 3, to: path)
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try PNGImage.decode(good).samples == [UInt8](repeating: 200, count: 16 * 32 * 3))
        var badCRC = good
        badCRC[20] ^= 1  // inside IHDR's width
        #expect(throws: PNGImage.Failure(message: "bad CRC in the IHDR chunk")) { try PNGImage.decode(badCRC) }
        #expect(throws: PNGImage.Failure.self) { try PNGImage.decode(Array(good.prefix(good.count - 20))) }
        #expect(throws: PNGImage.Failure(message: "not a PNG (bad signature)")) { try PNGImage.decode(Array("GIF89a".utf8)) }
    }

    @Test func eachScriptGetsItsTransform() {
        // SPEC 5.6's table: GLUE image crop with conversion, XNLI image bicubic with conversion, pairs crop only.
        #expect(ImageTransform.forScript(xnli: false, pair: false) == ImageTransform(convertToRGB: true, geometry: .crop))
        #expect(ImageTransform.forScript(xnli: true, pair: false) == ImageTransform(convertToRGB: true, geometry: .bicubic))
        #expect(ImageTransform.forScript(xnli: false, pair: true) == ImageTransform(convertToRGB: false, geometry: .crop))
        #expect(ImageTransform.forScript(xnli: true, pair: true) == ImageTransform(convertToRGB: false, geometry: .crop))
    }

    @Test func bicubicAtTheSameSizeIsACopyAndCropFillsBlack() {
        let pixels = (0 ..< 16 * 20 * 3).map { UInt8($0 % 251) }
        #expect(PILResample.bicubic(pixels, width: 20, height: 16, channels: 3, toWidth: 20, height: 16) == pixels)
        let cropped = ImageTransform.crop(pixels, width: 20, height: 16, toWidth: 32, height: 16)
        for y in 0 ..< 16 {
            #expect(Array(cropped[(y * 32) * 3 ..< (y * 32 + 20) * 3]) == Array(pixels[y * 60 ..< (y + 1) * 60]))
            #expect(cropped[(y * 32 + 20) * 3 ..< (y + 1) * 32 * 3].allSatisfy { $0 == 0 })
        }
    }
}

/// Just enough of the safetensors format to read the F32 fixtures (RenderTests does not depend on SafeTensors):
/// an 8-byte little-endian header length, a JSON header of {name: {dtype, shape, data_offsets}}, the data.
struct TinySafeTensors {
    let header: [String: Any]
    let data: Data

    init(path: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        header = try #require(try JSONSerialization.jsonObject(with: bytes.subdata(in: 8 ..< 8 + length)) as? [String: Any])
        data = bytes.subdata(in: 8 + length ..< bytes.count)
    }

    func floats(_ name: String) throws -> [Float] {
        let entry = try #require(header[name] as? [String: Any], "no tensor \(name)")
        #expect(entry["dtype"] as? String == "F32")
        let offsets = try #require(entry["data_offsets"] as? [Int])
        return data.subdata(in: offsets[0] ..< offsets[1]).withUnsafeBytes { raw in
            (0 ..< (offsets[1] - offsets[0]) / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }
}
