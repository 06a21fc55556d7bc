// shim.h -- libldns (Debian libldns-dev) for the tests' independent reading of DNS packets.
#include <stdbool.h>   /* before ldns: otherwise ldns defines bool as signed char */
#include <stdio.h>
#include <ldns/ldns.h>
