/*
 * quarryd's master process: keeps up to `workers` worker processes busy,
 * one job each, and cleans up after any that die.  It never builds
 * anything itself.  It waits with poll() on the wake FIFO, on a
 * self-pipe written by its signal handlers and on the pipe of the worker
 * that is claiming, so it never spins and never misses a signal.
 *
 * Claiming happens in the worker (it claims under its own pid, which the
 * store checks on every renewal); the worker then tells the master which
 * job it holds, so that the master can requeue or fail that job if the
 * worker dies.  Only one worker claims at a time: when it reports a job
 * the next one is started, when it finds the queue empty the master
 * waits for a nudge or the poll timer.
 *
 * The master holds no store handle while workers run: a worker killed
 * inside Berkeley DB may die holding one of the environment's mutexes,
 * and a long-lived handle could then block on it for ever.  The master
 * opens the store for each of its few operations and closes it at once;
 * an open after a worker's death runs recovery (DB_REGISTER), which
 * frees whatever the worker held.  The periodic work on the store (stale
 * leases, expiry, purge, checkpoint) is done by a short-lived
 * housekeeping process, so that it never blocks the master.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quarry/export.h"
#include "quarry/format.h"
#include "quarry/log.h"
#include "quarry/model.h"
#include "quarry/seams.h"
#include "quarry/store.h"
#include "quarry/wake.h"
#include "sched.h"

#define SWEEP_MS	60000	/* expiry, purge and checkpoint interval */
#define KEEPER_MAX_MS	600000	/* a housekeeping run longer than this is killed */
#define KEEP_PER_DEF	100	/* the purge keeps each definition's newest jobs */
#define RESPAWN_MS	1000	/* pause after a worker failed to start */
#define LOCK_NAME	"quarryd.lock"

struct slot {
	pid_t		 pid;		/* 0: free */
	int		 fd;		/* claim pipe; -1 once read */
	int		 claimed;	/* id names the job it holds */
	int		 killed;	/* killed by us at the end of the grace */
	char		 id[ID_LEN + 1];
	unsigned long	 gen;		/* wake generation when started */
	long long	 started;
};

struct master {
	struct conf		*c;
	struct caller		 self;		/* the system, for the model */
	const struct sched_opts	*o;
	struct slot		*slots;
	size_t			 nslots;	/* capacity */
	size_t			 nrunning;
	int			 nworkers;	/* the pool's size */
	pid_t			 claiming;	/* worker yet to report */
	int			 wake_fd;
	int			 lock_fd;
	int			 pid_written;
	int			 work;		/* the queue may hold jobs */
	unsigned long		 wake_gen;	/* nudges seen */
	int			 stopping;
	int			 killed;
	long long		 stop_at;	/* end of the grace period */
	long long		 next_poll;
	long long		 next_stale;	/* next stale-lease check */
	long long		 next_sweep;	/* next expiry, purge, checkpoint */
	pid_t			 keeper;	/* the housekeeping process */
	long long		 keeper_started;
	long long		 spawn_after;
	long long		 next_due;	/* a backed-off job is due; 0 none */
};

static int			 sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t	 got_term, got_hup;

/* Records the signal and wakes poll() through the self-pipe. */
static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGTERM || sig == SIGINT)
		got_term++;
	else if (sig == SIGHUP)
		got_hup = 1;
	(void)!write(sig_pipe[1], "s", 1);
	errno = saved;
}

static int
set_flags(int fd, int fl)
{
	int old = fcntl(fd, F_GETFL);

	return old < 0 ? -1 : fcntl(fd, F_SETFL, old | fl);
}

/* Installs the handlers (no SA_RESTART: poll() returns at once). */
static int
signals_install(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0 ||
	    sigaction(SIGCHLD, &sa, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* The pool size a configuration asks for: 0 means one per core. */
static int
pool_size(const struct conf *c)
{
	long n;

	if (c->workers > 0)
		return c->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)(n > 256 ? 256 : n) : 1;
}

/* Makes room for nworkers slots; -1 if memory ran out. */
static int
slots_grow(struct master *m)
{
	struct slot	*p;
	size_t		 i, want = (size_t)m->nworkers;

	if (want <= m->nslots)
		return 0;
	if ((p = realloc(m->slots, want * sizeof(*p))) == NULL)
		return -1;
	for (i = m->nslots; i < want; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].fd = -1;
	}
	m->slots = p;
	m->nslots = want;
	return 0;
}

