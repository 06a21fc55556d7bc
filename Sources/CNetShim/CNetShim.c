// CNetShim.c -- recvmmsg/sendmmsg wrappers, see CNetShim.h.
#define _GNU_SOURCE
#include "CNetShim.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cnet_batch {
    cnet_slot *slots;
    unsigned count;
    struct iovec *iov;
    struct mmsghdr *msgs;
    struct mmsghdr *out;     // compacted send list (slots with length > 0)
};

cnet_batch *cnet_batch_create(cnet_slot *slots, unsigned count) {
    cnet_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->slots = slots;
    b->count = count;
    b->iov = calloc(count, sizeof *b->iov);
    b->msgs = calloc(count, sizeof *b->msgs);
    b->out = calloc(count, sizeof *b->out);
    if (!b->iov || !b->msgs || !b->out) { cnet_batch_destroy(b); return NULL; }
    return b;
}

void cnet_batch_destroy(cnet_batch *b) {
    if (!b) return;
    free(b->iov); free(b->msgs); free(b->out); free(b);
}

int cnet_recv_batch(int fd, cnet_batch *b, unsigned count) {
    if (count > b->count) count = b->count;
    for (unsigned i = 0; i < count; i++) {
        b->iov[i].iov_base = b->slots[i].buffer;
        b->iov[i].iov_len = b->slots[i].capacity;
        memset(&b->msgs[i].msg_hdr, 0, sizeof b->msgs[i].msg_hdr);
        b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
        b->msgs[i].msg_hdr.msg_iovlen = 1;
        b->msgs[i].msg_hdr.msg_name = &b->slots[i].peer;
        b->msgs[i].msg_hdr.msg_namelen = sizeof b->slots[i].peer;
    }
    int n;
    do { n = recvmmsg(fd, b->msgs, count, MSG_WAITFORONE, NULL); } while (n < 0 && errno == EINTR);
    for (int i = 0; i < n; i++) {
        b->slots[i].length = b->msgs[i].msg_len;
        b->slots[i].peerLength = b->msgs[i].msg_hdr.msg_namelen;
        // A datagram larger than the buffer is truncated by the kernel: flag it
        // by reporting the full capacity plus one, so the caller can FORMERR/drop.
        if (b->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) b->slots[i].length = b->slots[i].capacity + 1;
    }
    return n;
}

int cnet_send_batch(int fd, cnet_batch *b, unsigned count) {
    if (count > b->count) count = b->count;
    unsigned m = 0;
    for (unsigned i = 0; i < count; i++) {
        if (b->slots[i].length == 0) continue;
        b->iov[i].iov_base = b->slots[i].buffer;
        b->iov[i].iov_len = b->slots[i].length;
        memset(&b->out[m].msg_hdr, 0, sizeof b->out[m].msg_hdr);
        b->out[m].msg_hdr.msg_iov = &b->iov[i];
        b->out[m].msg_hdr.msg_iovlen = 1;
        b->out[m].msg_hdr.msg_name = &b->slots[i].peer;
        b->out[m].msg_hdr.msg_namelen = b->slots[i].peerLength;
        m++;
    }
    unsigned sent = 0;
    while (sent < m) {
        int n = sendmmsg(fd, b->out + sent, m - sent, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
            // One bad destination must not stall the batch: skip it.
            sent++;
            continue;
        }
        sent += (unsigned)n;
    }
    return (int)sent;
}

int cnet_set_reuseport(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}
