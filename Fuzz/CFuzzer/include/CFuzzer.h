// CFuzzer.h -- starting libFuzzer from a fuzz executable that defines its own main.
#ifndef CFUZZER_H
#define CFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (provided by the runtime that -sanitize=fuzzer links in).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// The fuzz target, defined by each fuzz executable with @_cdecl.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/// Runs libFuzzer on LLVMFuzzerTestOneInput with the process's command line.
int rbld_fuzz_main(int argc, char **argv);

#endif
