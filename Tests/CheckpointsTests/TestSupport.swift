import Foundation
@_exported import TestSupport

/// Committed fixtures (scripts/make_hdf5_fixtures.py) and the SafeTensors fixtures beside them.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static func path(_ name: String) -> String { directory + "/" + name }
    static let safeTensorsFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SafeTensorsTests/Fixtures").path
    static let repositoryRoot = PythonReference.repositoryRoot
}