/*
 * Opens a store handle for one operation of the master (see the top of
 * this file); NULL if it cannot, with the reason logged.  The caller
 * closes it with store_close as soon as it is done.
 */
static struct store *
master_store(struct master *m)
{
	struct store	*s;
	enum qerr	 e;

	if ((e = store_open(m->c, 0, &s)) != Q_OK) {
		qlog(LOG_ERR, "cannot open the store: %s", qerr_str(e));
		return NULL;
	}
	return s;
}

/*
 * Takes the scheduler lock in the store's directory: one quarryd per
 * store, so that putting back every running job at start is safe.  A
 * POSIX record lock is not inherited by the workers and goes with the
 * process, however it dies.
 */
static int
lock_store(struct master *m)
{
	struct flock	fl;
	char		path[PATH_MAX + 32], pid[32];
	int		n;

	snprintf(path, sizeof(path), "%s/%s", m->c->db_dir, LOCK_NAME);
	if ((m->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		qlog(LOG_ERR, "%s: %s", path, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(m->lock_fd, F_SETLK, &fl) != 0) {
		n = (int)read(m->lock_fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		qlog(LOG_ERR, "another quarryd (pid %s) is running on %s",
		    pid[0] ? pid : "?", m->c->db_dir);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(m->lock_fd, 0) != 0 ||
	    pwrite(m->lock_fd, pid, (size_t)n, 0) != n)
		qlog(LOG_WARN, "%s: %s", path, strerror(errno));
	return 0;
}

/* Writes the pid file, if one is configured. */
static int
write_pid_file(struct master *m)
{
	FILE *f;

	if (m->c->pid_file[0] == '\0')
		return 0;
	if ((f = fopen(m->c->pid_file, "w")) == NULL ||
	    fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
		qlog(LOG_ERR, "%s: %s", m->c->pid_file, strerror(errno));
		return -1;
	}
	m->pid_written = 1;
	return 0;
}

/*
 * The worker of slot sl died holding its job without recording the
 * outcome: puts the job back to queued (or fails it once its attempts
 * are used) and removes its partial file.  A worker killed by a signal
 * may have died inside the store: the open here runs recovery first.
 */
static void
recover_job(struct master *m, struct slot *sl, int status)
{
	struct store	*s;
	struct job	 j;
	char		 detail[256];
	double		 secs = (double)(mono_ms() - sl->started) / 1000;
	enum qerr	 e;

	if ((s = master_store(m)) == NULL)
		return;		/* the lease runs out; the next start retries */
	if (sl->killed)
		snprintf(detail, sizeof(detail), "the build was interrupted: "
		    "the scheduler stopped");
	else if (WIFSIGNALED(status))
		snprintf(detail, sizeof(detail), "the worker died (signal %d, "
		    "%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(detail, sizeof(detail), "the worker stopped (exit "
		    "status %d)", WEXITSTATUS(status));
	/* A shutdown is not the build's fault: it does not use an attempt. */
	e = job_fail(s, sl->id, (int32_t)sl->pid, detail, 1,
	    sl->killed ? INT_MAX : m->c->max_attempts,
	    sl->killed ? 0 : m->c->retry_backoff);
	if (e != Q_OK && e != Q_STATE)
		qlog(LOG_ERR, "job %s: putting it back failed: %s", sl->id,
		    qerr_str(e));
	if (job_get(s, &m->self, sl->id, &j) != Q_OK) {
		store_close(s);
		return;
	}
	if (e == Q_OK)
		qlog(LOG_WARN, "job %s tenant %s: %s after %.3f s (%s)", j.id,
		    j.tenant, j.state == JS_QUEUED ? "requeued" : "failed",
		    secs, detail);
	if (!(j.state == JS_RUNNING && j.worker_pid != (int32_t)sl->pid) &&
	    build_discard(m->c->files_dir, j.id) > 0)
		qlog(LOG_INFO, "job %s: removed its partial file", j.id);
	job_free(&j);
	store_close(s);
}

/* Reads the job a worker reports having claimed, if it has. */
static void
read_claim(struct master *m, struct slot *sl)
{
	struct worker_claim	wc;
	ssize_t			n;
	long long		due;

	if (sl->fd < 0)
		return;
	do
		n = read(sl->fd, &wc, sizeof(wc));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;		/* not yet */
	if (n == (ssize_t)sizeof(wc) && wc.id[0] == '\0') {
		/* none due: the first waiting job is due then */
		due = mono_ms() + ((long long)wc.not_before - (long long)
		    q_seams.now()) * 1000;
		if (m->next_due == 0 || due < m->next_due)
			m->next_due = due;
	} else if (n == (ssize_t)sizeof(wc)) {
		wc.id[ID_LEN] = '\0';
		memcpy(sl->id, wc.id, sizeof(sl->id));
		sl->claimed = 1;
		if (m->claiming == sl->pid)
			m->claiming = 0;	/* the next worker may claim */
	}
	close(sl->fd);
	sl->fd = -1;
}

/* Collects every worker that ended and cleans up after it. */
static void
reap(struct master *m)
{
	struct slot	*sl;
	pid_t		 pid;
	size_t		 i;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->keeper) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				qlog(LOG_WARN, "housekeeping ended badly "
				    "(status %#x)", status);
			m->keeper = 0;
			continue;
		}
		for (i = 0, sl = NULL; i < m->nslots; i++)
			if (m->slots[i].pid == pid)
				sl = &m->slots[i];
		if (sl == NULL)
			continue;
		read_claim(m, sl);
		if (m->claiming == pid)
			m->claiming = 0;
		if (WIFEXITED(status) && WEXITSTATUS(status) == WX_EMPTY) {
			if (sl->gen == m->wake_gen)
				m->work = 0;
		} else
			m->work = 1;	/* more may wait, or it was requeued */
		if (sl->claimed && !(WIFEXITED(status) &&
		    WEXITSTATUS(status) == WX_DONE))
			recover_job(m, sl, status);
		else if (!sl->claimed && !(WIFEXITED(status) &&
		    WEXITSTATUS(status) == WX_EMPTY)) {
			qlog(LOG_WARN, "worker %d ended before claiming (status "
			    "%#x)", (int)pid, status);
			m->spawn_after = mono_ms() + RESPAWN_MS;
		}
		memset(sl, 0, sizeof(*sl));
		sl->fd = -1;
		m->nrunning--;
	}
}

/*
 * Forks a child of the master (a worker or the housekeeping process).
 * In the child, which returns 0: it dies with the master, ignores the
 * stop signals (the master decides when it stops), and holds none of the
 * master's descriptors; a child whose master is already gone exits with
 * orphan_status.  In the master: the child's pid, or -1.
 */
static pid_t
fork_child(struct master *m, int orphan_status)
{
	sigset_t	all, old;
	pid_t		pid, master = getpid();
	size_t		i;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != master)
			_exit(orphan_status);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		close(m->wake_fd);
		close(m->lock_fd);
		for (i = 0; i < m->nslots; i++)
			if (m->slots[i].fd >= 0)
				close(m->slots[i].fd);
		return 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		qlog(LOG_ERR, "fork: %s", strerror(errno));
	return pid;
}

