/*
 * The queue: the scheduler's side of jobs.  Claims (fair across tenants),
 * leases renewed with progress, the outcome of a build (completed, or
 * failed and maybe requeued with back-off), and the running jobs whose
 * lease ran out put back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/job.h"
#include "quarry/seams.h"

struct claim {
	int32_t		 pid;
	int		 lease;
	struct job	*j;
	struct buf	 moved;		/* entries being moved between tables */
	time_t		 now;
	char		 id[ID_LEN + 1];	/* the job found */
	char		 tenant[TENANT_MAX];
	int		 found;
};

/* ---- the queue of stores made before T_READY and T_DELAYED ---- */

static int
collect_old(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct claim *c = arg;

	if (kl != 8 || vl < ID_LEN)
		return Q_STORE;
	buf_add(&c->moved, k, 8);
	buf_add(&c->moved, v, ID_LEN);
	return VISIT_NEXT;
}

/*
 * Moves every entry of T_QUEUE (the queue of an older store) to T_READY
 * or T_DELAYED by its job's record; an entry whose job is no longer
 * queued is dropped.  A cursor seek when T_QUEUE is empty, as it stays
 * after the first claim.
 */
static enum qerr
migrate_old_queue(struct stx *tx, struct claim *c)
{
	struct job	j;
	char		id[ID_LEN + 1];
	size_t		i;
	enum qerr	e;

	buf_reset(&c->moved);
	if ((e = stx_scan(tx, T_QUEUE, "", 0, NULL, 0, collect_old, c)) !=
	    Q_OK)
		return e;
	for (i = 0; i + 8 + ID_LEN <= c->moved.len; i += 8 + ID_LEN) {
		if ((e = stx_del(tx, T_QUEUE, c->moved.data + i, 8)) != Q_OK)
			return e;
		memcpy(id, c->moved.data + i + 8, ID_LEN);
		id[ID_LEN] = '\0';
		if ((e = job_read(tx, id, &j)) == Q_NOTFOUND)
			continue;
		if (e == Q_OK && j.state == JS_QUEUED)
			e = job_queue_put(tx, &j);
		job_free(&j);
		if (e != Q_OK)
			return e;
	}
	return c->moved.oom ? Q_NOMEM : Q_OK;
}

/* ---- the delayed jobs ---- */

static int
collect_due(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct claim *c = arg;

	if (kl != 16 || vl <= ID_LEN || vl >= ID_LEN + TENANT_MAX)
		return Q_STORE;
	if ((time_t)be64_get(k) > c->now) {
		c->j->not_before = (time_t)be64_get(k);	/* the next one */
		return VISIT_STOP;
	}
	/* key, then the value's length and the value */
	buf_add(&c->moved, k, 16);
	buf_addc(&c->moved, (char)vl);
	buf_add(&c->moved, v, vl);
	return VISIT_NEXT;
}

/*
 * Moves the delayed jobs whose back-off has passed to T_READY; sets
 * c->j->not_before to the time the first still waiting will be due (0 if
 * none).  Each entry moves once, so the cost is that of the jobs that
 * became due.
 */
static enum qerr
promote_due(struct stx *tx, struct claim *c)
{
	unsigned char	 rk[JOB_INDEX_KEY_MAX];
	const char	*p, *end;
	size_t		 vl, tl;
	enum qerr	 e;

	buf_reset(&c->moved);
	c->j->not_before = 0;
	if ((e = stx_scan(tx, T_DELAYED, "", 0, NULL, 0, collect_due, c)) !=
	    Q_OK)
		return e;
	if (c->moved.oom)
		return Q_NOMEM;
	for (p = c->moved.data, end = p + c->moved.len; p < end;
	    p += 16 + 1 + vl) {
		vl = (unsigned char)p[16];
		tl = vl - ID_LEN;
		if ((e = stx_del(tx, T_DELAYED, p, 16)) != Q_OK)
			return e;
		memcpy(rk, p + 17 + ID_LEN, tl);
		rk[tl] = '\0';
		memcpy(rk + tl + 1, p + 8, 8);	/* be64(seq) */
		if ((e = stx_put(tx, T_READY, rk, tl + 9, p + 17, ID_LEN)) !=
		    Q_OK)
			return e;
	}
	return Q_OK;
}

