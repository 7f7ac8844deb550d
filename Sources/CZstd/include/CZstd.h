#ifndef FERRY_CZSTD_H
#define FERRY_CZSTD_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
