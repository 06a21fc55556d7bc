// TSIG.swift -- transaction signatures of transfer requests and responses (RFC 8945, HMAC-SHA256).

import Crypto
import Foundation  // DataProtocol, which HMAC reads

/// A TSIG record as found at the end of a request (RFC 8945 §4.2).
///
/// ```
/// NAME  key name          TYPE TSIG (250)   CLASS ANY (255)   TTL 0
/// RDATA Algorithm Name | Time Signed (48 bits) | Fudge | MAC Size | MAC |
///       Original ID | Error | Other Len | Other Data
/// ```
struct TSIGRecord: Equatable {
    /// The key name in canonical (lowercase) wire form.
    var keyName: [UInt8]
    /// The algorithm name in canonical wire form.
    var algorithm: [UInt8]
    var timeSigned: UInt64
    var fudge: UInt16
    var mac: [UInt8]
    var originalID: UInt16
    var error: UInt16
    var otherData: [UInt8]
    /// Where the record starts: the message it signs is everything before it.
    var recordStart: Int
}

/// TSIG constants, request checks and response signing.
enum TSIG {
    static let type: UInt16 = 250
    static let classAny: UInt16 = 255
    /// Seconds of clock difference accepted, and offered in responses (RFC 8945 §10: 300).
    static let fudge: UInt16 = 300
    /// HMAC-SHA256 output; shorter (truncated) MACs are not accepted.
    static let macSize = 32

    /// TSIG error codes (RFC 8945 §3, in the record's Error field).
    enum Failure: UInt16 {
        case badSignature = 16
        case badKey = 17
        case badTime = 18
        case badTruncation = 22
    }

    /// What the end of a message holds.
    enum Found: Equatable {
        case none
        case record(TSIGRecord)
        /// A TSIG record that cannot be read, or one that is not the last record.
        case malformed
    }

    /// Finds the TSIG record, which must be the last record of the additional section
    /// (RFC 8945 §5.1). Names are skipped without following pointers.
    static func find(in message: UnsafeRawBufferPointer) -> Found {
        guard message.count >= WireLimits.headerSize else { return .malformed }
        let questions = Int(message.loadBigEndianUInt16(at: 4))
        let records = Int(message.loadBigEndianUInt16(at: 6)) + Int(message.loadBigEndianUInt16(at: 8))
            + Int(message.loadBigEndianUInt16(at: 10))
        var offset = WireLimits.headerSize
        for _ in 0..<questions {
            guard let end = skipName(message, from: offset), end + 4 <= message.count else { return .malformed }
            offset = end + 4
        }
        var found = Found.none
        for index in 0..<records {
            let start = offset
            guard let ownerEnd = skipName(message, from: offset), ownerEnd + 10 <= message.count else { return .malformed }
            let type = message.loadBigEndianUInt16(at: ownerEnd)
            let rdLength = Int(message.loadBigEndianUInt16(at: ownerEnd + 8))
            let end = ownerEnd + 10 + rdLength
            guard end <= message.count else { return .malformed }
            if type == Self.type {
                guard index == records - 1, message.loadBigEndianUInt16(at: ownerEnd + 2) == classAny,
                      let record = parse(message, start: start, ownerEnd: ownerEnd, rdataEnd: end)
                else { return .malformed }
                found = .record(record)
            }
            offset = end
        }
        return found
    }

    private static func parse(_ message: UnsafeRawBufferPointer, start: Int, ownerEnd: Int, rdataEnd: Int) -> TSIGRecord? {
        guard let keyName = uncompressedName(message, from: start, end: ownerEnd) else { return nil }
        let rdata = ownerEnd + 10
        guard let algorithmEnd = skipName(message, from: rdata), algorithmEnd <= rdataEnd,
              let algorithm = uncompressedName(message, from: rdata, end: algorithmEnd),
              algorithmEnd + 10 <= rdataEnd
        else { return nil }
        var offset = algorithmEnd
        let timeSigned = UInt64(message.loadBigEndianUInt16(at: offset)) << 32
            | UInt64(message.loadBigEndianUInt16(at: offset + 2)) << 16 | UInt64(message.loadBigEndianUInt16(at: offset + 4))
        let fudge = message.loadBigEndianUInt16(at: offset + 6)
        let macSize = Int(message.loadBigEndianUInt16(at: offset + 8))
        offset += 10
        guard offset + macSize + 6 <= rdataEnd else { return nil }
        let mac = Array(message[offset..<(offset + macSize)])
        offset += macSize
        let originalID = message.loadBigEndianUInt16(at: offset)
        let error = message.loadBigEndianUInt16(at: offset + 2)
        let otherLength = Int(message.loadBigEndianUInt16(at: offset + 4))
        offset += 6
        guard offset + otherLength == rdataEnd else { return nil }
        return TSIGRecord(keyName: keyName, algorithm: algorithm, timeSigned: timeSigned, fudge: fudge, mac: mac,
                          originalID: originalID, error: error, otherData: Array(message[offset..<rdataEnd]),
                          recordStart: start)
    }

