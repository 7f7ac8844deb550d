// The few spawn and pipe calls Swift cannot see: glibc declares them only under _GNU_SOURCE, which the Glibc
// module is not built with. When Swift's Glibc module exposes them, this target can go.
#ifndef CSPAWN_H
#define CSPAWN_H

#include <spawn.h>
#include <sys/types.h>

/// pipe2(2) with O_CLOEXEC; on systems without pipe2, pipe(2) then FD_CLOEXEC (not atomic there).
int CSpawn_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+, macOS 10.15+): the child changes directory before exec.
int CSpawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child closes every descriptor >= from.
/// Returns ENOSYS where it is missing; the caller then relies on O_CLOEXEC alone.
int CSpawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// waitid(P_PID, pid, WEXITED | WNOWAIT [| WNOHANG]): waits for (or, with nohang, checks) the child's exit
/// without reaping it, so its PID stays ours. Swift cannot read siginfo_t's si_pid (a macro into a union).
/// Returns 1 if it has exited, 0 if it still runs (nohang only), -1 with errno set on error.
int CSpawn_exited_noreap(pid_t pid, int nohang);

#endif
