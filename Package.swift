// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Each function in its own section, so the release link can order them (releaseLinking).
    // Codegen is unchanged. (The frontend keeps an object whose IR did not change, so an
    // existing build directory gets this only for the files it recompiles.)
    .unsafeFlags(["-Xfrontend", "-function-sections"], .when(platforms: [.linux], configuration: .release)),
]

// How the release executable is linked, so that `rbld serve` keeps few pages of its
// ~100 MB static binary resident (RSS):
// - lld (shipped with the toolchain) instead of gold: it can do the next two.
// - `-z pack-relative-relocs`: the PIE's ~97k relative relocations as a 19 KB DT_RELR
//   table (glibc >= 2.36) instead of a 2.3 MB .rela.dyn that the loader reads at every start.
//   The executable stays position-independent (ASLR).
// - `--no-export-dynamic`: the toolchain's static-stdlib-args.lnk exports every symbol of
//   the package's object files (17.6k entries of .dynsym/.dynstr/.gnu.hash, loaded at start);
//   nothing looks them up (backtraces read .symtab; the one dlopen, libcrypto, is RTLD_LOCAL).
// - `--symbol-ordering-file scripts/rbld.order`: the functions that start-up and answering
//   run (a profile, see scripts/gen-order-file) first and together in .text, instead of
//   spread over 20 MB of which the kernel's 64 KiB fault-around then maps half. A stale
//   list costs only pages, never correctness: names it no longer finds are skipped.
// Release only: debug builds and tests link as before.
let releaseLinking: [LinkerSetting] = [
    .unsafeFlags([
        "-use-ld=lld",
        "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
        "-Xlinker", "--no-export-dynamic",
        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/scripts/rbld.order",
        "-Xlinker", "--no-warn-symbol-ordering",
    ], .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "rbld",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rbld", targets: ["rbld"]),
        .library(name: "DNSBL", targets: ["DNSBL"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Publication", targets: ["Publication"]),
        .library(name: "Web", targets: ["Web"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The web side (Sources/Web). Hummingbird's default traits pull in swift-configuration
        // and full Foundation, which the web side does not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // C libraries from Debian (-dev packages), see scripts/bootstrap.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // libldns: the tests read DNS packets with it, independently of DNSBL's wire code.
        .systemLibrary(name: "CLDNS", pkgConfig: "ldns", providers: [.apt(["libldns-dev"])]),
        // C the Glibc module does not show, each shim named for what it holds:
        // recvmmsg/sendmmsg batches and UDP socket options (the UDP server),
        .target(name: "CUDPBatch"),
        // thread names, malloc_trim and statx (glibc's GNU extensions),
        .target(name: "CGNUExtensions"),
        // and single-writer counters that other threads read (query statistics).
        .target(name: "CRelaxedCounter"),
        .target(name: "CMemoryHints"),

        // DNS wire format, prefix table, zone semantics (Foundation- and NIO-free),
        // and UDP/TCP serving (Server/ only).
        .target(
            name: "DNSBL",
            dependencies: [
                "CUDPBatch", "CGNUExtensions", "CRelaxedCounter", "CMemoryHints",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),  // TSIG's HMAC (Transfer/ only)
            ],
            swiftSettings: upcoming
        ),
        // The SQLite store, the listing policy and its precedence, scoring and aging, the
        // list-file formats, and the one IP address/prefix type everything else uses.
        .target(
            name: "Store",
            dependencies: ["CSQLite", "CGNUExtensions"],
            swiftSettings: upcoming
        ),
        // Message parsing, classification, attribution and the feeds (Maildir, mbox, stdin,
        // LMTP sessions) that turn trap mail into hits in the store.
        .target(
            name: "Ingest",
            dependencies: ["Store"],
            swiftSettings: upcoming
        ),
        // Store → zones → frozen tables → DNS server: start-up, the publisher that follows
        // the store's change log, the snapshot cache.
        .target(
            name: "Publication",
            dependencies: [
                "DNSBL", "Store", "CGNUExtensions",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        // The public pages, the JSON API and the admin pages over HTTP: lookups and evidence
        // (trap details removed), self-service delisting, statistics.
        .target(
            name: "Web",
            dependencies: [
                "Store",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        // The executable: CLI commands, configuration, and the service groups of `run` and `serve`.
        .executableTarget(
            name: "rbld",
            dependencies: [
                "DNSBL", "Store", "Ingest", "Publication", "Web",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),   // the LMTP listener (Ingesting/)
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),  // the metrics endpoint (Observability/)
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),            // the configuration file (Config/)
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),  // `rbld web-password`
            ],
            swiftSettings: upcoming,
            linkerSettings: releaseLinking
        ),
        // What the test targets share: starting and reaping the programs they run.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: upcoming),
        // DNS messages as the tests build and read them (their own decoder, and libldns),
        // independently of DNSBL's wire code.
        .target(name: "DNSTestSupport", dependencies: ["CLDNS"], path: "Tests/DNSTestSupport", swiftSettings: upcoming),
        // glibc's GNU calls for tests (a thread held on one CPU).
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
        .testTarget(name: "DNSBLTests", dependencies: ["DNSBL", "DNSTestSupport", "TestSupport", "CTestSupport",
                                                    .product(name: "NIOCore", package: "swift-nio"),
                                                    .product(name: "NIOPosix", package: "swift-nio")], resources: [.copy("Fixtures")], swiftSettings: upcoming),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TestSupport"], swiftSettings: upcoming),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "Store", "TestSupport"], resources: [.copy("Fixtures")], swiftSettings: upcoming),
        .testTarget(name: "PublicationTests", dependencies: ["Publication", "DNSBL", "Store", "TestSupport", "DNSTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "WebTests", dependencies: ["Web", "Store", "Ingest", "TestSupport"], swiftSettings: upcoming),
        .testTarget(name: "rbldTests", dependencies: ["rbld", "DNSBL", "Store", "Ingest", "Publication", "Web", "TestSupport"], swiftSettings: upcoming),
    ]
)

// libFuzzer targets (Fuzz/, run by scripts/fuzz). Only with RBLD_FUZZ=1: each defines the
// entry points libFuzzer calls, and they are built with -sanitize=fuzzer,address in a
// scratch path of their own, never by a plain `swift build`.
if Context.environment["RBLD_FUZZ"] == "1" {
    package.targets += [
        .target(name: "CFuzzer", path: "Fuzz/CFuzzer"),
        .executableTarget(
            name: "FuzzDNS",
            dependencies: [
                "DNSBL", "CFuzzer", "DNSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Fuzz/FuzzDNS", swiftSettings: upcoming),
        .executableTarget(name: "FuzzIngest", dependencies: ["Ingest", "Store", "CFuzzer"], path: "Fuzz/FuzzIngest",
                          swiftSettings: upcoming),
        .executableTarget(name: "FuzzStore", dependencies: ["Store", "CFuzzer"], path: "Fuzz/FuzzStore",
                          swiftSettings: upcoming),
        // The configuration loader's files are linked into Fuzz/FuzzConfig from Sources/rbld/Config.
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [
                "DNSBL", "Ingest", "Publication", "Store", "Web", "CFuzzer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Fuzz/FuzzConfig", swiftSettings: upcoming),
    ]
}
