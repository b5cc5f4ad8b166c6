// swift-tools-version:6.0
// The VQGAN workbook: "Taming Transformers" rebuilt from scratch on a CPU, one chapter at a time.
import PackageDescription

// MARK: - System libraries
// Each C library is wrapped by one shim target and imported only by the Swift module that wraps it,
// so chapters never see a pointer. On macOS, BLAS comes from Accelerate instead of OpenBLAS.

let systemLibraries: [Target] = [
    .systemLibrary(
        name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
        providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
    .systemLibrary(
        name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
        providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
    .systemLibrary(
        name: "CGraphviz", path: "Sources/CGraphviz", pkgConfig: "libgvc",
        providers: [.apt(["libgraphviz-dev"]), .brew(["graphviz"])]),
]

let blas: Target.Dependency = .target(name: "CBLAS", condition: .when(platforms: [.linux]))
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

// MARK: - The shared library
// Kernels know nothing of models, models nothing of files, chapters only compose.

let library: [Target] = [
    .target(name: "Tensors", dependencies: [blas]),
    .target(name: "NN", dependencies: ["Tensors"]),
    .target(name: "Imaging", dependencies: ["Tensors", "CPNG"]),
    .target(name: "Diagrams", dependencies: ["CGraphviz"]),
    .target(name: "Datasets", dependencies: ["Tensors", "Imaging"]),
    .target(name: "Taming", dependencies: ["Tensors", "NN"]),
    .target(name: "Workbook", dependencies: ["Tensors", "NN", "Imaging", "Diagrams", argumentParser]),
    // The models one chapter leaves in the cache for the next, and how to find them.
    .target(name: "BookModels", dependencies: ["Tensors", "NN", "Taming", "Workbook"]),
]

// MARK: - Tools: benchmarks and the book's weaver

let tools: [Target] = [
    .executableTarget(
        name: "bench", dependencies: ["Tensors", "NN", "Datasets", "Taming", blas], path: "Benchmarks/bench"),
    .target(name: "BookWeaver"),
    .executableTarget(name: "weave", dependencies: ["BookWeaver"], path: "Tools/weave"),
]

// MARK: - Chapters: one executable per chapter; each main.swift is the chapter

let chapterDependencies: [Target.Dependency] = [
    "Tensors", "NN", "Imaging", "Diagrams", "Datasets", "Taming", "Workbook", "BookModels",
    argumentParser,
]

let chapters: [Target] = [
    .executableTarget(name: "01-pixels", dependencies: chapterDependencies, path: "Chapters/01-pixels"),
    .executableTarget(name: "02-vqvae", dependencies: chapterDependencies, path: "Chapters/02-vqvae"),
    .executableTarget(name: "03-vqgan", dependencies: chapterDependencies, path: "Chapters/03-vqgan"),
    .executableTarget(name: "04-transformer", dependencies: chapterDependencies, path: "Chapters/04-transformer"),
    .executableTarget(name: "05-conditioning", dependencies: chapterDependencies, path: "Chapters/05-conditioning"),
    .executableTarget(name: "06-megapixel", dependencies: chapterDependencies, path: "Chapters/06-megapixel"),
]

// MARK: - Tests: one target per module

let tests: [Target] = [
    .target(name: "TestSupport", dependencies: ["Tensors"], path: "Tests/TestSupport"),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport"]),
    .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"]),
    .testTarget(name: "ImagingTests", dependencies: ["Imaging", "CPNG", "TestSupport"]),
    .testTarget(name: "DiagramsTests", dependencies: ["Diagrams", "TestSupport"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TestSupport"]),
    .testTarget(name: "WorkbookTests", dependencies: ["Workbook", "TestSupport"]),
    .testTarget(name: "BookTests", dependencies: ["BookWeaver"]),
    .testTarget(name: "TamingTests", dependencies: ["Taming", "TestSupport"]),
    // Runs the chapter executables with --quick and checks their output.
    .testTarget(name: "ChapterTests"),
]

let package = Package(
    name: "TamingWorkbook",
    platforms: [.macOS(.v15)],   // Synchronization.Atomic (the kernels' worker pool)
    products: [
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Taming", targets: ["Taming"]),
        .library(name: "Workbook", targets: ["Workbook", "Datasets", "Imaging", "Diagrams"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: systemLibraries + library + tools + chapters + tests,
    // Swift 5 language mode: kernels hand unsafe buffers to Dispatch workers, which Swift 6's strict
    // concurrency checking cannot see are disjoint. Data races are avoided by construction instead.
    swiftLanguageModes: [.v5]
)
