#ifndef FERRY_CISAL_H
#define FERRY_CISAL_H
// ISA-L's igzip (Debian libisal-dev): streaming inflate with gzip header and CRC-32/ISIZE checks.
// Swift calls it directly; this header only gathers it.
#include <isa-l/igzip_lib.h>
#endif
