import ArgumentParser
import Checkpoints
import Foundation
import Support

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two checkpoints tensor by tensor; exit 0 only when all match within tolerance.",
        discussion: "Any layouts (names mapped through the weight-name table). Exact by default; an element passes when |a-b| <= atol + rtol*|b|."
    )

    @Argument(help: "First checkpoint.")
    var a: String

    @Argument(help: "Second checkpoint (the reference for rtol).")
    var b: String

    @Option(help: "Absolute tolerance.")
    var atol: Double = 0

    @Option(help: "Relative tolerance (bf16 rounding is 2^-8 = 0.00390625, f16 2^-11).")
    var rtol: Double = 0

    @Flag(help: "Print the comparison as JSON (schema pixelgpt.verify, version 1).")
    var json = false

    func run() throws {
        let report = try reportingErrors { try CheckpointComparison.compare(a, b, tolerance: Tolerance(.elementwise, atol: atol, rtol: rtol)) }
        if json {
            try printJSON(report)
        } else {
            print(render(report), terminator: "")
        }
        if !report.passed { throw ExitCode.failure }
    }

    func render(_ r: CheckpointComparison) -> String {
        var out = ""
        let failed = r.tensors.filter { !$0.passed }
        out += "\(r.tensors.count) tensors compared, \(failed.count) outside atol=\(r.atol) rtol=\(r.rtol)\n"
        let shown = r.worst.compactMap { name in r.tensors.first { $0.name == name } }
        if !shown.isEmpty {
            out += "largest differences:\n"
            for t in shown {
                var line = "  \(t.name)  \(t.dtypeA) vs \(t.dtypeB)  max_abs \(t.maxAbsDiff)  max_rel \(t.maxRelDiff)  mismatches \(t.mismatches)"
                if let bound = t.roundingBound, let within = t.withinRounding {
                    line += within ? "  (within \(t.dtypeA == "BF16" || t.dtypeB == "BF16" ? "bf16" : "f16") rounding, u=\(bound))" : "  (exceeds rounding u=\(bound))"
                }
                out += line + "\n"
            }
        }
        let rounded = r.tensors.filter { $0.withinRounding == true }.count
        if rounded > 0 { out += "\(rounded) tensors differ only by the rounding of the narrower dtype\n" }
        for name in r.onlyInA { out += "only in A: \(name)\n" }
        for name in r.onlyInB { out += "only in B: \(name)\n" }
        for m in r.shapeMismatches { out += "shape differs: \(m.name) \(m.shapeA) vs \(m.shapeB)\n" }
        out += r.passed ? "PASS\n" : "FAIL\n"
        return out
    }
}
