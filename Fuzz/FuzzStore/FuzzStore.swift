// FuzzStore.swift -- libFuzzer target for the list-file parser (`rbld import`).
//
// RBLD_FUZZ_TARGET=listfile: the input is a list file, read as plain when its first byte
// is even and as rbldnsd's ip4set/ip6trie syntax when odd. Every entry and every error
// must name a line of the file, and every entry's prefix must read back as itself.
// A violated property traps, which libFuzzer reports as a finding.

import CFuzzer
import Store

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let format: ListFileParser.Format = (bytes.first ?? 0) % 2 == 0 ? .plain : .rbldnsd
    let result = ListFileParser.parse(bytes, format: format, fileName: "fuzz.txt")
    for entry in result.entries {
        precondition((1...max(1, result.lineCount)).contains(entry.line), "entry on line \(entry.line) of \(result.lineCount)")
        precondition(IPPrefix(entry.prefix.description) == entry.prefix, "\(entry.prefix) does not read back")
    }
    for error in result.errors {
        precondition((1...max(1, result.lineCount)).contains(error.line), "error on line \(error.line) of \(result.lineCount)")
        precondition(error.description.hasPrefix("fuzz.txt:"), "an error that does not name the file")
    }
    return 0
}

@_cdecl("FuzzStore_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    rbld_fuzz_main(argc, argv)
}
