// Progress.swift -- progress of long imports and exports on standard error.
import Foundation
import Glibc
import Synchronization

/// Reports phases and counts of a long operation on standard error.
///
/// On a terminal: one line, rewritten in place (a bar when the total is known) and kept
/// current by a ticker while a long step runs. Otherwise (a log, a pipe): nothing for
/// operations that end within `quietPeriod`, then a plain line at most every
/// `lineInterval`, so scripts of small jobs stay clean and long jobs show they are alive.
final class Progress: Sendable {
    private struct State {
        var text: String
        var lastDraw: ContinuousClock.Instant?
        var drawn = false
        var finished = false
    }

    private let label: String
    private let onTerminal: Bool
    private let start = ContinuousClock.now
    private let state: Mutex<State>

    /// Off a terminal: how long an operation runs before its first line.
    static let quietPeriod: Duration = .seconds(5)
    /// Off a terminal: the time between two lines.
    static let lineInterval: Duration = .seconds(10)

    init(_ label: String) {
        self.label = label
        onTerminal = isatty(2) == 1
        state = Mutex(State(text: label))
        // A step may run long without telling (one store transaction): a ticker keeps the
        // line current meanwhile, and ends with the operation.
        Thread.detachNewThread { [weak self] in
            while true {
                sleep(1)
                guard let progress = self, progress.isRunning else { return }
                progress.show(force: false)
            }
        }
    }

    private var isRunning: Bool { state.withLock { !$0.finished } }

    /// Shows `done` of `total`, as a bar on a terminal.
    func update(_ done: Int, of total: Int, phase: String = "") {
        if onTerminal {
            let width = 30
            let fraction = total > 0 ? Double(done) / Double(total) : 1
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            set("\(label) [\(bar)] \(done)/\(total) \(phase)", force: done == total)
        } else {
            set("\(label): \(done)/\(total) \(phase)", force: false)
        }
    }

    /// Shows the phase the operation has reached.
    func phase(_ text: String) {
        set("\(label): \(text)", force: onTerminal)
    }

    /// Writes other output (a warning, an error line) without mixing it into the bar.
    func interrupt(_ write: () -> Void) {
        state.withLock { state in
            if onTerminal && state.drawn { Progress.writeStandardError("\r\u{1B}[K") }
            state.drawn = false
            write()
        }
    }

    /// Stops the ticker and clears the line on a terminal.
    func finish() {
        state.withLock { state in
            if onTerminal && state.drawn { Progress.writeStandardError("\r\u{1B}[K") }
            state.drawn = false
            state.finished = true
        }
    }

    private func set(_ text: String, force: Bool) {
        state.withLock { $0.text = text }
        show(force: force)
    }

    /// Draws the current text when it is due: on a terminal at most ten times a second
    /// (always when forced); off a terminal after the quiet period, every line interval.
    private func show(force: Bool) {
        let now = ContinuousClock.now
        let elapsed = start.duration(to: now)
        state.withLock { state in
            guard !state.finished else { return }
            let sinceLast = state.lastDraw.map { $0.duration(to: now) }
            if onTerminal {
                guard force || sinceLast.map({ $0 >= .milliseconds(100) }) ?? true else { return }
            } else {
                guard elapsed >= Self.quietPeriod, sinceLast.map({ $0 >= Self.lineInterval }) ?? true else { return }
            }
            state.lastDraw = now
            state.drawn = true
            let seconds = String(format: "%.1fs", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            Progress.writeStandardError(onTerminal ? "\r\u{1B}[K\(state.text) \(seconds)" : "rbld: \(state.text) (\(seconds))\n")
        }
    }

    static func writeStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