/* Starts a worker in a free slot; it claims the oldest queued job. */
static void
spawn(struct master *m)
{
	struct slot	*sl = NULL;
	pid_t		 pid;
	size_t		 i;
	int		 p[2];

	for (i = 0; i < m->nslots && sl == NULL; i++)
		if (m->slots[i].pid == 0)
			sl = &m->slots[i];
	if (sl == NULL || pipe2(p, O_CLOEXEC) != 0)
		return;
	if ((pid = fork_child(m, WX_ERROR)) == 0) {
		close(p[0]);
		_exit(worker_run(m->c, p[1]));
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		m->spawn_after = mono_ms() + RESPAWN_MS;
		return;
	}
	set_flags(p[0], O_NONBLOCK);
	memset(sl, 0, sizeof(*sl));
	sl->pid = pid;
	sl->fd = p[0];
	sl->gen = m->wake_gen;
	sl->started = mono_ms();
	m->claiming = pid;
	m->nrunning++;
}

/* SIGHUP: reopens the log and re-reads the configuration. */
static void
reload(struct master *m)
{
	struct conf	 n;
	char		 err[512];
	const char	*path = m->c->path[0] ? m->c->path : m->o->conf_path;

	log_reopen();
	if (conf_load(&n, path, err, sizeof(err)) != Q_OK) {
		qlog(LOG_ERR, "SIGHUP: keeping the configuration: %s", err);
		return;
	}
	if (strcmp(n.db_dir, m->c->db_dir) != 0 ||
	    strcmp(n.files_dir, m->c->files_dir) != 0 ||
	    strcmp(n.pid_file, m->c->pid_file) != 0)
		qlog(LOG_WARN, "SIGHUP: db_dir, files_dir and pid_file "
		    "change only on restart");
	memcpy(n.db_dir, m->c->db_dir, sizeof(n.db_dir));
	memcpy(n.files_dir, m->c->files_dir, sizeof(n.files_dir));
	memcpy(n.pid_file, m->c->pid_file, sizeof(n.pid_file));
	if (strcmp(n.log_file, m->c->log_file) != 0 &&
	    log_open("quarryd", n.log_file) != 0) {
		qlog(LOG_ERR, "SIGHUP: cannot open %s; keeping the log",
		    n.log_file);
		memcpy(n.log_file, m->c->log_file, sizeof(n.log_file));
		log_open("quarryd", n.log_file);
	}
	*m->c = n;
	m->nworkers = pool_size(m->c);
	if (slots_grow(m) != 0)
		m->nworkers = (int)m->nslots;
	m->next_poll = mono_ms();
	qlog(LOG_INFO, "configuration reloaded: %d workers, poll %d s, "
	    "lease %d s, %d attempts", m->nworkers, m->c->poll_seconds,
	    m->c->lease_seconds, m->c->max_attempts);
}

