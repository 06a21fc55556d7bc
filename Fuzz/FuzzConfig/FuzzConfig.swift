// FuzzConfig.swift -- libFuzzer target for the configuration loader (`--config FILE`).
//
// RBLD_FUZZ_TARGET=config: the input is a configuration file. It is read as `rbld run`
// reads one: parsed, then turned into what publication and the transfer side use. A file
// the loader refuses must be refused with an error that names the file (and a line of it
// when it gives one); one it accepts must give settings the commands can use without a
// trap. The loader's two source files are compiled in here (symbolic links to
// Sources/rbld/Config): an executable target cannot be linked into another.
// A violated property traps, which libFuzzer reports as a finding.

import CFuzzer

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    let lineCount = yamlLineCount(text)
    do {
        let configuration = try ConfigurationFile.parse(text, file: "fuzz.yaml")
        _ = configuration.publication(applyingDefinitions: true)
        _ = try? configuration.transferPolicy()
        _ = try? configuration.trustedNetworks()
        precondition(!configuration.zoneNames.isEmpty, "an accepted file serves no zone")
    } catch {
        precondition(error.file == "fuzz.yaml", "an error that does not name the file: \(error)")
        if let line = error.line {
            precondition((1...max(1, lineCount + 1)).contains(line), "error on line \(line) of \(lineCount): \(error)")
        }
        precondition(error.description.hasPrefix("fuzz.yaml"), "\(error)")
    }
    return 0
}

/// Lines as YAML 1.1 (libyaml, which the errors' line numbers come from) counts them:
/// CR LF, CR, LF, NEL, LS and PS each end one.
func yamlLineCount(_ text: String) -> Int {
    var breaks = 0
    var afterCR = false
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\r": breaks += 1
        case "\n": if !afterCR { breaks += 1 }
        case "\u{85}", "\u{2028}", "\u{2029}": breaks += 1
        default: break
        }
        afterCR = scalar == "\r"
    }
    return breaks + 1
}

@_cdecl("FuzzConfig_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    rbld_fuzz_main(argc, argv)
}
