// CTestSupport.h -- glibc calls the tests need that the Glibc module does not show.
//
// sched_getcpu and the cpu_set_t macros need _GNU_SOURCE.
#ifndef CTESTSUPPORT_H
#define CTESTSUPPORT_H

/// Holds the calling thread on the CPU it runs on, keeping its affinity to put back with
/// `test_release_thread`. Returns the CPU, or -1 with errno.
int test_hold_thread_on_its_cpu(void);

/// Puts back the affinity the last `test_hold_thread_on_its_cpu` of this thread kept.
/// Returns 0, or -1 with errno.
int test_release_thread(void);

#endif
