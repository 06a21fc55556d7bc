// CUDPBatch.h -- batched UDP I/O (recvmmsg/sendmmsg) and the UDP socket options and
// addresses the server needs.
//
// Glibc's Swift module hides recvmmsg, sendmmsg and struct mmsghdr (they need
// _GNU_SOURCE), so the UDP server reaches them through these wrappers.
#ifndef CUDPBATCH_H
#define CUDPBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

/// Room for one IP_PKTINFO or IPV6_PKTINFO control message:
/// CMSG_SPACE(sizeof(struct in6_pktinfo)) = 16 + 20 rounded up to 8 = 40 on LP64.
#define UDP_CONTROL_CAPACITY 64

/// One slot of a batch: the query buffer, the reply buffer and the peer address.
typedef struct udp_slot {
    void *buffer;                     // query bytes (receive)
    size_t capacity;                  // query buffer size
    size_t length;                    // bytes received; capacity + 1 when truncated
    void *reply;                      // reply bytes (send); may equal buffer
    size_t replyLength;               // bytes to send; 0 = no reply
    struct sockaddr_storage peer;     // source (receive) = destination (send)
    socklen_t peerLength;
    size_t controlLength;             // bytes of `control` filled by the kernel
    unsigned char control[UDP_CONTROL_CAPACITY]; // IP_PKTINFO / IPV6_PKTINFO, if enabled
} udp_slot;

/// Opaque batch state (iovecs and mmsghdrs) for up to `count` slots. Each slot's
/// `buffer` and `capacity` must be set before `udp_batch_create`, and stay put.
typedef struct udp_batch udp_batch;

udp_batch *udp_batch_create(udp_slot *slots, unsigned count);
void udp_batch_destroy(udp_batch *batch);

/// Receives up to `count` datagrams (blocking for the first, recvmmsg with
/// MSG_WAITFORONE; SO_RCVTIMEO bounds the wait). Returns the number received,
/// or -1 with errno set (EAGAIN on timeout).
int udp_recv_batch(int fd, udp_batch *batch, unsigned count);

/// Sends `reply`/`replyLength` of the first `count` slots whose replyLength is
/// non-zero, to `peer`, from the arrival address when a pktinfo control message
/// was received. Returns the number of datagrams handed to the kernel; failed
/// destinations are skipped and added to `*errors`.
int udp_send_batch(int fd, udp_batch *batch, unsigned count, unsigned *errors);

/// The source address of a received slot in host order: an IPv4 address in `*low` (and 0 in
/// `*high`), an IPv6 address as its high and low 64 bits. Returns 4, 6, or 0 for another family.
int udp_slot_peer(const udp_slot *slot, uint64_t *high, uint64_t *low);

/// Sets SO_REUSEPORT (not exported by name to Swift on every libc).
int udp_set_reuseport(int fd);

/// Steers each datagram for the SO_REUSEPORT group of `fd` to the socket whose index (in
/// the order the sockets joined) is the receiving CPU modulo `sockets`, rather than by a
/// hash of the flow (a classic BPF program, SO_ATTACH_REUSEPORT_CBPF). Returns 0, or -1
/// with errno (a kernel without it: the flow hash stays).
int udp_steer_by_cpu(int fd, unsigned int sockets);

/// Asks for IP_PKTINFO (AF_INET) or IPV6_RECVPKTINFO (AF_INET6) control
/// messages, so replies from a wildcard socket leave from the query's address.
int udp_enable_pktinfo(int fd, int family);

/// Fills `out` with the socket address of numeric `host` (AF_INET or AF_INET6) and
/// `port`; returns its length, or 0 when `host` is not an address of `family`.
socklen_t udp_make_sockaddr(int family, const char *host, uint16_t port, struct sockaddr_storage *out);

/// The local port `fd` is bound to (getsockname), or -1 with errno set.
int udp_bound_port(int fd);

#endif
