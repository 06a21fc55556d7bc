// CGNUExtensions.c -- thread names and heap trimming, see CGNUExtensions.h.
#define _GNU_SOURCE
#include "CGNUExtensions.h"
#include <malloc.h>
#include <pthread.h>
#include <string.h>

int gnu_set_thread_name(const char *name) {
    char shortened[16];                       // Linux keeps 15 bytes plus the NUL
    strncpy(shortened, name, sizeof shortened - 1);
    shortened[sizeof shortened - 1] = 0;
    return pthread_setname_np(pthread_self(), shortened);
}

void gnu_trim_heap(void) {
    malloc_trim(0);
}
