// swift-tools-version:6.0
import PackageDescription

// Numeric and raster code must be fast even in the debug build that `swift run` makes:
// optimise those targets unconditionally and compile them for one CPU (without its vector
// instructions every fused multiply-add becomes a library call). DIAGNOSE_MARCH names that CPU
// (default `native`, the one building; `DIAGNOSE_MARCH=x86-64-v3 swift build` targets every AVX2
// machine). x86-64 takes it as -march, arm64 as -mcpu. The GEMM reads what the target has from the
// CPUTarget shim (16-lane AVX-512, 8-lane AVX2 or 4-lane NEON registers) and picks its tile; every
// choice computes the same bits.
let targetCPU = Context.environment["DIAGNOSE_MARCH"].flatMap { $0.isEmpty ? nil : $0 } ?? "native"
#if arch(arm64)
let cpuFlag = "-mcpu=\(targetCPU)"
#else
let cpuFlag = "-march=\(targetCPU)"
#endif
let numericFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-Xcc", cpuFlag]),
]

let package = Package(
    name: "diagnose",
    // Synchronization (the worker pool's Atomic) needs macOS 15.
    platforms: [.macOS(.v15)],
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
        .target(name: "TrainingCore", dependencies: ["DiagnoseRecord", "CPUTarget"], swiftSettings: numericFlags),
        /// Raster, text, PNG, charts and the HTML report; reads run records only.
        .target(name: "Renderer", dependencies: ["DiagnoseRecord", "CPNG", "CFreeType"],
                swiftSettings: numericFlags),
        /// The benchmark harness: configurations, timed windows, child processes, contention.
        .target(name: "BenchHarness", dependencies: ["DiagnoseRecord", "TrainingCore"]),
        /// The command line.
        .executableTarget(
            name: "diagnose",
            dependencies: [
                "DiagnoseRecord", "TrainingCore", "Renderer", "BenchHarness",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: System-library shims

        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2",
                       providers: [.apt(["libfreetype-dev"]), .brew(["freetype"])]),
        /// The vector width of the CPU the numeric targets are compiled for (a header, no library).
        .systemLibrary(name: "CPUTarget"),

        // MARK: Tests

        .testTarget(name: "TrainingCoreTests", dependencies: ["TrainingCore", "DiagnoseRecord"],
                    resources: [.copy("Fixtures")],
                    swiftSettings: numericFlags),
        .testTarget(name: "RendererTests", dependencies: ["Renderer", "DiagnoseRecord", "CPNG"]),
        .testTarget(name: "diagnoseTests", dependencies: ["diagnose", "DiagnoseRecord", "TrainingCore", "Renderer"]),
    ],
    swiftLanguageModes: [.v5]
)
