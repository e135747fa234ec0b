import Foundation

/// The family name upstream gives Pango: name-table ID 1 of the font file, read as fontTools'
/// `getDebugName(1)` does (the first English record, Windows 0x409 or Mac English, else the last one) (SPEC 5.2).
enum FontFamilyName {
    static func read(fontFile path: String) throws(RenderError) -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw RenderError(path: path, .missingFile(what: "the font file named by font_file", hint: "on Debian: apt-get install fonts-noto-core fonts-noto-cjk"))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw RenderError(path: path, .cannotRead("permission denied?")) }
        defer { try? handle.close() }
        // Only the table directory and the name table are read, so large collections stay cheap.
        func bytes(_ offset: Int, _ count: Int) throws(RenderError) -> [UInt8] {
            do {
                try handle.seek(toOffset: UInt64(offset))
                let data = try handle.read(upToCount: count) ?? Data()
                guard data.count == count else { throw RenderError(path: path, .notAFont("truncated at byte \(offset)")) }
                return [UInt8](data)
            } catch let error as RenderError { throw error } catch {
                throw RenderError(path: path, .cannotRead(error.localizedDescription))
            }
        }
        func u16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        func u32(_ b: [UInt8], _ i: Int) -> Int { u16(b, i) << 16 | u16(b, i + 2) }

        var fontStart = 0
        let head = try bytes(0, 12)
        if head[0 ..< 4] == [0x74, 0x74, 0x63, 0x66] { fontStart = u32(try bytes(12, 4), 0) }  // 'ttcf': face 0
        let offsetTable = try bytes(fontStart, 12)
        let numTables = u16(offsetTable, 4)
        guard numTables > 0, numTables < 1000 else { throw RenderError(path: path, .notAFont("\(numTables) tables")) }
        let records = try bytes(fontStart + 12, 16 * numTables)
        var nameOffset: Int?
        for t in 0 ..< numTables where records[16 * t ..< 16 * t + 4] == [0x6E, 0x61, 0x6D, 0x65] {  // 'name'
            nameOffset = u32(records, 16 * t + 8)
        }
        guard let nameOffset else { throw RenderError(path: path, .notAFont("no name table")) }
        let nameHead = try bytes(nameOffset, 6)
        let count = u16(nameHead, 2), stringOffset = u16(nameHead, 4)
        let nameRecords = try bytes(nameOffset + 6, 12 * count)
        var someName: String?, englishName: String?
        for r in 0 ..< count {
            let base = 12 * r
            let platform = u16(nameRecords, base), encoding = u16(nameRecords, base + 2)
            let language = u16(nameRecords, base + 4), nameID = u16(nameRecords, base + 6)
            let length = u16(nameRecords, base + 8), offset = u16(nameRecords, base + 10)
            guard nameID == 1 else { continue }
            let raw = try bytes(nameOffset + stringOffset + offset, length)
            let text: String?
            switch (platform, encoding) {
            case (0, _), (3, 0), (3, 1), (3, 10):
                var units: [UInt16] = []
                for i in stride(from: 0, to: raw.count - 1, by: 2) { units.append(UInt16(raw[i]) << 8 | UInt16(raw[i + 1])) }
                text = String(decoding: units, as: UTF16.self)
            case (1, 0): text = String(bytes: raw, encoding: .macOSRoman)
            default: text = nil
            }
            guard let text else { continue }
            someName = text
            if (platform == 1 && language == 0) || (platform == 3 && language == 0x409) { englishName = text; break }
        }
        guard let name = englishName ?? someName, !name.isEmpty else { throw RenderError(path: path, .notAFont("no family name (name ID 1)")) }
        return name
    }
}