/* SIGTERM/SIGINT: stop claiming; a second signal ends the grace. */
static void
begin_stop(struct master *m)
{
	long long now = mono_ms();

	if (!m->stopping) {
		m->stopping = 1;
		m->stop_at = now + (long long)m->o->grace_seconds * 1000;
		qlog(LOG_INFO, "stopping: %zu build(s) running, %d s grace",
		    m->nrunning, m->o->grace_seconds);
	} else if (m->stop_at > now) {
		m->stop_at = now;
		qlog(LOG_INFO, "stopping now");
	}
}

/* At the end of the grace period, kills the builds still running. */
static void
kill_workers(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0 && !m->slots[i].killed) {
			m->slots[i].killed = 1;
			kill(m->slots[i].pid, SIGKILL);
		}
	if (m->keeper > 0)
		kill(m->keeper, SIGKILL);
	m->killed = 1;
}

/*
 * The housekeeping process: ends lock waits past the lock timeout
 * (store_expire_locks), puts back the running jobs whose lease ran
 * out, except those of this scheduler's own live workers (live: their
 * pids when it was forked), which the master watches itself; and, if
 * full, expires completed jobs past their retention, purges old
 * finished jobs and writes a checkpoint (which removes log files no
 * longer needed).  Returns its exit status.
 */
