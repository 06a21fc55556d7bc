// FuzzIngest.swift -- libFuzzer targets for what ingest reads from the outside: mail and Received headers.
//
// RBLD_FUZZ_TARGET=message: the input is one trap message, parsed (MIME, encodings,
// delivery status) and classified; a hit must name a source that may be one.
// RBLD_FUZZ_TARGET=received: the input is the value of one Received header; an address
// found in it must be one address (a host), never a network.
// A violated property traps, which libFuzzer reports as a finding.

import CFuzzer
import Glibc
@testable import Ingest
import Store

let trusted = TrustedNetworks()
let target = getenv("RBLD_FUZZ_TARGET").map { String(cString: $0) } ?? "message"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    if target == "received" {
        let header = ReceivedHeader(value: bytes)
        if let address = header.clientAddress {
            precondition(address.length == address.family.bitCount, "client \(address) is not one address")
        }
    } else {
        let classification = classify(message: bytes, trustedNetworks: trusted)
        if classification.isHit, let source = classification.sourceIP {
            precondition(trusted.mayBeSource(source), "hit on \(source), which may not be a source")
        }
        precondition(!classification.reason.isEmpty, "a verdict without a reason")
    }
    return 0
}

@_cdecl("FuzzIngest_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    rbld_fuzz_main(argc, argv)
}