/* ---- claiming ---- */

static int
first_ready(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct claim	*c = arg;
	const char	*nul = memchr(k, '\0', kl);

	if (vl != ID_LEN || nul == NULL || (size_t)(nul - (const char *)k) >=
	    TENANT_MAX || kl != (size_t)(nul - (const char *)k) + 9)
		return Q_STORE;
	memcpy(c->id, v, ID_LEN);
	c->id[ID_LEN] = '\0';
	memcpy(c->tenant, k, (size_t)(nul - (const char *)k) + 1);
	c->found = 1;
	return VISIT_STOP;
}

/*
 * Finds the job to claim: the tenants with a due job take turns in name
 * order after the tenant served last (wrapping round), each giving its
 * oldest due job.  Two cursor seeks in T_READY, whatever the queue's
 * depth.
 */
static enum qerr
find_fair(struct stx *tx, struct claim *c, const char *last)
{
	char		start[TENANT_MAX + 1];
	size_t		n = strlen(last);
	enum qerr	e;

	c->found = 0;
	/* after every key of the last tenant: its name, then 0x01 */
	memcpy(start, last, n);
	start[n] = '\1';
	if (n > 0 && (e = stx_scan(tx, T_READY, "", 0, start, n + 1,
	    first_ready, c)) != Q_OK)
		return e;
	if (!c->found && (e = stx_scan(tx, T_READY, "", 0, NULL, 0,
	    first_ready, c)) != Q_OK)
		return e;
	return Q_OK;
}

static enum qerr
tx_claim(struct stx *tx, void *arg)
{
	struct claim	*c = arg;
	struct buf	 last = BUF_INIT;
	char		 lastt[TENANT_MAX] = "";
	enum qerr	 e;

	job_free(c->j);		/* a retried transaction starts afresh */
	c->now = q_seams.now();
	if ((e = migrate_old_queue(tx, c)) != Q_OK ||
	    (e = promote_due(tx, c)) != Q_OK)
		return e;
	e = stx_get(tx, T_META, "claim_tenant", 12, &last);
	if (e == Q_OK && last.len < TENANT_MAX) {
		memcpy(lastt, last.data, last.len);
		lastt[last.len] = '\0';
	}
	buf_free(&last);
	if (e != Q_OK && e != Q_NOTFOUND)
		return e;
	if ((e = find_fair(tx, c, lastt)) != Q_OK)
		return e;
	if (!c->found)
		return Q_NOTFOUND;	/* c->j->not_before: the next due */
	if ((e = stx_put(tx, T_META, "claim_tenant", 12, c->tenant,
	    strlen(c->tenant))) != Q_OK)
		return e;
	if ((e = job_read(tx, c->id, c->j)) != Q_OK)
		return e;
	c->j->attempts++;
	c->j->worker_pid = c->pid;
	c->j->lease_until = c->now + c->lease;
	c->j->rows = c->j->bytes = 0;
	c->j->read_pm = 0;
	e = Q_OK;
	if (c->j->not_before != 0) {
		/*
		 * The detail said when it would be retried: it is now.  (Its
		 * T_DELAYED entry went when it became due.)
		 */
		c->j->not_before = 0;
		e = job_set_detail(c->j, "");
	}
	if (e == Q_OK)
		e = job_transition(tx, c->j, JS_RUNNING);
	if (e != Q_OK)
		job_free(c->j);
	return e;
}

/* Claims a due queued job, fairly across tenants (see model.h). */
enum qerr
job_claim(struct store *s, int32_t pid, int lease_seconds, struct job *out)
{
	struct claim	c;
	enum qerr	e;

	memset(&c, 0, sizeof(c));
	c.pid = pid;
	c.lease = lease_seconds;
	c.j = out;
	memset(out, 0, sizeof(*out));
	e = store_txn(s, tx_claim, &c);
	buf_free(&c.moved);
	return e;
}

