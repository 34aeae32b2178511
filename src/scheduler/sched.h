/*
 * quarryd's parts: the master loop (master.c) that claims nothing itself
 * but keeps a pool of worker processes busy, and the worker (worker.c)
 * that claims one job, builds its file and records the outcome.
 * docs/scheduler.md describes the behaviour.
 */
#ifndef QUARRY_SCHED_H
#define QUARRY_SCHED_H

#include <sys/types.h>

#include <time.h>

#include "quarry/config.h"
#include "quarry/util.h"

/* How a worker process ends (its exit status). */
enum worker_exit {
	WX_DONE = 0,		/* claimed a job and recorded its outcome */
	WX_EMPTY = 3,		/* the queue was empty: nothing claimed */
	WX_ERROR = 4		/* the store failed; the master cleans up */
};

/*
 * What a worker tells the master through its pipe: the job it claimed,
 * or (id empty) that none is due yet and when the first waiting one will
 * be (not_before, seconds since the epoch).
 */
struct worker_claim {
	char	 id[ID_LEN + 1];
	long long not_before;
};

/* The daemon's settings, beyond the configuration file. */
struct sched_opts {
	const char	*conf_path;	/* -c, or NULL */
	int		 drain;		/* --drain: exit once the queue is empty */
	int		 grace_seconds;	/* SIGTERM: how long builds may finish */
};

/*
 * Runs the scheduler until SIGTERM/SIGINT (or, draining, until the queue
 * is empty).  c is the loaded configuration, re-read on SIGHUP.  Returns
 * the process exit status.
 */
int	 master_run(struct conf *c, const struct sched_opts *o);

/*
 * In a freshly forked child: opens its own store handle, claims a due
 * queued job (job_claim: fair across tenants), writes a struct
 * worker_claim to claim_fd, builds the job's file and records the
 * outcome.  Returns an enum worker_exit for _exit().
 */
int	 worker_run(const struct conf *c, int claim_fd);

#endif
