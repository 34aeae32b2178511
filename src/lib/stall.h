/*
 * Inside the store: the stall guard (stall.c), which ends a process
 * stuck for good inside Berkeley DB, and the question Berkeley DB asks
 * during failchk (is a process alive?).  Used by store.c only.
 */
#ifndef QUARRY_LIB_STALL_H
#define QUARRY_LIB_STALL_H

#include <sys/types.h>

/* The exit status of a process the guard ends (EX_TEMPFAIL). */
#define STALL_EXIT	75

/* Starts this process's watchdog thread, once (again after a fork). */
void	stall_watch_start(void);
/*
 * Marks that a Berkeley DB call begins, on the environment whose region
 * file is open as region_fd (-1: unknown), which may wait limit seconds
 * (0 = for ever); calls nest.
 */
void	stall_enter(int region_fd, int limit);
/* Marks that the call ended. */
void	stall_leave(void);
/* True unless process pid is gone or a zombie (dead, not reaped). */
int	proc_alive(pid_t pid);

#endif
