// The module is its header's inline function; SwiftPM wants a source file in every C target.
#include "CMemoryHints.h"
