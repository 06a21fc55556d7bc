// ProcessEnvironment.swift -- what the commands ask of the process around them: time, CPU, host, user.

import Foundation

/// Unix seconds now.
func unixNow() -> Int64 { Int64(time(nil)) }

/// User plus system CPU time of this process (getrusage), so that a busy machine does not
/// distort a throughput figure.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
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
