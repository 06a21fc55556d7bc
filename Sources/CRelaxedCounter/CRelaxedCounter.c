// CRelaxedCounter.c -- the counters are inline in CRelaxedCounter.h; a C target needs one
// translation unit, and this one checks that the header compiles on its own.
#include "CRelaxedCounter.h"