    /// A name's labels in lowercase, or nil when it is compressed.
    private static func uncompressedName(_ message: UnsafeRawBufferPointer, from start: Int, end: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var offset = start
        while offset < end {
            let length = Int(message[offset])
            guard length & 0xC0 == 0 else { return nil }
            bytes.append(UInt8(length))
            for index in 0..<length { bytes.append(asciiLowercase(message[offset + 1 + index])) }
            offset += 1 + length
            if length == 0 { break }
        }
        return offset == end ? bytes : nil
    }

    /// The end of the name at `start` (a pointer ends it), or nil when malformed.
    static func skipName(_ message: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var offset = start
        while offset < message.count {
            let length = message[offset]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 { return offset + 1 }
                offset += 1 + Int(length)
                guard offset - start <= WireLimits.maxNameLength else { return nil }
            case 0xC0:
                return offset + 2 <= message.count ? offset + 2 : nil
            default:
                return nil
            }
        }
        return nil
    }

    /// Checks a request's signature with `key` (RFC 8945 §5.2): the MAC over the message
    /// as sent before signing (the TSIG record removed, ARCOUNT one less, the original ID)
    /// and the TSIG variables.
    static func verify(_ record: TSIGRecord, message: UnsafeRawBufferPointer, key: TSIGKey, now: Int64) -> Failure? {
        guard record.algorithm == TSIGKey.algorithmWireName else { return .badKey }
        guard record.mac.count == macSize else { return .badTruncation }
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key.secret))
        var header = Array(message[0..<WireLimits.headerSize])
        header[0] = UInt8(record.originalID >> 8)
        header[1] = UInt8(truncatingIfNeeded: record.originalID)
        let additional = (UInt16(header[10]) << 8 | UInt16(header[11])) &- 1
        header[10] = UInt8(additional >> 8)
        header[11] = UInt8(truncatingIfNeeded: additional)
        hmac.update(data: header)
        hmac.update(data: Array(message[WireLimits.headerSize..<record.recordStart]))
        hmac.update(data: variables(keyName: record.keyName, algorithm: record.algorithm, time: record.timeSigned,
                                    fudge: record.fudge, error: record.error, otherData: record.otherData))
        let expected = Array(hmac.finalize())
        var difference: UInt8 = 0
        for (a, b) in zip(expected, record.mac) { difference |= a ^ b }  // constant time
        guard difference == 0 else { return .badSignature }
        let skew = now - Int64(record.timeSigned)
        guard skew.magnitude <= UInt64(record.fudge) else { return .badTime }
        return nil
    }

    /// The TSIG variables (RFC 8945 §4.3.3).
    static func variables(keyName: [UInt8], algorithm: [UInt8], time: UInt64, fudge: UInt16, error: UInt16,
                          otherData: [UInt8]) -> [UInt8] {
        var bytes = keyName
        bytes += [UInt8(classAny >> 8), UInt8(truncatingIfNeeded: classAny), 0, 0, 0, 0]
        bytes += algorithm
        bytes += timerBytes(time: time, fudge: fudge)
        bytes += [UInt8(error >> 8), UInt8(truncatingIfNeeded: error)]
        bytes += [UInt8(otherData.count >> 8), UInt8(truncatingIfNeeded: otherData.count)] + otherData
        return bytes
    }

    static func timerBytes(time: UInt64, fudge: UInt16) -> [UInt8] {
        [UInt8(truncatingIfNeeded: time >> 40), UInt8(truncatingIfNeeded: time >> 32), UInt8(truncatingIfNeeded: time >> 24),
         UInt8(truncatingIfNeeded: time >> 16), UInt8(truncatingIfNeeded: time >> 8), UInt8(truncatingIfNeeded: time),
         UInt8(fudge >> 8), UInt8(truncatingIfNeeded: fudge)]
    }
}

