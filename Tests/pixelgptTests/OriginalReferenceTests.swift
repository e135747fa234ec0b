import Foundation
import TestSupport
import Testing

/// Issue 18, item 8: README, docs and code cited sections of a specification users of the repository do not
/// have. docs/original.md now holds them: every "SPEC N" (code comments) and "§N" (README, docs, task files)
/// must name one of its sections, and what users read cites no "SPEC N" and no ../shared.
@Suite struct OriginalReferenceTests {
    static let root = PythonReference.repositoryRoot

    /// Section numbers of docs/original.md: headings "## 4. …", "### 3.6 …", "#### 3.6.4 …".
    static func sections() throws -> Set<String> {
        let text = try String(contentsOfFile: root + "/docs/original.md", encoding: .utf8)
        return Set(text.split(separator: "\n").compactMap { line in
            line.firstMatch(of: #/^#{2,4} ([0-9]+(?:\.[0-9]+)*)\.? /#).map { String($0.1) }
        })
    }

    /// The sections a reference names: "SPEC 3.5, 3.6.5-6" → 3.5, 3.6.5, 3.6.6; "§5.3-5.5" → 5.3, 5.5. A
    /// continuation is a one- or two-digit number after ",", "-", "–" or "and" (so "SPEC 1.2, 350,277,632"
    /// names 1.2 only); a short range end replaces the last parts of its start.
    static func references(in text: String) -> [String] {
        var found: [String] = []
        for match in text.matches(of: /(?:SPEC |§)([0-9]{1,2}(?:\.[0-9]+)*)((?:\s*(?:,|-|–|and)\s*[0-9]{1,2}(?:\.[0-9]+)*(?![0-9]|,[0-9]))*)/) {
            let first = String(match.1)
            found.append(first)
            var previous = first.split(separator: ".").map(String.init)
            for part in String(match.2).matches(of: /([,\-–]|and)\s*([0-9]{1,2}(?:\.[0-9]+)*)/) {
                var parts = String(part.2).split(separator: ".").map(String.init)
                if part.1 != ",", part.1 != "and", parts.count < previous.count { parts = Array(previous.prefix(previous.count - parts.count)) + parts }
                found.append(parts.joined(separator: "."))
                previous = parts
            }
        }
        return found
    }

    static func files() throws -> [String] {
        var files = [root + "/README.md"]
        let fm = FileManager.default
        files += try fm.contentsOfDirectory(atPath: root + "/docs").filter { $0.hasSuffix(".md") }.map { root + "/docs/" + $0 }
        for directory in ["Sources", "tasks"] {
            let enumerator = try #require(fm.enumerator(atPath: root + "/" + directory))
            for case let path as String in enumerator where path.hasSuffix(".swift") || path.hasSuffix(".yaml") || path.hasSuffix("_yaml") {
                files.append(root + "/" + directory + "/" + path)
            }
        }
        return files
    }

    @Test func theParserReadsListsAndRanges() {
        #expect(Self.references(in: "(SPEC 3.5, 3.6.5-6)") == ["3.5", "3.6.5", "3.6.6"])
        #expect(Self.references(in: "algorithm (original.md §5.3-5.5; code") == ["5.3", "5.5"])
        #expect(Self.references(in: "SPEC 1.2, 350,277,632 parameters") == ["1.2"])
        #expect(Self.references(in: "(SPEC 4, 11.6-8)") == ["4", "11.6", "11.8"])
        #expect(Self.references(in: "SPEC 12 and §3.6.9") == ["12", "3.6.9"])
        #expect(Self.references(in: "SPEC 2.1, 2.2, 10, 4.") == ["2.1", "2.2", "10", "4"])
    }

    @Test func everyReferenceNamesASectionOfOriginalMd() throws {
        let sections = try Self.sections()
        #expect(sections.isSuperset(of: ["1.1", "2.2", "3", "3.6.7", "4", "5.6", "7.3", "8", "11", "11.10"]), "\(sections.sorted())")
        var cited = 0
        for file in try Self.files() {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for reference in Self.references(in: text) {
                cited += 1
                #expect(sections.contains(reference), "\(file.dropFirst(Self.root.count + 1)) cites §\(reference), which docs/original.md lacks")
            }
            if !file.hasSuffix(".swift") && !file.hasSuffix("original.md") {
                #expect(text.firstMatch(of: /SPEC [0-9]/) == nil, "\(file) cites SPEC; cite docs/original.md §N")
                #expect(!text.contains("../shared"), "\(file) names ../shared, which users of the repository do not have")
            }
        }
        #expect(cited > 100, "the code and docs cite the original's sections")
    }
}
