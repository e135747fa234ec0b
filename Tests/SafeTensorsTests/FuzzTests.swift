import Support
import Foundation
import Testing
@testable import SafeTensors

/// Mutates valid files many times; every mutant must either be rejected with a SafeTensorsError or read
/// cleanly, with every tensor's bytes and values reachable. A crash fails the whole test run.
@Suite struct FuzzTests {
    /// SplitMix64: deterministic, so a failure reproduces from its iteration number.
    typealias Generator = SplitMix64

    static let headerAlphabet = Array(#"{}[]":,0123456789-.e "F32I64BOOLdtypeshapedata_offsets__metadata__\"#.utf8)

    static func mutate(_ file: [UInt8], _ rng: inout Generator) -> [UInt8] {
        var bytes = file
        let headerEnd = min(bytes.count, 8 + Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } & 0xFFFF))
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { break }
            switch Int.random(in: 0..<9, using: &rng) {
            case 0:  // flip a bit anywhere
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1, 2:  // replace a header byte by a JSON-significant one
                let i = Int.random(in: 8..<max(9, headerEnd), using: &rng) % bytes.count
                bytes[i] = headerAlphabet.randomElement(using: &rng)!
            case 3:  // delete a header byte
                let i = Int.random(in: 8..<max(9, headerEnd), using: &rng) % bytes.count
                bytes.remove(at: i)
            case 4:  // insert a header byte
                let i = Int.random(in: 8..<max(9, headerEnd), using: &rng) % bytes.count
                bytes.insert(headerAlphabet.randomElement(using: &rng)!, at: i)
            case 5:  // truncate
                bytes.removeLast(Int.random(in: 1...min(bytes.count, 16), using: &rng))
            case 6:  // extend
                bytes += (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 7:  // change the header length
                guard bytes.count >= 8 else { break }
                let delta = Int64.random(in: -16...16, using: &rng)
                var n = Int64(bitPattern: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) &+ delta
                if Bool.random(using: &rng) { n = Int64.random(in: Int64.min...Int64.max, using: &rng) }
                withUnsafeBytes(of: n.littleEndian) { for k in 0..<8 { bytes[k] = $0[k] } }
            default:  // overwrite a digit in the header with another digit (moves offsets and shapes)
                let digits = (8..<headerEnd).filter { $0 < bytes.count && (0x30...0x39).contains(bytes[$0]) }
                if let i = digits.randomElement(using: &rng) { bytes[i] = UInt8.random(in: 0x30...0x39, using: &rng) }
            }
        }
        return bytes
    }

    @Test func mutatedFilesFailCleanlyOrReadCleanly() throws {
        let seeds = [
            try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("reference_layout.safetensors")))),
            try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("sharded/model-00001-of-00002.safetensors")))),
            handMadeFile(header: #"{"__metadata__":{"k":"v"},"s":{"dtype":"F8_E4M3","shape":[],"data_offsets":[0,1]},"e":{"dtype":"BF16","shape":[0,3],"data_offsets":[1,1]},"h":{"dtype":"F16","shape":[2],"data_offsets":[1,5]}}"#,
                         data: [0x38, 0x00, 0x3C, 0xFF, 0x7F]),
        ]
        var rng = Generator(state: 0x5AFE_7E45)
        var accepted = 0, rejected = 0
        for iteration in 0..<6000 {
            let mutant = Self.mutate(seeds[iteration % seeds.count], &rng)
            do {
                let file = try SafeTensorsFile(bytes: mutant, path: "fuzz-\(iteration)")
                accepted += 1
                var covered = 0
                for info in file.tensorInfos {
                    let view = try file.tensor(named: info.name)
                    #expect(view.bytes().count == info.byteCount)
                    covered += info.byteCount
                    if info.dtype.convertsToFloat32 {
                        #expect(try view.float32Values().count == info.elementCount)
                    }
                }
                #expect(8 + file.header.headerLength + covered == mutant.count, "iteration \(iteration)")
            } catch {
                rejected += 1
                #expect(!"\(error)".isEmpty && !"\(error)".contains("\n"))
            }
        }
        // Both outcomes must actually occur, or the mutator is not exercising the reader.
        #expect(accepted > 100 && rejected > 1000, "accepted \(accepted), rejected \(rejected)")
    }
}
