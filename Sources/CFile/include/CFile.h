#ifndef CFILE_H
#define CFILE_H

#include <stdint.h>

/// Starts writeback of a file range without waiting for it (sync_file_range with SYNC_FILE_RANGE_WRITE), so
/// a later fdatasync finds little left to write. Returns 0, or -1 with errno set.
int CFile_start_writeback(int fd, int64_t offset, int64_t length);

/// Opens an existing file for reading and writing with O_DIRECT (writes bypass the page cache). Returns the
/// descriptor (close-on-exec), or -1 with errno set (EINVAL where the file system does not support it).
int CFile_open_direct(const char *path);

#endif
