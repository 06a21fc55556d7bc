// RequiredTool.swift -- third-party programs some tests run, and what happens without them.

import Foundation

/// A program a test runs (dig, rbldnsd). Where it is not installed the test is skipped, so
/// the suite runs on a machine without them; in CI (`CI=true`, or `RBLD_REQUIRE_TOOLS=1`)
/// the test runs anyway and fails, naming what is missing, instead of passing unseen.
public enum RequiredTool {
    /// Whether a test that runs `path` should run.
    public static func available(_ path: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: path) || isRequired
    }

    static var isRequired: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || environment["RBLD_REQUIRE_TOOLS"] == "1"
    }
}
