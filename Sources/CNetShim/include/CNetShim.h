// CNetShim.h -- batched datagram I/O (recvmmsg/sendmmsg) and per-thread counters for Swift.
//
// Glibc's Swift module hides recvmmsg, sendmmsg and struct mmsghdr (they need
// _GNU_SOURCE), so the UDP server reaches them through these wrappers.
#ifndef CNETSHIM_H
#define CNETSHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

/// Room for one IP_PKTINFO or IPV6_PKTINFO control message:
/// CMSG_SPACE(sizeof(struct in6_pktinfo)) = 16 + 20 rounded up to 8 = 40 on LP64.
#define CNET_CONTROL_CAPACITY 64

/// One slot of a batch: the query buffer, the reply buffer and the peer address.
typedef struct cnet_slot {
    void *buffer;                     // query bytes (receive)
    size_t capacity;                  // query buffer size
    size_t length;                    // bytes received; capacity + 1 when truncated
    void *reply;                      // reply bytes (send); may equal buffer
    size_t replyLength;               // bytes to send; 0 = no reply
    struct sockaddr_storage peer;     // source (receive) = destination (send)
    socklen_t peerLength;
    size_t controlLength;             // bytes of `control` filled by the kernel
    unsigned char control[CNET_CONTROL_CAPACITY]; // IP_PKTINFO / IPV6_PKTINFO, if enabled
} cnet_slot;

/// Opaque batch state (iovecs and mmsghdrs) for up to `count` slots. Each slot's
/// `buffer` and `capacity` must be set before `cnet_batch_create`, and stay put.
typedef struct cnet_batch cnet_batch;

cnet_batch *cnet_batch_create(cnet_slot *slots, unsigned count);
void cnet_batch_destroy(cnet_batch *batch);

/// Receives up to `count` datagrams (blocking for the first, recvmmsg with
/// MSG_WAITFORONE; SO_RCVTIMEO bounds the wait). Returns the number received,
/// or -1 with errno set (EAGAIN on timeout).
int cnet_recv_batch(int fd, cnet_batch *batch, unsigned count);

/// Sends `reply`/`replyLength` of the first `count` slots whose replyLength is
/// non-zero, to `peer`, from the arrival address when a pktinfo control message
/// was received. Returns the number of datagrams handed to the kernel; failed
/// destinations are skipped and added to `*errors`.
int cnet_send_batch(int fd, cnet_batch *batch, unsigned count, unsigned *errors);

/// Sets SO_REUSEPORT (not exported by name to Swift on every libc).
int cnet_set_reuseport(int fd);

/// Asks for IP_PKTINFO (AF_INET) or IPV6_RECVPKTINFO (AF_INET6) control
/// messages, so replies from a wildcard socket leave from the query's address.
int cnet_enable_pktinfo(int fd, int family);

/// Fills `out` with the socket address of numeric `host` (AF_INET or AF_INET6) and
/// `port`; returns its length, or 0 when `host` is not an address of `family`.
socklen_t cnet_make_sockaddr(int family, const char *host, uint16_t port, struct sockaddr_storage *out);

/// The local port `fd` is bound to (getsockname), or -1 with errno set.
int cnet_bound_port(int fd);

/// Names the calling thread (pthread_setname_np needs _GNU_SOURCE); cut to 15 bytes.
int cnet_set_thread_name(const char *name);

/// Returns freed heap memory to the kernel (glibc malloc_trim; malloc.h is not in Glibc's
/// Swift module). Call after dropping a large snapshot.
void cnet_trim_heap(void);

/// Adds `n` to a counter that only the calling thread writes (a serving thread's
/// statistics): a relaxed load and store, no locked read-modify-write, so the counter costs
/// what a plain increment costs while readers on other threads still see whole values.
static inline void cnet_counter_add(uint64_t *counter, uint64_t n) {
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/// Reads a counter written by another thread (relaxed: counters order nothing else).
static inline uint64_t cnet_counter_load(const uint64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

#endif
