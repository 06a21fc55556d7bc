// ProcessEnvironment.swift -- what the commands ask of the process around them: time, CPU, host, user.

import Foundation

/// Unix seconds now.
func unixNow() -> Int64 { Int64(time(nil)) }

/// User plus system CPU time of this process, so that a busy machine does not distort a
/// throughput figure. (glibc's `clock()` reads `CLOCK_PROCESS_CPUTIME_ID`; `CLOCKS_PER_SEC`
/// is 1,000,000 as POSIX's XSI requires, and `clock_t` is 64 bits here.)
func processCPUSeconds() -> Double {
    Double(clock()) / 1_000_000
}

/// This machine's host name (the LMTP greeting's), `localhost` when it has none.
func hostName() -> String {
    var host = [UInt8](repeating: 0, count: 256)
    _ = host.withUnsafeMutableBufferPointer { gethostname(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 255) }
    let name = String(decoding: host.prefix { $0 != 0 }, as: UTF8.self)
    return name.isEmpty ? "localhost" : name
}

/// Who acts, for the audit trail: $SUDO_USER, else $USER, else the uid.
var auditActor: String {
    let environment = ProcessInfo.processInfo.environment
    return environment["SUDO_USER"] ?? environment["USER"] ?? "uid:\(getuid())"
}