static int
housekeep(const struct conf *c, const int32_t *live, size_t nlive, int full)
{
	struct store	*s;
	unsigned	 n;
	enum qerr	 e;
	int		 rc = 0;

	if ((e = store_open(c, 0, &s)) != Q_OK) {
		qlog(LOG_ERR, "housekeeping: cannot open the store: %s",
		    qerr_str(e));
		return 1;
	}
	if ((e = store_expire_locks(s)) != Q_OK)
		qlog(LOG_WARN, "expiring lock waits: %s", qerr_str(e));
	e = job_requeue_stale(s, 0, c->max_attempts, c->retry_backoff, live,
	    nlive, &n);
	if (e != Q_OK) {
		qlog(LOG_ERR, "putting back stale jobs: %s", qerr_str(e));
		rc = 1;
	} else if (n > 0) {
		qlog(LOG_WARN, "put back %u job(s) whose lease ran out", n);
		wake_scheduler(c);
	}
	if (!full)
		goto out;
	if ((e = job_expire_due(s, c->files_dir, &n)) != Q_OK) {
		qlog(LOG_ERR, "expiring jobs: %s", qerr_str(e));
		rc = 1;
	} else if (n > 0)
		qlog(LOG_INFO, "expired %u job(s) at the end of their "
		    "retention; files deleted", n);
	if ((e = job_purge(s, c->files_dir, KEEP_PER_DEF, c->history,
	    &n)) != Q_OK) {
		qlog(LOG_ERR, "purging old jobs: %s", qerr_str(e));
		rc = 1;
	} else if (n > 0)
		qlog(LOG_INFO, "purged %u finished job(s) older than the "
		    "history period", n);
	if ((e = audit_purge(s, q_seams.now() - c->audit_retention, &n)) !=
	    Q_OK) {
		qlog(LOG_ERR, "purging the audit trail: %s", qerr_str(e));
		rc = 1;
	} else if (n > 0)
		qlog(LOG_INFO, "purged %u audit record(s) older than "
		    "audit_retention", n);
	if ((e = store_checkpoint(s)) != Q_OK) {
		qlog(LOG_WARN, "checkpoint: %s", qerr_str(e));
		rc = 1;
	}
out:
	store_close(s);
	return rc;
}

/* Forks the housekeeping process (full: with the sweeps). */
static void
start_keeper(struct master *m, int full)
{
	int32_t		*live;
	size_t		 i, n = 0;
	pid_t		 pid;

	if ((live = calloc(m->nslots + 1, sizeof(*live))) == NULL)
		return;
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			live[n++] = (int32_t)m->slots[i].pid;
	if ((pid = fork_child(m, 1)) == 0)
		_exit(housekeep(m->c, live, n, full));
	free(live);
	if (pid < 0)
		return;
	m->keeper = pid;
	m->keeper_started = mono_ms();
}

/* The interval of the stale-lease check: a quarter of a lease. */
static long long
stale_ms(const struct conf *c)
{
	long long ms = (long long)c->lease_seconds * 250;

	return ms < 1000 ? 1000 : ms;
}

/*
 * The timers: the poll fallback, and the housekeeping process (stale
 * leases every quarter lease; expiry, purge and checkpoint every
 * minute), one at a time; one that hangs is killed.
 */
static void
timers(struct master *m)
{
	long long	now = mono_ms();
	int		full;

	if (now >= m->next_poll) {
		m->work = 1;
		m->next_poll = now + (long long)m->c->poll_seconds * 1000;
	}
	if (m->next_due != 0 && now >= m->next_due) {
		m->work = 1;
		m->next_due = 0;
	}
	if (m->keeper > 0) {
		if (now - m->keeper_started > KEEPER_MAX_MS) {
			qlog(LOG_WARN, "housekeeping takes too long: killed");
			kill(m->keeper, SIGKILL);
			m->keeper_started = now;
		}
		return;
	}
	if (m->stopping || (now < m->next_stale && now < m->next_sweep))
		return;
	full = now >= m->next_sweep;
	m->next_stale = now + stale_ms(m->c);
	if (full)
		m->next_sweep = now + SWEEP_MS;
	start_keeper(m, full);
}

/* How long poll() may sleep: until the next timer, at most poll_seconds. */
static int
poll_timeout(const struct master *m)
{
	long long now = mono_ms(), t = m->next_poll;

	if (m->next_due != 0 && m->next_due < t)
		t = m->next_due;
	if (m->keeper == 0 && !m->stopping) {
		if (m->next_stale < t)
			t = m->next_stale;
		if (m->next_sweep < t)
			t = m->next_sweep;
	}
	if (m->stopping && !m->killed && m->stop_at < t)
		t = m->stop_at;
	if (m->spawn_after > now && m->spawn_after < t)
		t = m->spawn_after;
	t -= now;
	return t < 0 ? 0 : t > INT_MAX ? INT_MAX : (int)t;
}

