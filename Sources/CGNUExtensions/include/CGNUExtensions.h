// CGNUExtensions.h -- GNU extensions of glibc that its Swift module does not show.
//
// pthread_setname_np and statx need _GNU_SOURCE, and malloc_trim's malloc.h is not part
// of the Glibc module: one plain C function each.
#ifndef CGNUEXTENSIONS_H
#define CGNUEXTENSIONS_H

/// Names the calling thread (pthread_setname_np needs _GNU_SOURCE); cut to 15 bytes.
int gnu_set_thread_name(const char *name);

/// Returns freed heap memory to the kernel (glibc malloc_trim; malloc.h is not in Glibc's
/// Swift module). Call after dropping a large snapshot.
void gnu_trim_heap(void);

/// Serves every allocation of `threshold` bytes or more from a mapping of its own, which
/// free() unmaps at once (mallopt M_MMAP_THRESHOLD; this also stops glibc from raising
/// the threshold after each such free). Returns 0 when glibc refused the value.
int gnu_map_large_allocations(unsigned long threshold);

/// The creation time of the file at `path` (statx's btime), which tells a file from a
/// later one that got the same inode number. Returns 0 and sets both outputs; -1 with
/// errno when the file cannot be looked at; 1 when the file system keeps no creation time.
int gnu_file_birth(const char *path, long long *seconds, unsigned int *nanoseconds);

#endif
