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
}
