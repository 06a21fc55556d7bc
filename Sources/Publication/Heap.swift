// Heap.swift -- gives freed heap memory back to the kernel after a table was replaced.

import CGNUExtensions

/// The process heap, as far as publication cares.
enum Heap {
    /// Returns freed heap pages to the kernel (glibc's `malloc_trim`). A replaced table of a
    /// million entries leaves tens of megabytes free in the heap; without this they would
    /// stay in the server's resident memory until reused.
    static func releaseFreeMemory() {
        gnu_trim_heap()
    }

    /// Blocks this large or larger are mapped apart from the heap.
    static let largeBlock = 1 << 20

    /// Gives each block of ``largeBlock`` bytes or more a mapping of its own, unmapped as
    /// soon as it is freed; set once, before the first table is built.
    ///
    /// Large blocks come and go with every publication: a large zone's prefix arrays, a
    /// change set's delta, the host shards of a zone of many millions. glibc maps such
    /// blocks apart at first, but each time one is freed it raises its threshold to that
    /// block's size (up to 32 MiB) and from then on takes blocks that size from the heap,
    /// where freed pages stay resident until a trim and the next ones land beside them.
    /// Held fixed, a replaced block goes back to the kernel when its last reader lets go
    /// (at 10M entries under load and a stream of changes: 65 MiB after the load instead of
    /// 106-131, BENCHMARKS.md).
    static func mapLargeBlocksApart() {
        _ = gnu_map_large_allocations(UInt(largeBlock))
    }
}
