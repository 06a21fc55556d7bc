// CGNUExtensions.c -- thread names, heap trimming and file creation times, see CGNUExtensions.h.
#define _GNU_SOURCE
#include "CGNUExtensions.h"
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

int gnu_set_thread_name(const char *name) {
    char shortened[16];                       // Linux keeps 15 bytes plus the NUL
    strncpy(shortened, name, sizeof shortened - 1);
    shortened[sizeof shortened - 1] = 0;
    return pthread_setname_np(pthread_self(), shortened);
}

void gnu_trim_heap(void) {
    malloc_trim(0);
}

int gnu_map_large_allocations(unsigned long threshold) {
    return mallopt(M_MMAP_THRESHOLD, (int)threshold);
}

int gnu_file_birth(const char *path, long long *seconds, unsigned int *nanoseconds) {
    struct statx info;
    if (statx(AT_FDCWD, path, 0, STATX_BTIME, &info) != 0) return -1;
    if (!(info.stx_mask & STATX_BTIME)) return 1;
    *seconds = info.stx_btime.tv_sec;
    *nanoseconds = info.stx_btime.tv_nsec;
    return 0;
}
