// StandardOutput.swift -- flushing what the commands print, before a daemon runs or exits.

import Glibc

/// Flushes standard output (and every other C stream), so that start-up lines reach a pipe
/// or log file before the process settles into serving. (Swift 6 forbids naming `stdout`.)
func flushStandardOutput() {
    fflush(nil)
}