/* Waits for a signal, a nudge, a worker's claim or a timer. */
static void
wait_events(struct master *m)
{
	struct pollfd	 pfd[3];
	struct slot	*claimer = NULL;
	char		 buf[64];
	size_t		 i, n = 0;

	pfd[n].fd = sig_pipe[0];
	pfd[n++].events = POLLIN;
	pfd[n].fd = m->wake_fd;
	pfd[n++].events = POLLIN;
	for (i = 0; i < m->nslots; i++)
		if (m->claiming != 0 && m->slots[i].pid == m->claiming &&
		    m->slots[i].fd >= 0) {
			claimer = &m->slots[i];
			pfd[n].fd = claimer->fd;
			pfd[n++].events = POLLIN;
		}
	if (poll(pfd, n, poll_timeout(m)) <= 0)
		return;
	if (pfd[0].revents)
		while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
			continue;
	if (pfd[1].revents) {
		wake_drain(m->wake_fd);
		m->wake_gen++;
		m->work = 1;
	}
	if (claimer != NULL && pfd[2].revents)
		read_claim(m, claimer);
}

/*
 * Start-up under the lock: every job still running belongs to a
 * scheduler that died, so it goes back to queued (or fails if it used
 * its attempts), and partial files go.
 */
static int
recover_at_start(struct master *m)
{
	struct store	*s;
	unsigned	 n;
	enum qerr	 e;

	if ((s = master_store(m)) == NULL)
		return -1;
	e = job_requeue_stale(s, 1, m->c->max_attempts, m->c->retry_backoff,
	    NULL, 0, &n);
	store_close(s);
	if (e != Q_OK) {
		qlog(LOG_ERR, "putting back interrupted jobs: %s",
		    qerr_str(e));
		return -1;
	}
	if (n > 0)
		qlog(LOG_WARN, "put back %u job(s) interrupted by a previous "
		    "scheduler", n);
	build_discard_all(m->c->files_dir);
	return 0;
}

/* Runs the scheduler (see sched.h). */
int
master_run(struct conf *c, const struct sched_opts *o)
{
	struct master	 m;
	struct store	*s;
	int		 rc = 1;

	memset(&m, 0, sizeof(m));
	m.c = c;
	m.o = o;
	caller_system(&m.self, NULL);
	m.wake_fd = m.lock_fd = -1;
	m.nworkers = pool_size(c);
	if (slots_grow(&m) != 0 || signals_install() != 0) {
		qlog(LOG_ERR, "start-up: %s", strerror(errno));
		goto out;
	}
	if (lock_store(&m) != 0 || write_pid_file(&m) != 0 ||
	    recover_at_start(&m) != 0)
		goto out;
	if ((m.wake_fd = wake_listen(c)) < 0) {
		qlog(LOG_ERR, "the wake FIFO in %s: %s", c->db_dir,
		    strerror(errno));
		goto out;
	}
	qlog(LOG_INFO, "started: %d workers, poll %d s, lease %d s%s",
	    m.nworkers, c->poll_seconds, c->lease_seconds,
	    o->drain ? ", draining" : "");
	m.work = 1;
	m.next_poll = mono_ms() + (long long)c->poll_seconds * 1000;
	m.next_stale = m.next_sweep = mono_ms();	/* sweeps at start */
	for (;;) {
		if (got_term) {
			got_term = 0;
			begin_stop(&m);
		}
		if (got_hup) {
			got_hup = 0;
			reload(&m);
		}
		reap(&m);
		if (m.stopping && m.nrunning == 0 && m.keeper == 0)
			break;
		if (m.stopping && !m.killed && mono_ms() >= m.stop_at)
			kill_workers(&m);
		if (o->drain && !m.stopping && m.nrunning == 0 && !m.work &&
		    m.keeper == 0 && m.next_due == 0)
			break;
		timers(&m);
		if (!m.stopping && m.work && m.claiming == 0 &&
		    m.nrunning < (size_t)m.nworkers &&
		    mono_ms() >= m.spawn_after)
			spawn(&m);
		wait_events(&m);
	}
	if ((s = master_store(&m)) != NULL) {
		store_checkpoint(s);
		store_close(s);
	}
	qlog(LOG_INFO, "stopped");
	rc = 0;
out:
	if (m.wake_fd >= 0)
		close(m.wake_fd);
	if (m.pid_written)
		unlink(c->pid_file);
	if (m.lock_fd >= 0)
		close(m.lock_fd);
	free(m.slots);
	return rc;
}
