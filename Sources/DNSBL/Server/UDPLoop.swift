// UDPLoop.swift -- one thread's receive/respond/send cycle over a batch of datagrams.

import CUDPBatch
import Glibc
import Synchronization

/// The body of one UDP serving thread: `recvmmsg` up to `batchSize` datagrams, answer
/// each into its own reply slot, `sendmmsg` the replies (NSD `NUM_RECV_PER_SELECT`).
///
/// All memory (query and reply slots, iovecs, mmsghdrs, the responder session) is
/// allocated once when the thread starts; the per-datagram path allocates nothing and
/// takes no lock. Replies go to the query's source, from the query's destination address
/// when the socket has pktinfo enabled (wildcard binds).
struct UDPLoop<R: QueryResponder>: Sendable {
    let socket: UDPSocket
    let responder: R
    let state: UDPWorkerState
    let batchSize: Int
    let queryCapacity: Int
    let replyCapacity: Int

    /// Runs until `state.stopRequested` is set; it is checked at least every
    /// ``UDPSocket/receiveTimeoutMilliseconds``.
    func run() {
        let slots = UnsafeMutablePointer<udp_slot>.allocate(capacity: batchSize)
        slots.initialize(repeating: udp_slot(), count: batchSize)
        let queries = UnsafeMutableRawPointer.allocate(byteCount: batchSize * queryCapacity, alignment: 16)
        let replies = UnsafeMutableRawPointer.allocate(byteCount: batchSize * replyCapacity, alignment: 16)
        defer {
            slots.deinitialize(count: batchSize)
            slots.deallocate()
            queries.deallocate()
            replies.deallocate()
        }
        for index in 0..<batchSize {
            slots[index].buffer = queries + index * queryCapacity    // in bounds: index < batchSize
            slots[index].capacity = queryCapacity
            slots[index].reply = replies + index * replyCapacity
        }
        guard let batch = udp_batch_create(slots, UInt32(batchSize)) else { return }
        defer { udp_batch_destroy(batch) }

        // A local copy, made once: calls on the stored property copied the responder (and
        // retained each of its references) once per query.
        let responder = self.responder
        var session = responder.makeSession()
        var counters = UDPCounters()
        while !state.stopRequested.load(ordering: .relaxed) {
            let received = Int(udp_recv_batch(socket.descriptor, batch, UInt32(batchSize)))
            guard received > 0 else {
                let failure = received < 0 ? errno : 0
                if failure != 0, failure != EAGAIN, failure != EWOULDBLOCK, failure != EINTR {
                    counters.receiveErrors &+= 1        // wrapping: a 64-bit counter
                    state.publish(counters)
                    if failure == EBADF || failure == ENOTSOCK { return }
                }
                // Nothing came within the receive timeout: look at the snapshot anyway, so
                // that an idle thread does not keep a replaced table alive.
                responder.beginBatch(&session)
                continue
            }
            responder.beginBatch(&session)
            for index in 0..<received {                  // received <= batchSize (recvmmsg vlen)
                let slot = slots + index
                let length = slot.pointee.length
                guard length <= queryCapacity else {     // the shim flags truncation as capacity + 1
                    counters.truncated &+= 1
                    continue                             // replyLength stays 0: nothing is sent
                }
                var high: UInt64 = 0, low: UInt64 = 0
                let client: ClientAddress? = switch udp_slot_peer(slot, &high, &low) {
                case 4: .v4(UInt32(truncatingIfNeeded: low))
                case 6: .v6(UInt128(high) << 64 | UInt128(low))
                default: nil
                }
                let written = responder.respond(
                    to: UnsafeRawBufferPointer(start: slot.pointee.buffer, count: length),
                    into: UnsafeMutableRawBufferPointer(start: slot.pointee.reply, count: replyCapacity),
                    transport: .udp,
                    client: client,
                    session: &session)
                if written > 0 && written <= replyCapacity {
                    slot.pointee.replyLength = written
                    counters.answered &+= 1
                } else {
                    counters.dropped &+= 1
                }
            }
            counters.received &+= UInt64(received)
            var sendErrors: UInt32 = 0
            _ = udp_send_batch(socket.descriptor, batch, UInt32(received), &sendErrors)
            counters.sendErrors &+= UInt64(sendErrors)
            state.publish(counters)
        }
    }
}
