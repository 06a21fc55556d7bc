// StandardOutput.swift -- what the commands print: lines on standard error, JSON, and flushing.

import Foundation
import Glibc

/// Writes a line to standard error.
func printError(_ line: String) {
    let text = Array((line + "\n").utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Pretty JSON of a result, for --json.
func printJSON(_ value: some Encodable) throws {
    print(try prettyJSON(value))
}

/// A value as the commands' JSON writes it: indented, keys sorted, slashes unescaped.
func prettyJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Flushes standard output (and every other C stream), so that start-up lines reach a pipe
/// or log file before the process settles into serving. (Swift 6 forbids naming `stdout`.)
func flushStandardOutput() {
    fflush(nil)
}
