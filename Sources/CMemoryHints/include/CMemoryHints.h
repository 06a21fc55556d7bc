// CMemoryHints.h -- a prefetch hint, which Swift has no spelling for.
#ifndef CMEMORYHINTS_H
#define CMEMORYHINTS_H

/// Asks the processor to bring the cache line holding `address` in for reading, without
/// waiting for it: a lookup that will need two lines whose addresses it knows early lets
/// both misses overlap. Never faults, whatever the address.
static inline void memory_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
