// swift-tools-version:6.0
// pixelgpt-swift: convert, run and evaluate the released PixelGPT checkpoints on the CPU.
// Layout and dependency rules: ../shared/DESIGN.md. Dependencies point one way:
// pixelgpt -> Checkpoints -> (Model, SafeTensors); Training -> Model; Text and Render stand alone; Model
// never imports a file format or Training.
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

        .target(name: "SafeTensors"),
        // The forward pass's GEMM: C for run-time choice of AVX-512 / AVX2 / scalar micro-kernels (Swift has
        // no per-function target features). Optimised in debug builds too, and never contracted: each
        // product is an explicit FMA, so every path computes the same bits.
        .target(name: "CGEMM", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),
        .target(name: "Model", dependencies: ["CGEMM", "COpenBLAS"]),
        // The trainable tail (--train-layers): the model's own decoder layer forward, backward kernels beside it.
        .target(name: "Training", dependencies: ["Model", "COpenBLAS"]),
        .target(name: "Checkpoints", dependencies: ["SafeTensors", "Model", "CHDF5"]),
        .target(name: "Text", dependencies: ["CJSONC"]),
        .target(name: "Render", dependencies: ["CPangoCairo", "CZlib"]),
        .target(name: "Eval", dependencies: ["Checkpoints", "SafeTensors", "Model", "Training", "Text", "Render", "CPangoCairo", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "pixelgpt",
            dependencies: [
                "Checkpoints", "SafeTensors", "Model", "Text", "Render", "Eval",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Helpers shared by the test targets (temporary directories, child processes, the Python reference).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "Checkpoints", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Training", "Checkpoints", "SafeTensors", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "SafeTensors", "Model", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "CJSONC", "TestSupport", "pixelgpt"], exclude: ["Fixtures"]),
        .testTarget(name: "RenderTests", dependencies: ["Render"], exclude: ["Fixtures"]),
        .testTarget(name: "EvalTests", dependencies: ["Eval", "Checkpoints", "Model", "Training", "Render", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CHDF5", "COpenBLAS", "CPangoCairo", "CJSONC"]),
        // The command-line contract, run against the built executable.
        .testTarget(name: "pixelgptTests", dependencies: ["pixelgpt", "SafeTensors", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
