/*
 * A worker process: claims one job, builds its file through the library's
 * one build path (build_job_file), renews its lease and stores progress
 * about once a second while it builds, and records the outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "quarry/export.h"
#include "quarry/log.h"
#include "quarry/model.h"
#include "quarry/seams.h"
#include "sched.h"

/*
 * Renew when this much has passed since the last renewal: the sources
 * call the progress callback at least every ~250 ms, so renewals come
 * at least once a second.
 */
#define RENEW_MS	750

struct renewal {
	struct store		*s;
	const struct conf	*c;
	const struct job	*j;
	int32_t			 pid;
	long long		 last_ms;	/* last lease renewal */
	int			 lost;		/* the job is no longer ours */
};

/*
 * The build's progress callback: once RENEW_MS have passed since the
 * last time, renews the lease and stores rows, bytes and the share of the
 * source read (when known).  Stops the build
 * (non-zero) once the job is no longer running under this worker:
 * cancelled, or taken back.
 */
static int
renew(void *arg, uint64_t rows, uint64_t bytes, int permille)
{
	struct renewal	*r = arg;
	long long	 now = mono_ms();
	enum qerr	 e;

	if (now - r->last_ms < RENEW_MS)
		return 0;
	r->last_ms = now;
	e = job_progress(r->s, r->j->id, r->pid, r->c->lease_seconds, rows,
	    bytes, permille);
	if (e == Q_STATE) {
		r->lost = 1;
		return 1;
	}
	if (e != Q_OK)
		qlog(LOG_WARN, "job %s: storing progress failed: %s",
		    r->j->id, qerr_str(e));
	return 0;
}

/*
 * Tells the master which job this worker holds or, if j->id is empty,
 * when the first job waiting out its back-off will be due.
 */
static int
report_claim(int fd, const struct job *j)
{
	struct worker_claim wc;

	memset(&wc, 0, sizeof(wc));
	memcpy(wc.id, j->id, sizeof(wc.id));
	wc.not_before = (long long)j->not_before;
	return write_all(fd, &wc, sizeof(wc));
}

/*
 * Records a failed build: back to queued if the failure is transient and
 * attempts remain, else failed.  Logs which.
 */
static enum qerr
record_failure(struct store *s, const struct conf *c, const struct job *j,
    int32_t pid, const char *detail, int retry, long long t0)
{
	enum qerr	e;
	int		again;

	again = retry && j->attempts < (uint32_t)c->max_attempts;
	e = job_fail(s, j->id, pid, detail, retry, c->max_attempts,
	    c->retry_backoff);
	if (e == Q_OK && again)
		qlog(LOG_INFO, "job %s tenant %s: requeued after %.3f s, "
		    "retried in %lld s: %s", j->id, j->tenant,
		    (double)(mono_ms() - t0) / 1000,
		    job_backoff(c->retry_backoff, j->attempts), detail);
	else if (e == Q_OK)
		qlog(LOG_INFO, "job %s tenant %s: failed after %.3f s: %s",
		    j->id, j->tenant, (double)(mono_ms() - t0) / 1000, detail);
	else if (e == Q_STATE)
		qlog(LOG_INFO, "job %s tenant %s: no longer running (cancelled)"
		    " after %.3f s", j->id, j->tenant,
		    (double)(mono_ms() - t0) / 1000);
	else
		qlog(LOG_ERR, "job %s: recording the failure failed: %s",
		    j->id, qerr_str(e));
	return e == Q_STATE ? Q_OK : e;
}

/*
 * Builds the claimed job j and records the outcome.  Q_OK once the job's
 * state says what happened (or it was cancelled); any other value means
 * the outcome is not recorded and the master must clean up.
 */
static enum qerr
build_claimed(struct store *s, const struct conf *c, const struct job *j,
    int32_t pid)
{
	struct caller		 self;
	struct definition	 d;
	struct build_result	 res;
	struct renewal		 r;
	char			 file[JOB_FILE_MAX], path[PATH_MAX], detail[600];
	long long		 t0 = mono_ms(), retention;
	enum qerr		 e;

	caller_system(&self, NULL);
	if ((e = definition_get(s, &self, j->def_id, &d)) != Q_OK) {
		snprintf(detail, sizeof(detail), "definition %s: %s",
		    j->def_id, qerr_str(e));
		return record_failure(s, c, j, pid, detail, e != Q_NOTFOUND,
		    t0);
	}
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.c = c;
	r.j = j;
	r.pid = pid;
	r.last_ms = t0;
	e = build_job_file(s, c, &d, j, renew, &r, file, &res);
	retention = d.retention > 0 ? d.retention : c->retention_default;
	definition_free(&d);
	if (e == Q_CANCELLED && r.lost) {
		qlog(LOG_INFO, "job %s tenant %s: stopped after %.3f s (no "
		    "longer running: cancelled); partial output removed",
		    j->id, j->tenant, (double)(mono_ms() - t0) / 1000);
		return Q_OK;
	}
	if (e != Q_OK)
		return record_failure(s, c, j, pid, res.detail, res.retry, t0);
	e = job_complete(s, j->id, pid, file, res.bytes, res.rows, retention);
	if (e == Q_OK) {
		qlog(LOG_INFO, "job %s tenant %s: completed in %.3f s: %llu "
		    "rows, %llu bytes", j->id, j->tenant,
		    (double)(mono_ms() - t0) / 1000,
		    (unsigned long long)res.rows,
		    (unsigned long long)res.bytes);
		return Q_OK;
	}
	/* Not completed: the file must not stay where it could be served. */
	if (files_path(c, file, path, sizeof(path)) == 0)
		unlink(path);
	if (e == Q_STATE) {
		qlog(LOG_INFO, "job %s tenant %s: cancelled as it completed "
		    "(after %.3f s); file removed", j->id, j->tenant,
		    (double)(mono_ms() - t0) / 1000);
		return Q_OK;
	}
	qlog(LOG_ERR, "job %s: recording completion failed: %s", j->id,
	    qerr_str(e));
	return e;
}

/* Claims and builds one job (see sched.h). */
int
worker_run(const struct conf *c, int claim_fd)
{
	struct store	*s = NULL;
	struct job	 j;
	int32_t		 pid = (int32_t)getpid();
	int		 rc = WX_ERROR;
	enum qerr	 e;

	memset(&j, 0, sizeof(j));
	if ((e = store_open(c, 0, &s)) != Q_OK) {
		qlog(LOG_ERR, "worker: cannot open the store: %s",
		    qerr_str(e));
		goto out;
	}
	if ((e = job_claim(s, pid, c->lease_seconds, &j)) != Q_OK) {
		if (e == Q_NOTFOUND) {
			rc = WX_EMPTY;
			if (j.not_before != 0)
				report_claim(claim_fd, &j);
		} else
			qlog(LOG_ERR, "worker: claiming a job failed: %s",
			    qerr_str(e));
		goto out;
	}
	if (report_claim(claim_fd, &j) != 0)
		qlog(LOG_WARN, "job %s: telling the master failed: %s", j.id,
		    strerror(errno));
	close(claim_fd);
	claim_fd = -1;
	qlog(LOG_INFO, "job %s tenant %s: running (attempt %u of %d)", j.id,
	    j.tenant, j.attempts, c->max_attempts);
	if (build_claimed(s, c, &j, pid) == Q_OK)
		rc = WX_DONE;
	job_free(&j);
out:
	if (claim_fd >= 0)
		close(claim_fd);
	store_close(s);
	return rc;
}
