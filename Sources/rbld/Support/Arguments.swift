// Arguments.swift -- command-line values every command reads the same way.

import ArgumentParser
import Foundation
import Store

/// Parses an address or CIDR argument strictly (host bits set is a usage error that names the network).
func parsePrefixArgument(_ text: String) throws -> IPPrefix {
    switch IPPrefix.parse(text) {
    case .success(let prefix): return prefix
    case .failure(.hostBitsSet(let masked)): throw Failure(.dataError, "\(text): host bits set; did you mean \(masked)?")
    case .failure(let error): throw Failure(.dataError, "\(text): \(error)")
    }
}

/// A `--reason` that says something: the audit trail keeps it.
func validateReason(_ reason: String) throws {
    guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must not be empty") }
}

/// A duration in whole seconds: `3600`, `90m`, `12h`, `7d`, `2w`, `1w2d`.
func parseDurationArgument(_ text: String, option: String) throws -> Int64 {
    guard let seconds = ListFileParser.parseDuration(Substring(text)), seconds > 0 else {
        throw Failure(.usage, "\(option) \(text): expected a duration like 3600, 12h, 7d or 2w")
    }
    return Int64(seconds)
}

extension Duration {
    /// A duration given in seconds (a command-line number like 0.2), to the millisecond.
    init(secondsArgument seconds: Double) {
        self = .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// In seconds, for logs and rates.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// `4d`, `12h`, `90m`, `30s`: the largest unit that divides `seconds` (how durations are
/// written in the configuration and printed back).
func durationText(_ seconds: Int64) -> String {
    for (unit, size) in [("w", Int64(604_800)), ("d", 86400), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0 {
        return "\(seconds / size)\(unit)"
    }
    return "\(seconds)s"
}
