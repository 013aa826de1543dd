// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of the pure layers (issue 9, item 3), with ordo-one's benchmark package.
// A package of its own so the server's build and CI never resolve the benchmark package; its
// Sources/ are links to the server's own Keyring, AuditLedger and ClinicDomain, so what is
// measured is the code that ships.
//
//   swift package --package-path bench/micro benchmark      (bench/run does this)

let package = Package(
    name: "ClinicKeepMicro",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "Keyring", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "AuditLedger", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "ClinicDomain"),
        .executableTarget(
            name: "ClinicKeepMicro",
            dependencies: [
                "Keyring", "AuditLedger", "ClinicDomain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ClinicKeepMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