/// Signs the messages of one response (RFC 8945 §5.3): the first over the request's MAC,
/// the message and the TSIG variables; each later one over the previous MAC, the message
/// and the timers only (§5.3.1), so a secondary can check every message of a transfer.
struct TSIGSigner {
    let key: TSIGKey
    let originalID: UInt16
    /// The MAC the next message chains from: the request's, then each message's own.
    private var priorMAC: [UInt8]
    private var first = true

    /// Chains from the MAC of the request being answered.
    init(key: TSIGKey, requestMAC: [UInt8], originalID: UInt16) {
        self.key = key
        priorMAC = requestMAC
        self.originalID = originalID
    }

    /// Signs a request (a NOTIFY): the first MAC covers the message and variables only.
    init(request key: TSIGKey, originalID: UInt16) {
        self.key = key
        priorMAC = []
        self.originalID = originalID
        isRequest = true
    }

    /// A request has no prior MAC at all, not even its length (RFC 8945 §4.3.1).
    private var isRequest = false

    /// Room a TSIG record takes at the end of a message.
    var recordSize: Int { key.wireName.count + 10 + TSIGKey.algorithmWireName.count + 10 + TSIG.macSize + 6 + 6 }

    /// Appends the TSIG record to the message in `writer` (whose header is at offset 0)
    /// and counts it in ARCOUNT. `error` and `otherData` are for error responses.
    mutating func sign(_ writer: inout ResponseWriter, now: Int64, error: UInt16 = 0, otherData: [UInt8] = []) -> Bool {
        let time = UInt64(max(0, now))
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key.secret))
        if !(isRequest && first) {
            hmac.update(data: [UInt8(priorMAC.count >> 8), UInt8(truncatingIfNeeded: priorMAC.count)] + priorMAC)
        }
        hmac.update(data: UnsafeRawBufferPointer(rebasing: writer.buffer[0..<writer.offset]))
        if first {
            hmac.update(data: TSIG.variables(keyName: key.wireName, algorithm: TSIGKey.algorithmWireName, time: time,
                                             fudge: TSIG.fudge, error: error, otherData: otherData))
        } else {
            hmac.update(data: TSIG.timerBytes(time: time, fudge: TSIG.fudge))
        }
        let mac = Array(hmac.finalize())
        guard TSIGSigner.writeRecord(&writer, keyName: key.wireName, time: time, mac: mac, originalID: originalID,
                                     error: error, otherData: otherData)
        else { return false }
        priorMAC = mac
        first = false
        return true
    }

    /// Writes a TSIG record (MAC may be empty: an unsigned error, RFC 8945 §5.3.2) and
    /// adds one to ARCOUNT.
    static func writeRecord(_ writer: inout ResponseWriter, keyName: [UInt8], time: UInt64, mac: [UInt8],
                            originalID: UInt16, error: UInt16, otherData: [UInt8]) -> Bool {
        let rdLength = TSIGKey.algorithmWireName.count + 10 + mac.count + 6 + otherData.count
        let timers = TSIG.timerBytes(time: time, fudge: TSIG.fudge)
        guard keyName.withUnsafeBytes({ writer.write($0) }), writer.write(TSIG.type), writer.write(TSIG.classAny),
              writer.write(UInt32(0)), writer.write(UInt16(rdLength)),
              TSIGKey.algorithmWireName.withUnsafeBytes({ writer.write($0) }),
              timers.withUnsafeBytes({ writer.write($0) }), writer.write(UInt16(mac.count)),
              mac.withUnsafeBytes({ writer.write($0) }), writer.write(originalID), writer.write(error),
              writer.write(UInt16(otherData.count)), otherData.withUnsafeBytes({ writer.write($0) })
        else { return false }
        let additional = writer.buffer.loadUnaligned(fromByteOffset: 10, as: UInt16.self).bigEndian &+ 1
        writer.patch(additional, at: 10)
        return true
    }
}
