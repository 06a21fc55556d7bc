// CGNUExtensions.h -- GNU extensions of glibc that its Swift module does not show.
//
// pthread_setname_np needs _GNU_SOURCE, and malloc_trim's malloc.h is not part of the
// Glibc module: one plain C function each.
#ifndef CGNUEXTENSIONS_H
#define CGNUEXTENSIONS_H

/// Names the calling thread (pthread_setname_np needs _GNU_SOURCE); cut to 15 bytes.
int gnu_set_thread_name(const char *name);

/// Returns freed heap memory to the kernel (glibc malloc_trim; malloc.h is not in Glibc's
/// Swift module). Call after dropping a large snapshot.
void gnu_trim_heap(void);

#endif
