// CUDPBatch.c -- recvmmsg/sendmmsg wrappers with pktinfo handling, see CUDPBatch.h.
#define _GNU_SOURCE
#include "CUDPBatch.h"
#include <errno.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/socket.h>

struct udp_batch {
    udp_slot *slots;
    unsigned count;
    struct iovec *iov;       // receive: slot buffers
    struct iovec *out_iov;   // send: reply buffers
    struct mmsghdr *msgs;
    struct mmsghdr *out;     // compacted send list (slots with replyLength > 0)
};

/// Points header `i` at slot `i`'s query buffer, peer and control storage.
static void reset_receive_header(udp_batch *b, unsigned i) {
    udp_slot *s = &b->slots[i];
    struct msghdr *h = &b->msgs[i].msg_hdr;
    b->iov[i].iov_base = s->buffer;
    b->iov[i].iov_len = s->capacity;
    memset(h, 0, sizeof *h);
    h->msg_iov = &b->iov[i];
    h->msg_iovlen = 1;
    h->msg_name = &s->peer;
    h->msg_namelen = sizeof s->peer;
    h->msg_control = s->control;
    h->msg_controllen = sizeof s->control;
}

udp_batch *udp_batch_create(udp_slot *slots, unsigned count) {
    udp_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->slots = slots;
    b->count = count;
    b->iov = calloc(count, sizeof *b->iov);
    b->out_iov = calloc(count, sizeof *b->out_iov);
    b->msgs = calloc(count, sizeof *b->msgs);
    b->out = calloc(count, sizeof *b->out);
    if (!b->iov || !b->out_iov || !b->msgs || !b->out) { udp_batch_destroy(b); return NULL; }
    for (unsigned i = 0; i < count; i++) reset_receive_header(b, i);
    return b;
}

void udp_batch_destroy(udp_batch *b) {
    if (!b) return;
    free(b->iov); free(b->out_iov); free(b->msgs); free(b->out); free(b);
}

int udp_recv_batch(int fd, udp_batch *b, unsigned count) {
    if (count > b->count) count = b->count;
    int n;
    do { n = recvmmsg(fd, b->msgs, count, MSG_WAITFORONE, NULL); } while (n < 0 && errno == EINTR);
    for (int i = 0; i < n; i++) {
        udp_slot *s = &b->slots[i];
        s->length = b->msgs[i].msg_len;
        s->peerLength = b->msgs[i].msg_hdr.msg_namelen;
        s->controlLength = b->msgs[i].msg_hdr.msg_controllen;
        s->replyLength = 0;
        // A datagram larger than the buffer is truncated by the kernel: flag it
        // by reporting the full capacity plus one, so the caller can drop it.
        if (b->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) s->length = s->capacity + 1;
        // Truncated control data is useless for choosing a source address.
        if (b->msgs[i].msg_hdr.msg_flags & MSG_CTRUNC) s->controlLength = 0;
        // The kernel rewrote this header's lengths: restore them for the next call, so a
        // batch costs work for the datagrams received, not for every slot.
        reset_receive_header(b, (unsigned)i);
    }
    return n;
}

/// Turns the received pktinfo into the one that picks the reply's source address
/// (as knot's udp-handler.c cmsg_handle_pktinfo). Returns the control length to send.
static size_t prepare_control(udp_slot *s, struct msghdr *h) {
    if (s->controlLength == 0) return 0;
    h->msg_control = s->control;
    h->msg_controllen = s->controlLength;
    struct cmsghdr *c = CMSG_FIRSTHDR(h);
    if (c == NULL) return 0;
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        // ipi_spec_dst is the source for sendmsg; ipi_addr is where the query went.
        struct in_pktinfo *info = (struct in_pktinfo *)CMSG_DATA(c);
        info->ipi_spec_dst = info->ipi_addr;
        info->ipi_ifindex = 0;
        return CMSG_SPACE(sizeof(struct in_pktinfo));
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        // ipi6_addr is used as the source; the interface index keeps link-local working.
        return CMSG_SPACE(sizeof(struct in6_pktinfo));
    }
    return 0;
}

int udp_send_batch(int fd, udp_batch *b, unsigned count, unsigned *errors) {
    if (count > b->count) count = b->count;
    unsigned m = 0;
    for (unsigned i = 0; i < count; i++) {
        udp_slot *s = &b->slots[i];
        if (s->replyLength == 0) continue;
        b->out_iov[m].iov_base = s->reply;
        b->out_iov[m].iov_len = s->replyLength;
        struct msghdr *h = &b->out[m].msg_hdr;
        memset(h, 0, sizeof *h);
        h->msg_iov = &b->out_iov[m];
        h->msg_iovlen = 1;
        h->msg_name = &s->peer;
        h->msg_namelen = s->peerLength;
        size_t control = prepare_control(s, h);
        if (control == 0) { h->msg_control = NULL; h->msg_controllen = 0; }
        else h->msg_controllen = control;
        m++;
    }
    unsigned sent = 0, failed = 0;
    while (sent + failed < m) {
        int n = sendmmsg(fd, b->out + sent + failed, m - sent - failed, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            // One bad destination (or a full buffer) must not stall the batch: skip it.
            failed++;
            continue;
        }
        sent += (unsigned)n;
    }
    if (errors) *errors += failed;
    return (int)sent;
}

int udp_slot_peer(const udp_slot *slot, uint64_t *high, uint64_t *low) {
    if (slot->peer.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&slot->peer;
        *high = 0;
        *low = ntohl(sin->sin_addr.s_addr);
        return 4;
    }
    if (slot->peer.ss_family == AF_INET6) {
        const unsigned char *bytes = ((const struct sockaddr_in6 *)&slot->peer)->sin6_addr.s6_addr;
        uint64_t h = 0, l = 0;
        for (int i = 0; i < 8; i++) h = h << 8 | bytes[i];
        for (int i = 8; i < 16; i++) l = l << 8 | bytes[i];
        *high = h;
        *low = l;
        return 6;
    }
    return 0;
}

int udp_set_reuseport(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}

int udp_enable_pktinfo(int fd, int family) {
    int one = 1;
    if (family == AF_INET) return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    if (family == AF_INET6) return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    errno = EAFNOSUPPORT;
    return -1;
}

socklen_t udp_make_sockaddr(int family, const char *host, uint16_t port, struct sockaddr_storage *out) {
    memset(out, 0, sizeof *out);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? sizeof *sin : 0;
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? sizeof *sin6 : 0;
    }
    return 0;
}

int udp_bound_port(int fd) {
    struct sockaddr_storage bound;
    socklen_t length = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &length) != 0) return -1;
    if (bound.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&bound)->sin_port);
    if (bound.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    errno = EAFNOSUPPORT;
    return -1;
}

int udp_steer_by_cpu(int fd, unsigned int sockets) {
    struct sock_filter code[] = {
        { BPF_LD | BPF_W | BPF_ABS, 0, 0, (unsigned int)(SKF_AD_OFF + SKF_AD_CPU) },
        { BPF_ALU | BPF_MOD | BPF_K, 0, 0, sockets },
        { BPF_RET | BPF_A, 0, 0, 0 },
    };
    struct sock_fprog program = { .len = sizeof code / sizeof code[0], .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof program);
}
