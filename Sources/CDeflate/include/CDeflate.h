#ifndef FERRY_CDEFLATE_H
#define FERRY_CDEFLATE_H
// libdeflate (Debian libdeflate-dev): whole-buffer DEFLATE/gzip. Swift calls it directly; this header only
// gathers it. Ferry uses it for the blocks of its parallel gzip encoder (independent gzip members).
#include <libdeflate.h>
#endif
