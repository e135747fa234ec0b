import Foundation
@_exported import TestSupport

/// The committed numerics baseline (scripts/numerics_record_fixture.sh).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static func path(_ name: String) -> String { directory + "/" + name }
}
