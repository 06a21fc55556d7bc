// ChildProcess.swift -- programs the tests start: posix_spawn, then waitpid, nothing else.
//
// Foundation's `Process.waitUntilExit()` spins a run loop and can park a test thread
// forever on Linux when many tests spawn at once, and `fork()` in the multithreaded test
// process can leave the child deadlocked on a lock another thread held. Both hung CI for
// 90 minutes; this type does neither: the child is a fresh program image, and every wait
// is bounded and ends with SIGKILL.

import Foundation
import Glibc

public final class ChildProcess: @unchecked Sendable {
    /// How the child ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit \(code)"
            case .signaled(let signal): "signal \(signal)"
            }
        }
    }

    public let pid: Int32
    /// Where stdout and stderr went (nil: /dev/null).
    public let logPath: String?
    private var ended: Termination?

    /// Starts `executable` with `arguments`; stdin is `input` (or /dev/null), stdout and
    /// stderr go to `logPath` (or /dev/null), stderr to `errorPath` instead when given.
    /// `newProcessGroup` puts the child and all it starts in a group of their own, so
    /// `signalGroup` reaches every one of them.
    public init(_ executable: String, _ arguments: [String], input: [UInt8]? = nil, logPath: String? = nil,
                errorPath: String? = nil, newProcessGroup: Bool = false) throws {
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var inputFile: String?
        if let input {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("rbld-stdin-\(UUID().uuidString)").path
            guard FileManager.default.createFile(atPath: path, contents: Data(input)) else {
                throw ChildProcessError("cannot write the standard input of \(executable) to \(path)")
            }
            inputFile = path
        }
        defer { if let inputFile { unlink(inputFile) } }  // the child holds it open
        posix_spawn_file_actions_addopen(&actions, 0, inputFile ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The test process may block signals on its threads; the child starts with none blocked.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = Int16(POSIX_SPAWN_SETSIGMASK)
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int16(POSIX_SPAWN_SETPGROUP)
        }
        posix_spawnattr_setflags(&attributes, flags)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    deinit { _ = wait(seconds: 0) }

    public func signal(_ number: Int32) { if ended == nil { kill(pid, number) } }

    /// Signals the child's process group (see `newProcessGroup`).
    public func signalGroup(_ number: Int32) { if ended == nil { kill(-pid, number) } }

    /// Whether the child is still running (reaps it when it is not).
    public var isRunning: Bool { poll() == nil }

    /// Waits up to `seconds` for the child to end. If it does not, kills it and returns nil.
    @discardableResult
    public func wait(seconds: Double) -> Termination? {
        let deadline = Date().addingTimeInterval(seconds)
        while poll() == nil {
            if Date() >= deadline {
                kill(pid, SIGKILL)
                while poll() == nil { usleep(1_000) }
                return nil
            }
            usleep(10_000)
        }
        return ended
    }

    /// Waits up to `seconds`; the exit code, or nil when it was killed or did not exit.
    public func exitCode(within seconds: Double) -> Int32? {
        if case .exited(let code)? = wait(seconds: seconds) { return code }
        return nil
    }

    /// What the child wrote to stdout and stderr so far.
    public var output: String {
        guard let logPath else { return "" }
        return (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    private func poll() -> Termination? {
        if let ended { return ended }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else {
            if result < 0 && errno == ECHILD { ended = .exited(-1) }  // reaped elsewhere: not ours to know
            return ended
        }
        let signal = status & 0x7F
        ended = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
        return ended
    }

    /// Runs a program to its end (killed after `seconds`); its exit status and output.
    public static func run(_ executable: String, _ arguments: [String], input: [UInt8]? = nil,
                           seconds: Double = 60) throws -> (termination: Termination?, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("rbld-out-\(UUID().uuidString)").path
        defer { unlink(log) }
        let child = try ChildProcess(executable, arguments, input: input, logPath: log)
        let termination = child.wait(seconds: seconds)
        return (termination, child.output)
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