struct update {
	const char	*id;
	int32_t		 pid;
	int		 lease;
	uint64_t	 rows, bytes, size;
	int		 read_pm;	/* see struct job */
	const char	*file;
	const char	*detail;
	int		 retry;
	int		 max_attempts;
	int		 backoff;
	long long	 retention;
	enum job_state	 result;
};

/* Reads a job that pid must own and that must still be running. */
static enum qerr
get_owned(struct stx *tx, const struct update *u, struct job *j)
{
	enum qerr e;

	if ((e = job_read(tx, u->id, j)) != Q_OK)
		return e;
	if (j->state != JS_RUNNING || j->worker_pid != u->pid) {
		job_free(j);
		return Q_STATE;
	}
	return Q_OK;
}

static enum qerr
tx_progress(struct stx *tx, void *arg)
{
	struct update	*u = arg;
	struct job	 j;
	enum qerr	 e;

	if ((e = get_owned(tx, u, &j)) != Q_OK)
		return e;
	j.rows = u->rows;
	j.bytes = u->bytes;
	j.read_pm = u->read_pm;
	j.lease_until = q_seams.now() + u->lease;
	e = job_write(tx, &j);
	job_free(&j);
	return e;
}

enum qerr
job_progress(struct store *s, const char *id, int32_t pid, int lease,
    uint64_t rows, uint64_t bytes, int permille)
{
	struct update u = { .id = id, .pid = pid, .lease = lease,
	    .rows = rows, .bytes = bytes,
	    .read_pm = permille < 0 || permille > 1000 ? 0 : permille + 1 };

	return store_txn(s, tx_progress, &u);
}

static enum qerr
tx_complete(struct stx *tx, void *arg)
{
	struct update	*u = arg;
	struct job	 j;
	enum qerr	 e;

	if ((e = get_owned(tx, u, &j)) != Q_OK)
		return e;
	snprintf(j.file, sizeof(j.file), "%s", u->file);
	j.file_size = u->size;
	j.rows = u->rows;
	j.bytes = u->size;
	j.lease_until = 0;
	if ((e = job_transition(tx, &j, JS_COMPLETED)) == Q_OK) {
		j.expires = j.finished + (time_t)u->retention;
		e = job_write(tx, &j);
	}
	job_free(&j);
	return e;
}

enum qerr
job_complete(struct store *s, const char *id, int32_t pid, const char *file,
    uint64_t size, uint64_t rows, long long retention)
{
	struct update u = { .id = id, .pid = pid, .file = file, .size = size,
	    .rows = rows, .retention = retention };

	return store_txn(s, tx_complete, &u);
}

