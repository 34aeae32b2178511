/*
 * The stall guard.  Debian's Berkeley DB 5.3 uses process-shared POSIX
 * mutexes for its internal latches.  A process killed while it holds one
 * (a SIGKILL can land inside any call) leaves it locked for good, and a
 * process that then waits on it waits forever: recovery by another
 * process makes new region files but cannot wake a waiter on the old
 * ones.  Lock waits time out (LOCK_TIMEOUT_US); latch waits cannot.
 *
 * So every Berkeley DB call is marked, and a watchdog thread in each
 * process ends the process when one call has waited
 *   - 2 s or more while the region file its environment mapped has been
 *     removed: another process recovered the store, the wait can never
 *     end;
 *   - stall_seconds (default 60; 0 = never) in any case: the holder is
 *     gone and nobody has recovered the store yet.
 * It logs why and exits with STALL_EXIT.  The web server, quarryd's
 * master or systemd starts the program again, and that open recovers
 * the store (DB_REGISTER).  Nothing acknowledged is lost: a transaction
 * committed before, or recovery rolls it back.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/stall.h"
#include "quarry/log.h"
#include "quarry/util.h"

static volatile time_t	 guard_since;	/* a call began (monotonic s); 0 */
static int		 guard_depth;	/* nested stall_enter calls */
static volatile int	 guard_fd = -1;	/* its environment's region file */
static volatile int	 guard_limit;	/* its stall_seconds */
static pid_t		 guard_pid;	/* the process the watchdog is in */

/* Seconds on the monotonic clock, never 0. */
static time_t
mono_s(void)
{
	return (time_t)(mono_ms() / 1000) + 1;
}

/* A Berkeley DB call begins (see stall.h). */
void
stall_enter(int region_fd, int limit)
{
	if (guard_depth++ > 0)
		return;
	guard_fd = region_fd;
	guard_limit = limit;
	guard_since = mono_s();
}

/* The call ended (see stall.h). */
void
stall_leave(void)
{
	if (--guard_depth == 0)
		guard_since = 0;
}

static void
stalled(const char *why, long waited)
{
	qlog(LOG_ERR, "store: a Berkeley DB call has waited %ld s and %s; "
	    "exiting (status %d) so that a new process recovers the store",
	    waited, why, STALL_EXIT);
	_exit(STALL_EXIT);
}

static void *
watchdog(void *arg)
{
	struct stat	 st;
	time_t		 since, waited;
	int		 fd, limit;

	(void)arg;
	for (;;) {
		sleep(1);
		if ((since = guard_since) == 0)
			continue;
		fd = guard_fd;
		limit = guard_limit;
		waited = mono_s() - since;
		if (since != guard_since)
			continue;	/* that call ended meanwhile */
		if (waited >= 2 && fd >= 0 && fstat(fd, &st) == 0 &&
		    st.st_nlink == 0)
			stalled("another process has recovered the store "
			    "since", (long)waited);
		if (limit > 0 && waited >= limit)
			stalled("the process holding what it waits for is "
			    "probably dead (stall_seconds)", (long)waited);
	}
	return NULL;
}

/* Starts this process's watchdog once (again in a forked child). */
void
stall_watch_start(void)
{
	pthread_attr_t	 a;
	pthread_t	 t;
	sigset_t	 all, old;
	int		 rc;

	if (guard_pid == getpid())
		return;
	guard_pid = getpid();
	guard_since = 0;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 64 * 1024);
	/* Signals stay with the program's own thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if ((rc = pthread_create(&t, &a, watchdog, NULL)) != 0)
		qlog(LOG_WARN, "store: no watchdog thread: %s",
		    strerror(rc));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
}

/*
 * True unless process pid is gone or a zombie (see stall.h): the answer
 * to Berkeley DB's question during failchk.
 */
int
proc_alive(pid_t pid)
{
	char	 path[64], buf[256], *p;
	FILE	*f;
	size_t	 n;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
		return 0;
	return 1;
}
