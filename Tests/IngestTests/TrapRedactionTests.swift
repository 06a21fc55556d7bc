// TrapRedactionTests.swift -- the trap's local part leaves a stored excerpt wherever it stands.

import Testing
@testable import Ingest

@Suite struct TrapRedactionTests {
    @Test(arguments: [
        ("as an address", "To: Sales.Winter7@catch.example", "To: [trap]@catch.example"),
        ("alone, quoted in a subject", "Subject: Re: offer for sales.winter7", "Subject: Re: offer for [trap]"),
        ("alone, in parentheses", "Subject: failed (SALES.WINTER7)", "Subject: failed ([trap])"),
        ("inside a longer word: kept", "Subject: xsales.winter7y", "Subject: xsales.winter7y"),
        ("with a plus extension inside a longer local part: kept", "To: sales.winter7+x@other.example", "To: sales.winter7+x@other.example"),
    ])
    func localPartIsRedacted(_ name: String, _ text: String, _ expected: String) {
        #expect(TrapAddress.redact(text, addresses: ["<sales.winter7@catch.example>"]) == expected, "\(name)")
    }

    @Test func shortLocalPartsOnlyAsAddresses() {
        #expect(TrapAddress.redact("Subject: ab and ab@x.example", addresses: ["ab@x.example"]) == "Subject: ab and [trap]@x.example")
    }
}
