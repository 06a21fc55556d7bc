// Progress.swift -- a progress line on standard error for long imports and exports (only on a terminal).
import Foundation
import Glibc

/// Reports phases and counts of a long operation on one rewritten stderr line.
///
/// Silent unless standard error is a terminal, so scripts and logs stay clean.
final class Progress {
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let label: String

    init(_ label: String) {
        self.label = label
        enabled = isatty(2) == 1
    }

    /// Shows `done` of `total` as a bar (throttled to 10 redraws a second).
    func update(_ done: Int, of total: Int, phase: String = "") {
        guard enabled else { return }
        let now = Date()
        guard done == total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let width = 30
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        draw("\(label) [\(bar)] \(done)/\(total) \(phase)")
    }

    /// Shows a phase without a count.
    func phase(_ text: String) {
        guard enabled else { return }
        draw("\(label): \(text)")
    }

    /// Clears the line.
    func finish() {
        guard enabled else { return }
        Progress.writeStandardError("\r\u{1B}[K")
    }

    private func draw(_ text: String) {
        let elapsed = String(format: "%.1fs", Date().timeIntervalSince(start))
        Progress.writeStandardError("\r\u{1B}[K\(text) \(elapsed)")
    }

    static func writeStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
