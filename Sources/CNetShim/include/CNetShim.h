// CNetShim.h -- batched datagram I/O (recvmmsg/sendmmsg) for Swift.
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

/// One slot of a batch: the datagram buffer and the peer address.
typedef struct cnet_slot {
    void *buffer;                     // datagram bytes
    size_t capacity;                  // buffer size (receive) / unused (send)
    size_t length;                    // bytes received / bytes to send
    struct sockaddr_storage peer;     // source (receive) / destination (send)
    socklen_t peerLength;
} cnet_slot;

/// Opaque batch state (iovecs and mmsghdrs) for up to `count` slots.
typedef struct cnet_batch cnet_batch;

cnet_batch *cnet_batch_create(cnet_slot *slots, unsigned count);
void cnet_batch_destroy(cnet_batch *batch);

/// Receives up to `count` datagrams (blocking for the first, recvmmsg with
/// MSG_WAITFORONE). Returns the number received, or -1 with errno set.
int cnet_recv_batch(int fd, cnet_batch *batch, unsigned count);

/// Sends the first `count` slots whose length is non-zero. Returns the number
/// of datagrams handed to the kernel, or -1 with errno set.
int cnet_send_batch(int fd, cnet_batch *batch, unsigned count);

/// Sets SO_REUSEPORT (not exported by name to Swift on every libc).
int cnet_set_reuseport(int fd);

#endif
