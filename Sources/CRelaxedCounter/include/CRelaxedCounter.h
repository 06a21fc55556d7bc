// CRelaxedCounter.h -- counters one thread writes and others read, without locked instructions.
//
// The standard library's `Atomic` is a value in storage of its own; a serving thread's
// statistics are plain UInt64s in arrays, which these two inline functions update and read.
#ifndef CRELAXEDCOUNTER_H
#define CRELAXEDCOUNTER_H

#include <stdint.h>

/// Adds `n` to a counter that only the calling thread writes (a serving thread's
/// statistics): a relaxed load and store, no locked read-modify-write, so the counter costs
/// what a plain increment costs while readers on other threads still see whole values.
static inline void relaxed_counter_add(uint64_t *counter, uint64_t n) {
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/// Reads a counter written by another thread (relaxed: counters order nothing else).
static inline uint64_t relaxed_counter_load(const uint64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

#endif
