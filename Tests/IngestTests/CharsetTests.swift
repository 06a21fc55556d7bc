// CharsetTests.swift -- text in the charsets mail declares, decoded to UTF-8.

import Testing
@testable import Ingest

@Suite struct CharsetTests {
    private func decoded(_ bytes: [UInt8], _ charset: String) -> (text: String, clean: Bool) {
        var output: [UInt8] = []
        let clean = Charset.appendDecoded(bytes[...], charset: Array(charset.utf8), to: &output)
        return (String(decoding: output, as: UTF8.self), clean)
    }

    /// The same words as their charsets encode them (bytes from Python's codecs).
    @Test(arguments: [
        ("koi8-r", [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4], "Привет"),
        ("KOI8-U", [0xBD, 0xC1, 0xD7, 0xC1], "Ґава"),
        ("gb2312", [0xCD, 0xCB, 0xD0, 0xC5], "退信"),
        ("GB18030", [0xCD, 0xCB, 0xD0, 0xC5], "退信"),
        ("euc-kr", [0xC0, 0xDA, 0xB5, 0xBF, 0xC0, 0xC0, 0xB4, 0xE4], "자동응답"),
        ("iso-8859-7", [0xC1, 0xF5, 0xF4, 0xFC, 0xEC, 0xE1, 0xF4, 0xE7], "Αυτόματη"),
        ("big5", [0xA6, 0xDB, 0xB0, 0xCA, 0xA6, 0x5E, 0xC2, 0xD0], "自動回覆"),
        ("shift_jis", [0x8E, 0xA9, 0x93, 0xAE, 0x95, 0xD4, 0x90, 0x4D], "自動返信"),
        ("iso-2022-jp", [0x1B, 0x24, 0x42, 0x3C, 0x2B, 0x46, 0x30, 0x4A, 0x56, 0x3F, 0x2E, 0x1B, 0x28, 0x42], "自動返信"),
        ("windows-1254", [0x4F, 0x74, 0x6F, 0x6D, 0x61, 0x74, 0x69, 0x6B, 0x20, 0x79, 0x61, 0x6E, 0xFD, 0x74], "Otomatik yanıt"),
        ("\"ISO-8859-1\"", [0x66, 0xFC, 0x72], "für"),
    ] as [(String, [UInt8], String)])
    func decodes(_ charset: String, _ bytes: [UInt8], _ expected: String) {
        let result = decoded(bytes, charset)
        #expect(result.text == expected)
        #expect(result.clean)
    }

    /// Bytes that are not valid in the declared charset are skipped, the rest kept, and the
    /// text reported as not clean.
    @Test func invalidBytesAreSkippedAndReported() {
        let result = decoded([0x41, 0xFF, 0xCD, 0xCB, 0xD0, 0xC5, 0x42], "euc-kr")
        #expect(!result.clean)
        #expect(result.text.hasPrefix("A"))
        #expect(result.text.hasSuffix("B"))
    }

    /// A charset the C library does not know keeps the ASCII and reads the rest as Latin-1.
    @Test func anUnknownCharsetFallsBackToLatin1() {
        let result = decoded([0x6F, 0x6B, 0xE9], "x-no-such-charset")
        #expect(result.text == "oké")
        let garbage = decoded([0x6F, 0x6B], "bad charset;name")
        #expect(garbage.text == "ok")
    }

    /// Input longer than the conversion buffer is converted whole.
    @Test func longInputIsConvertedWhole() {
        let bytes = [UInt8](repeating: 0xF0, count: 10_000)   // KOI8-R П, two UTF-8 bytes each
        let result = decoded(bytes, "koi8-r")
        #expect(result.text.count == 10_000)
        #expect(result.text.allSatisfy { $0 == "П" })
    }
}
