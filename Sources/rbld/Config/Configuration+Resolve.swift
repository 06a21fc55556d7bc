// Configuration+Resolve.swift -- which configuration a command runs with.

import Foundation

extension Configuration {
    /// The configuration a command runs with: `path` when given (it must exist), else
    /// zones/rbld.yaml when present, else the built-in defaults.
    ///
    /// - Throws: `Failure` 78 (EX_CONFIG) naming the file, line and key.
    static func resolve(_ path: String?) throws -> Configuration {
        let file = path ?? (FileManager.default.fileExists(atPath: defaultPath) ? defaultPath : nil)
        guard let file else { return .defaults }
        do { return try ConfigurationFile.load(file) } catch { throw Failure(.config, "\(error)") }
    }
}
