// swift-tools-version:6.0
// Petrel: a persistent, distributed message broker that speaks RocketMQ 4.x's protocol.
// The target graph follows DEVELOPERS.md's layout table; Tests/LayoutTests enforces it.
import Foundation
import PackageDescription

/// The package's directory: the linker needs the export list by absolute path.
let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

let package = Package(
    name: "Petrel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PetrelCore", targets: ["PetrelCore"]),
        .library(name: "PetrelStore", targets: ["PetrelStore"]),
        .library(name: "PetrelRemoting", targets: ["PetrelRemoting"]),
        .library(name: "PetrelClient", targets: ["PetrelClient"]),
        .library(name: "PetrelPluginHost", targets: ["PetrelPluginHost"]),
        // libpetrel.so: the C API (include/petrel.h). `make lib` links it with the Swift runtime inside.
        .library(name: "petrel", type: .dynamic, targets: ["PetrelC"]),
        .executable(name: "petrel-bench", targets: ["petrel-bench"]),
        .executable(name: "petrel-store-writer", targets: ["petrel-store-writer"]),
        .executable(name: "petrel-broker", targets: ["petrel-broker"]),
        .executable(name: "petrel-namesrv", targets: ["petrel-namesrv"]),
        .executable(name: "petrel-admin", targets: ["petrel-admin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "PetrelCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "PetrelStore",
            dependencies: [
                "PetrelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PetrelRemoting",
            dependencies: [
                "PetrelCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PetrelPluginHost",
            dependencies: [
                "PetrelCore",
                "CPetrel",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PetrelNameServer",
            dependencies: [
                "PetrelCore",
                "PetrelRemoting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PetrelBroker",
            dependencies: [
                "PetrelCore",
                "PetrelStore",
                "PetrelRemoting",
                "PetrelPluginHost",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PetrelClient",
            dependencies: [
                "PetrelCore",
                "PetrelRemoting",
                "PetrelPluginHost",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The C headers as one Clang module: include/petrel.h (the C API) and include/petrel_plugin.h (the plugin ABI).
        .target(name: "CPetrel", path: "Sources/CPetrel"),
        // The exported C API. libpetrel.so carries the Swift runtime and Foundation inside (-static-stdlib plus
        // Foundation's own static libraries, which static linking does not pull in by itself), so it runs
        // where no Swift toolchain is installed; only petrel_* symbols leave it (Sources/PetrelC/exports.map),
        // so a host with its own Swift runtime sees no clash; `-z defs` turns a missing piece into a link
        // error instead of a load-time one.
        .target(
            name: "PetrelC",
            dependencies: [
                "PetrelCore", "PetrelClient", "CPetrel", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["exports.map"],
            linkerSettings: [
                .unsafeFlags([
                    "-static-stdlib", "-lCoreFoundation", "-l_FoundationICU", "-l_FoundationCollections", "-l_FoundationCShims",
                    "-Xlinker", "--version-script=\(packageDirectory)/Sources/PetrelC/exports.map",
                    "-Xlinker", "-soname=libpetrel.so", "-Xlinker", "-z", "-Xlinker", "defs",
                ])
            ]
        ),
        .executableTarget(
            name: "petrel-bench",
            dependencies: [
                "PetrelCore",
                .product(name: "NIOCore", package: "swift-nio"),
                "PetrelStore",
                "PetrelClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "petrel-store-writer",
            dependencies: [
                "PetrelCore",
                "PetrelStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "petrel-namesrv",
            dependencies: [
                "PetrelCore",
                "PetrelRemoting",
                "PetrelNameServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "petrel-broker",
            dependencies: [
                "PetrelCore",
                "PetrelStore",
                "PetrelRemoting",
                "PetrelNameServer",
                "PetrelBroker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "petrel-admin",
            dependencies: [
                "PetrelCore",
                "PetrelRemoting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers the network test targets share (bounded waits, raw sockets); tests only.
        .target(
            name: "PetrelTestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/PetrelTestSupport"
        ),
        .testTarget(name: "PetrelCoreTests", dependencies: ["PetrelCore"]),
        .testTarget(
            name: "PetrelStoreTests",
            dependencies: [
                "PetrelCore",
                "PetrelStore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PetrelRemotingTests",
            dependencies: [
                "PetrelTestSupport",
                "PetrelCore",
                "PetrelRemoting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PetrelNameServerTests",
            dependencies: [
                "PetrelTestSupport",
                "PetrelCore",
                "PetrelRemoting",
                "PetrelNameServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PetrelBrokerTests",
            dependencies: [
                "PetrelCore",
                "PetrelStore",
                "PetrelRemoting",
                "PetrelBroker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PetrelClientTests",
            dependencies: [
                "PetrelCore",
                "PetrelRemoting",
                "PetrelClient",
                "PetrelPluginHost",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PetrelPluginHostTests",
            dependencies: [
                "PetrelCore",
                "PetrelPluginHost",
                "CPetrel",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LayoutTests"),
    ],
    swiftLanguageModes: [.v6]
)
