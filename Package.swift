// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]
// The project's own code builds without a warning (review round 2, part C): a warning there fails
// the build. Tests are held to `strict` only.
let source: [SwiftSetting] = strict + [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "ClinicKeep",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "clinickeep", targets: ["clinickeep"]),
        .executable(name: "clinickeep-bench", targets: ["clinickeep-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.34.0"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
    ],
    targets: [
        // Pure layers: no server, no database.
        .target(
            name: "Keyring",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: source
        ),
        .target(
            name: "AuditLedger",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: source
        ),
        .target(name: "ClinicDomain", swiftSettings: source),
        .target(
            name: "ClinicServer",
            dependencies: [
                "Keyring", "AuditLedger", "ClinicDomain",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: source
        ),
        .executableTarget(name: "clinickeep", dependencies: ["ClinicServer"], swiftSettings: source),
        // Measurements, built in release by bench/ledger; never part of the server.
        .executableTarget(name: "clinickeep-bench", dependencies: ["ClinicServer"], swiftSettings: source),
        .target(
            name: "ClinicTestSupport",
            dependencies: [
                "ClinicServer",
                .product(name: "VaporTesting", package: "vapor"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "KeyringTests", dependencies: ["Keyring"], swiftSettings: strict),
        .testTarget(name: "AuditLedgerTests", dependencies: ["AuditLedger"], swiftSettings: strict),
        .testTarget(name: "ClinicDomainTests", dependencies: ["ClinicDomain"], swiftSettings: strict),
        // Reads the sources as text: a static check of SQL building and log calls (no dependencies).
        .testTarget(name: "SourcePolicyTests", swiftSettings: strict),
        .testTarget(
            name: "ClinicServerTests",
            dependencies: ["ClinicServer", "ClinicTestSupport", .product(name: "VaporTesting", package: "vapor")],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
