#include <sqlite3.h>

/// sqlite3_config is variadic, which Swift cannot call: one fixed-argument wrapper per use.
/// Turns off SQLite's memory statistics, which take a global mutex on every allocation
/// (malloc's mutex showed in profiles of batched hits). Must run before the first connection
/// opens; returns SQLITE_MISUSE afterwards, which leaves the library as it was.
static inline int rbld_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
