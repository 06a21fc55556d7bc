// CFuzzer.c -- see CFuzzer.h.
#include "CFuzzer.h"

int rbld_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
