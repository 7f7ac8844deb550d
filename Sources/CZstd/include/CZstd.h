#ifndef FERRY_CZSTD_H
#define FERRY_CZSTD_H
// ZSTD_STATIC_LINKING_ONLY exposes the "experimental" API that Debian's libzstd exports anyway; Codec needs
// ZSTD_createThreadPool/ZSTD_CCtx_refThreadPool so every zstd stream shares one pool sized to the cores.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
#endif
