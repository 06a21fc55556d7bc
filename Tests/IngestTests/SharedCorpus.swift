// SharedCorpus.swift -- the development corpus of labelled trap mail, read in place.

import Foundation

/// The development corpus (labelled trap messages and SpamAssassin's Received-parser
/// vectors): the directory named by the environment variable `RBLD_CORPUS`, else
/// `../shared/corpus` next to the package. It is never copied into the repository; where it
/// is absent, the suites that need it are skipped (and say so), except in CI (`CI=true`) or
/// with `RBLD_REQUIRE_CORPUS=1`, where its absence fails them.
enum SharedCorpus {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `RBLD_CORPUS`, else `../shared/corpus` beside the package.
    static var configuredDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["RBLD_CORPUS"], !path.isEmpty {
            return URL(fileURLWithPath: path, relativeTo: packageRoot).standardizedFileURL
        }
        return packageRoot.appendingPathComponent("../shared/corpus").standardizedFileURL
    }

    /// The corpus directory, when it holds a corpus (its `labels.jsonl`).
    static var corpusDirectory: URL? {
        let directory = configuredDirectory
        return FileManager.default.fileExists(atPath: directory.appendingPathComponent("labels.jsonl").path) ? directory : nil
    }

    /// The JSON objects of a `.jsonl` file of the corpus, one a line; nil when it cannot be read.
    static func jsonLines(_ relativePath: String) -> [[String: Any]]? {
        guard let directory = corpusDirectory,
              let data = FileManager.default.contents(atPath: directory.appendingPathComponent(relativePath).path)
        else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// Whether the suites that need the corpus run: when it is there, or when it must be.
    static var isAvailable: Bool { corpusDirectory != nil || isRequired }

    /// In CI the corpus must be there: a suite skipped for lack of it would pass unseen.
    static var isRequired: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || environment["RBLD_REQUIRE_CORPUS"] == "1"
    }
}
