// Classify.swift -- `rbld classify`: classify and attribute trap messages, write nothing.

import ArgumentParser
import Foundation
import Ingest
import Store

/// `rbld classify --trusted-networks CIDR[,CIDR...] [--json] [--files-from LIST] FILE...`
///
/// A dry run of ingest's decision: for each file, print the verdict, kind, source IP and
/// reason (one JSON object per line with `--json`, as docs/CLI.md describes). Files are read
/// and classified one at a time in one process, so a corpus can be measured in one run.
/// Exit status (sysexits): 0 ok; 64 usage; 65 a file was not a mail message (empty or no
/// header; its JSON is still printed); 74 a file could not be read (named on stderr; the
/// other files are still classified).
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify and attribute trap messages without storing anything.",
        discussion: """
            Prints, for each FILE ('-' reads standard input), whether it is backscatter, \
            its kind (dsn, autoreply, challenge, virus, unknown-bounce, none), the source IP \
            (the first Received hop outside the trusted networks; 127.0.0.0/8 is always \
            trusted), the deciding classification rule and the reason. --explain adds every \
            rule that concluded and the evidence found; --list-rules prints the rules in the \
            order they are tried.
            """
    )

    @Option(name: .customLong("trusted-networks"),
            help: ArgumentHelp("Comma-separated CIDRs of the trap's own relays.", valueName: "CIDR[,CIDR...]"))
    var trustedNetworks: [String] = []

    @Flag(help: "Print one JSON object per file.")
    var json = false

    @Flag(help: "Print counts and throughput to standard error at the end.")
    var summary = false

    @Flag(help: "Also print, for each file, the classification rules that concluded (the first decided) and the evidence found.")
    var explain = false

    @Flag(name: .customLong("list-rules"), help: "Print the classification rules in the order they are tried, and exit.")
    var listRules = false

    @Option(name: .customLong("files-from"),
            help: ArgumentHelp("Also classify the files listed in LIST, one path a line ('-': standard input).", valueName: "LIST"))
    var filesFrom: String?

    @Argument(help: ArgumentHelp("Message files (raw RFC 5322); '-' for standard input.", valueName: "FILE"))
    var files: [String] = []

    func validate() throws {
        _ = try parsedNetworks()
        if listRules { return }
        guard !files.isEmpty || filesFrom != nil else { throw ValidationError("Give at least one FILE, or --files-from LIST.") }
        if filesFrom == "-" && files.contains("-") {
            throw ValidationError("Standard input cannot be both the file list and a message.")
        }
    }

    /// The command-line files followed by those of `--files-from`.
    private func allFiles() throws -> [String] {
        guard let list = filesFrom else { return files }
        let data: Data?
        if list == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: list)
        }
        guard let data else {
            FileHandle.standardError.write(Data("rbld classify: \(list): cannot read the file list\n".utf8))
            throw ExitCode(.ioError)
        }
        let listed = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        return files + listed
    }

    private func parsedNetworks() throws -> TrustedNetworks {
        do {
            return try TrustedNetworks(parsing: trustedNetworks.joined(separator: ","))
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        if listRules {
            printTable(header: ["#", "RULE", "WHEN IT APPLIES AND WHAT IT CONCLUDES"],
                       rows: Classification.rules.enumerated().map { ["\($0.offset + 1)", $0.element.name, $0.element.summary] })
            return
        }
        let networks = try parsedNetworks()
        var output = OutputBuffer()
        var ioFailures = 0
        var dataFailures = 0
        var counts: [Classification.Verdict: Int] = [:]
        let start = Date()
        let startCPU = processCPUSeconds()
        for file in try allFiles() {
            let bytes: [UInt8]
            switch MessageFile.read(file) {
            case .success(let read):
                bytes = read
            case .failure(let error):
                output.flush()
                ioFailures += 1
                FileHandle.standardError.write(Data("rbld classify: \(file): \(error.message)\n".utf8))
                continue
            }
            let result = Ingest.classify(message: bytes, trustedNetworks: networks)
            counts[result.verdict, default: 0] += 1
            if result.defects.contains(.noHeader) {
                dataFailures += 1
                output.flush()
                let what = bytes.isEmpty ? "empty file" : "no RFC 5322 header found"
                FileHandle.standardError.write(Data("rbld classify: \(file): not a mail message (\(what))\n".utf8))
            }
            if json {
                output.append(Self.jsonLine(file: file, result, explain: explain))
            } else {
                output.append(Self.textLine(file: file, result))
                if explain { output.append(Self.explanation(result)) }
            }
        }
        output.flush()
        if summary {
            let seconds = Date().timeIntervalSince(start)
            let cpu = processCPUSeconds() - startCPU
            let total = counts.values.reduce(0, +)
            let parts = Classification.Verdict.allCases.map { "\($0.rawValue)=\(counts[$0, default: 0])" }
            let line = "rbld classify: \(total) messages in \(String(format: "%.3f", seconds)) s wall, "
                + "\(String(format: "%.3f", cpu)) s CPU (\(Int(cpu > 0 ? Double(total) / cpu : 0)) msg/s per CPU second); "
                + parts.joined(separator: " ") + "; unreadable=\(ioFailures)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        if ioFailures > 0 { throw ExitCode(.ioError) }
        if dataFailures > 0 { throw ExitCode(.dataError) }
    }

    /// The JSON object docs/CLI.md describes, one line.
    static func jsonLine(file: String, _ result: Classification, explain: Bool = false) -> String {
        var line = "{\"file\":" + JSONText.quoted(file)
        line += ",\"verdict\":\"" + result.verdict.rawValue + "\""
        line += ",\"kind\":\"" + result.kind.rawValue + "\""
        line += ",\"source_ip\":" + (result.sourceIP.map { JSONText.quoted($0.description) } ?? "null")
        line += ",\"reason\":" + JSONText.quoted(result.reason)
        line += ",\"rule\":" + JSONText.quoted(result.rule)
        if result.verdict == .backscatter { line += ",\"strength\":\"" + result.strength.rawValue + "\"" }
        line += ",\"digest\":\"" + result.digest.description + "\""
        if let mta = result.reportingMTA { line += ",\"reporting_mta\":" + JSONText.quoted(mta) }
        if explain {
            line += ",\"evidence\":[" + result.evidence.map(JSONText.quoted).joined(separator: ",") + "]"
            line += ",\"matched_rules\":[" + result.matchedRules.map(JSONText.quoted).joined(separator: ",") + "]"
        }
        line += "}\n"
        return line
    }

    static func textLine(file: String, _ result: Classification) -> String {
        let source = result.sourceIP?.description ?? "-"
        let strength = result.verdict == .backscatter ? " strength=\(result.strength.rawValue)" : ""
        return "\(file): \(result.verdict.rawValue) kind=\(result.kind.rawValue)\(strength) source=\(source) "
            + "rule=\(result.rule): \(result.reason)\n"
    }

    /// `--explain`: the rules that concluded (the first decided) and the evidence found.
    static func explanation(_ result: Classification) -> String {
        var text = ""
        if result.matchedRules.isEmpty {
            text += "    rules: none concluded\n"
        } else {
            text += "    rules: " + result.matchedRules.enumerated()
                .map { $0.offset == 0 ? "\($0.element) (decided)" : $0.element }.joined(separator: ", ") + "\n"
        }
        if result.verdict == .backscatter {
            text += "    strength: " + strengthMeaning(result.strength, kind: HitKind(result.kind)) + "\n"
        }
        text += "    evidence:\n"
        text += result.evidence.map { "      \($0)\n" }.joined()
        return text
    }

    /// What a hit of this strength and kind does to its source's listing under the default
    /// policy (each zone sets its own: `rbld show` prints it).
    static func strengthMeaning(_ strength: EvidenceStrength, kind: HitKind) -> String {
        let policy = ListingPolicy.defaults
        let weight = policy.weight(kind, strength)
        let score = "adds \(numberText(weight)) to its source's score (weight of \(kind.rawValue) \(numberText(policy.weight(kind)))"
            + (strength == .weak ? " × weak-weight \(numberText(policy.weakWeight))" : "")
            + "; threshold \(numberText(policy.threshold)))"
        switch strength {
        case .strong:
            let lists = weight >= policy.threshold ? "lists its source on its own" : "lists its source once the score reaches the threshold"
            return "strong (the message's structure): by the default policy a hit \(lists); it " + score
        case .weak:
            let rule = policy.corroboration
            return "weak (wording with little structure): by the default policy a hit counts only when corroborated, "
                + "by \(rule.weakHits) weak hits from \(rule.traps) traps within \(durationText(rule.window)) or by a strong hit; "
                + "then it " + score + ". Each zone's policy sets these (`rbld show` prints the zone's)"
        }
    }

    private static func numberText(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// Reading one message file with the size cap of `MessageLimits`.
private enum MessageFile {
    struct ReadError: Error {
        let message: String
    }

    static func read(_ path: String) -> Result<[UInt8], ReadError> {
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                return .failure(ReadError(message: "no such file"))
            }
            guard !isDirectory.boolValue else { return .failure(ReadError(message: "is a directory")) }
            guard let opened = FileHandle(forReadingAtPath: path) else {
                return .failure(ReadError(message: "cannot open for reading (permission denied?)"))
            }
            handle = opened
        }
        defer { if path != "-" { try? handle.close() } }
        do {
            // One byte past the cap tells the parser the message was truncated.
            let data = try handle.read(upToCount: MessageLimits.maxMessageByteCount + 1) ?? Data()
            return .success([UInt8](data))
        } catch {
            return .failure(ReadError(message: "read failed: \(error.localizedDescription)"))
        }
    }
}

/// JSON string escaping (RFC 8259 §7).
private enum JSONText {
    static func quoted(_ text: String) -> String {
        var output = "\""
        output.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
        return output
    }
}

/// Buffered standard output (one write per ~64 KB, not per line).
private struct OutputBuffer {
    private var pending: [UInt8] = []

    mutating func append(_ text: String) {
        pending.append(contentsOf: text.utf8)
        if pending.count >= 64 << 10 { flush() }
    }

    mutating func flush() {
        guard !pending.isEmpty else { return }
        FileHandle.standardOutput.write(Data(pending))
        pending.removeAll(keepingCapacity: true)
    }
}
