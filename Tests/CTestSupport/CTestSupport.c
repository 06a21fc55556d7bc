// CTestSupport.c -- see CTestSupport.h.
#define _GNU_SOURCE
#include "CTestSupport.h"
#include <sched.h>

static __thread cpu_set_t kept;

int test_hold_thread_on_its_cpu(void) {
    if (sched_getaffinity(0, sizeof kept, &kept) != 0) return -1;
    int cpu = sched_getcpu();
    if (cpu < 0) return -1;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0 ? cpu : -1;
}

int test_release_thread(void) {
    return sched_setaffinity(0, sizeof kept, &kept);
}
