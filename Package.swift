// swift-tools-version:6.0
import PackageDescription

// Numeric and raster code must be fast even in the debug build that `swift run` makes:
// optimise those targets unconditionally and compile for the CPU that builds them (without its
// vector instructions every fused multiply-add becomes a library call). TRAININGCORE_AVX512
// selects the 6 x 32 SIMD16 GEMM kernel: on an AVX-512 CPU it is about 1.5x the 8-lane one; on
// others it still computes the same bits, more slowly (see README, Performance).
let numericFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-Xcc", "-march=native"]),
    .define("TRAININGCORE_AVX512"),
]

let package = Package(
    name: "diagnose",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "diagnose", targets: ["diagnose"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
    ],
    targets: [
        // MARK: Public modules

        /// The run record: the only thing that crosses from training to rendering.
        .target(name: "DiagnoseRecord"),
        /// Tensors, kernels, data, cells, training and the diagnostic probes.
        .target(name: "TrainingCore", dependencies: ["DiagnoseRecord"], swiftSettings: numericFlags),
        /// Raster, text, PNG, charts and the HTML report; reads run records only.
        .target(name: "Renderer", dependencies: ["DiagnoseRecord", "CPNG", "CFreeType"],
                swiftSettings: numericFlags),
        /// The command line.
        .executableTarget(
            name: "diagnose",
            dependencies: [
                "DiagnoseRecord", "TrainingCore", "Renderer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: System-library shims

        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),

        // MARK: Tests

        .testTarget(name: "TrainingCoreTests", dependencies: ["TrainingCore", "DiagnoseRecord"],
                    resources: [.copy("Fixtures")],
                    swiftSettings: numericFlags),
        .testTarget(name: "RendererTests", dependencies: ["Renderer", "DiagnoseRecord", "CPNG"]),
        .testTarget(name: "diagnoseTests", dependencies: ["diagnose", "DiagnoseRecord", "TrainingCore", "Renderer"]),
    ],
    swiftLanguageModes: [.v5]
)
