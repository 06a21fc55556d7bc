// Failure.swift -- command failures with sysexits(3) exit codes.

import ArgumentParser
import Glibc
import Publication
import Store

/// Exit codes of sysexits(3), so scripts and MTA `pipe` transports can tell failures apart.
enum Sysexit: Int32, Sendable {
    case ok = 0
    case usage = 64          // EX_USAGE: bad arguments
    case dataError = 65      // EX_DATAERR: bad input data
    case noInput = 66        // EX_NOINPUT: an input file is missing or unreadable
    case unavailable = 69    // EX_UNAVAILABLE: a service (socket, port) is unavailable
    case software = 70       // EX_SOFTWARE: an internal error
    case cantCreate = 73     // EX_CANTCREAT: an output file cannot be created
    case ioError = 74        // EX_IOERR: an I/O error, e.g. the store cannot be opened
    case tempFail = 75       // EX_TEMPFAIL: try again later (an MTA retries)
    case config = 78         // EX_CONFIG: the configuration file is invalid
}

/// A command failure: the message (naming the input) goes to standard error, the process
/// exits with the sysexits code.
struct Failure: Error, CustomStringConvertible {
    let code: Sysexit
    let message: String

    init(_ code: Sysexit, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }
}

extension Failure {
    /// A store error as a command failure with its sysexits code (75 busy, 74 I/O, 65 data).
    init(_ error: StoreError) {
        self.init(Sysexit(rawValue: error.exitCode) ?? .software, error.reason)
    }

    /// A publication failure as a command failure: the store's own exit code when the store
    /// failed (75 busy, 74 I/O, 65 data), 65 for unservable data, 69 for an unbindable address,
    /// 73 for a file that cannot be written.
    init(_ error: PublicationError) {
        switch error.code {
        case .storeUnavailable:
            self.init(error.storeError.flatMap { Sysexit(rawValue: $0.exitCode) } ?? .ioError, error.reason)
        case .badData: self.init(.dataError, error.reason)
        case .cannotBind: self.init(.unavailable, error.reason)
        case .cannotWrite: self.init(.cantCreate, error.reason)
        }
    }
}

extension ExitCode {
    /// A sysexits code, for a command that has already said why.
    init(_ code: Sysexit) { self.init(code.rawValue) }
}

/// Runs a store operation, turning its error into a Failure.
func storeCall<T>(_ body: () throws(StoreError) -> T) throws -> T {
    do { return try body() } catch { throw Failure(error) }
}