/* The wait before the next attempt (see model.h). */
long long
job_backoff(int base, uint32_t attempts)
{
	long long	d = base, cap = base > JOB_BACKOFF_MAX ? base :
			    JOB_BACKOFF_MAX;
	uint32_t	i;

	if (base <= 0)
		return 0;
	for (i = 1; i < attempts && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

/*
 * Fails or requeues a running job, by its attempts.  A requeued job
 * waits job_backoff(backoff, attempts) and its detail says why and
 * until when.
 */
static enum qerr
fail_or_requeue(struct stx *tx, struct job *j, const char *detail,
    int retry, int max_attempts, int backoff, enum job_state *result)
{
	char		 when[RFC3339_LEN], *d;
	long long	 wait;
	int		 n;

	*result = retry && j->attempts < (uint32_t)max_attempts ?
	    JS_QUEUED : JS_FAILED;
	wait = *result == JS_QUEUED ? job_backoff(backoff, j->attempts) : 0;
	j->not_before = wait > 0 ? q_seams.now() + (time_t)wait : 0;
	if (wait > 0) {
		time_rfc3339(j->not_before, when);
		n = asprintf(&d, "%s; attempt %u of %d will start at %s",
		    detail, j->attempts + 1, max_attempts, when);
		if (n < 0)
			return Q_NOMEM;
	} else if ((d = strdup(detail)) == NULL)
		return Q_NOMEM;
	free(j->detail);
	j->detail = d;
	j->lease_until = 0;
	j->worker_pid = 0;
	return job_transition(tx, j, *result);
}

static enum qerr
tx_fail(struct stx *tx, void *arg)
{
	struct update	*u = arg;
	struct job	 j;
	enum qerr	 e;

	if ((e = get_owned(tx, u, &j)) != Q_OK)
		return e;
	e = fail_or_requeue(tx, &j, u->detail, u->retry, u->max_attempts,
	    u->backoff, &u->result);
	job_free(&j);
	return e;
}

enum qerr
job_fail(struct store *s, const char *id, int32_t pid, const char *detail,
    int retry, int max_attempts, int backoff)
{
	struct update u = { .id = id, .pid = pid, .detail = detail,
	    .retry = retry, .max_attempts = max_attempts, .backoff = backoff };

	return store_txn(s, tx_fail, &u);
}

struct stale {
	int		 all;
	int		 max_attempts;
	int		 backoff;
	const int32_t	*live;
	size_t		 nlive;
	unsigned	 n;
	struct buf	 ids;
};

/* True if pid is one of the caller's live workers. */
static int
is_live(const struct stale *st, int32_t pid)
{
	size_t i;

	for (i = 0; i < st->nlive; i++)
		if (st->live[i] == pid)
			return 1;
	return 0;
}

static int
collect_running(const void *k, size_t kl, const void *v, size_t vl,
    void *arg)
{
	struct stale		*st = arg;
	struct rec_reader	 r;
	uint64_t		 state;

	(void)vl;
	if (kl != ID_LEN)
		return VISIT_NEXT;
	/* cheap peek: id, tenant, def, owner, then state */
	rec_open(&r, v, vl, 'J');
	rec_get_ref(&r, &(size_t){0});
	rec_get_ref(&r, &(size_t){0});
	rec_get_ref(&r, &(size_t){0});
	rec_get_ref(&r, &(size_t){0});
	state = rec_get_u64(&r);
	if (!r.err && state == JS_RUNNING)
		buf_add(&st->ids, k, ID_LEN);
	return VISIT_NEXT;
}

static enum qerr
tx_requeue_stale(struct stx *tx, void *arg)
{
	struct stale	*st = arg;
	struct job	 j;
	char		 id[ID_LEN + 1];
	size_t		 i;
	enum job_state	 result;
	enum qerr	 e;

	buf_reset(&st->ids);
	st->n = 0;
	if ((e = stx_scan(tx, T_JOBS, "", 0, NULL, 0, collect_running,
	    st)) != Q_OK)
		return e;
	for (i = 0; i + ID_LEN <= st->ids.len; i += ID_LEN) {
		memcpy(id, st->ids.data + i, ID_LEN);
		id[ID_LEN] = '\0';
		if ((e = job_read(tx, id, &j)) != Q_OK)
			return e;
		if ((st->all || j.lease_until < q_seams.now()) &&
		    !is_live(st, j.worker_pid)) {
			e = fail_or_requeue(tx, &j, "the build was "
			    "interrupted (worker or scheduler stopped)", 1,
			    st->max_attempts, st->backoff, &result);
			if (e == Q_OK && result == JS_FAILED) {
				e = job_set_detail(&j, "failed: the build was "
				    "interrupted and the maximum number of "
				    "attempts was reached");
				if (e == Q_OK)
					e = job_write(tx, &j);
			}
			st->n++;
		}
		job_free(&j);
		if (e != Q_OK)
			return e;
	}
	return Q_OK;
}

/* Puts back running jobs whose lease ran out (see model.h). */
enum qerr
job_requeue_stale(struct store *s, int all, int max_attempts, int backoff,
    const int32_t *live, size_t nlive, unsigned *n)
{
	struct stale	st = { all, max_attempts, backoff, live, nlive, 0,
			    BUF_INIT };
	enum qerr	e;

	e = store_txn(s, tx_requeue_stale, &st);
	*n = st.n;
	buf_free(&st.ids);
	return e;
}
