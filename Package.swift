// swift-tools-version:6.0
// pixelgpt-swift: convert, run and evaluate the released PixelGPT checkpoints on the CPU.
// Targets by job, dependencies one way; docs/architecture.md gives the graph (ArchitectureTests holds this
// file and every import to it): Support at the bottom; SafeTensors, Model, Text, Render on it; Training on
// Model; Checkpoints (formats) on SafeTensors and Model; Numerics and Eval on those; Report on Eval; the
// pixelgpt tool on top. Model never imports a file format.
import PackageDescription

let package = Package(
    name: "pixelgpt-swift",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pixelgpt", targets: ["pixelgpt"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "Checkpoints", targets: ["Checkpoints"]),
        .library(name: "Model", targets: ["Model"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Text", targets: ["Text"]),
        .library(name: "Render", targets: ["Render"]),
        .library(name: "Eval", targets: ["Eval"]),
        .library(name: "Report", targets: ["Report"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Task files are YAML (tasks/, lm-evaluation-harness style).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries, each found through pkg-config (scripts/setup.sh installs them).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPangoCairo", pkgConfig: "pangocairo", providers: [.apt(["libpango1.0-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // The bottom: one SHA-256, SplitMix64, staged writes, JSON Lines, project resources.
        .target(name: "Support"),
        .target(name: "SafeTensors", dependencies: ["Support"]),
        // The forward pass's GEMM: C for run-time choice of AVX-512 / AVX2 / scalar micro-kernels (Swift has
        // no per-function target features). Optimised in debug builds too, and never contracted: each
        // product is an explicit FMA, so every path computes the same bits.
        .target(name: "CGEMM", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),
        .target(name: "Model", dependencies: ["Support", "CGEMM", "COpenBLAS"]),
        // The trainable tail (--train-layers): the model's own decoder layer forward, backward kernels beside it.
        .target(name: "Training", dependencies: ["Support", "Model", "COpenBLAS"]),
        .target(name: "Checkpoints", dependencies: ["Support", "SafeTensors", "Model", "CHDF5"]),
        .target(name: "Text", dependencies: ["Support", "CJSONC"]),
        .target(name: "Render", dependencies: ["Support", "CPangoCairo", "CZlib"]),
        // Numerics regression: record, check and diff forward outputs, the forward command's file contract,
        // invariance checks, probes built from Text and Render.
        .target(name: "Numerics", dependencies: ["Support", "SafeTensors", "Model", "Checkpoints", "Text", "Render"]),
        .target(name: "Eval", dependencies: ["Support", "Checkpoints", "SafeTensors", "Model", "Training", "Text", "Render", .product(name: "Yams", package: "Yams")]),
        // Tables and charts over eval results; the task groups' files say what they show.
        .target(name: "Report", dependencies: ["Support", "Eval", "Render", "SafeTensors", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "pixelgpt",
            dependencies: [
                "Support", "Checkpoints", "SafeTensors", "Model", "Text", "Render", "Numerics", "Eval", "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Helpers shared by the test targets (temporary directories, child processes, the Python reference).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support", "TestSupport"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "Support", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelTests", dependencies: ["Support", "Model", "Training", "Numerics", "Checkpoints", "SafeTensors", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Support", "Checkpoints", "SafeTensors", "Model", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "Support", "CJSONC", "TestSupport", "pixelgpt"], exclude: ["Fixtures"]),
        .testTarget(name: "RenderTests", dependencies: ["Render", "Support", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "NumericsTests", dependencies: ["Numerics", "Checkpoints", "Model", "SafeTensors", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EvalTests", dependencies: ["Support", "Text", "Eval", "Checkpoints", "Model", "Render", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Eval", "Render", "TestSupport"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CHDF5", "COpenBLAS", "CPangoCairo", "CJSONC"]),
        // The command-line contract, run against the built executable.
        .testTarget(name: "pixelgptTests", dependencies: ["pixelgpt", "SafeTensors", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
