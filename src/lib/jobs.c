/*
 * Jobs and their state machine (SPEC section 2).
 *
 * Record 'J' version 1 (key id): id, tenant, def_id, owner, state, format,
 * params, seq, created, updated, started, finished, expires, lease_until,
 * attempts, rows, bytes, detail, file, file_size, worker_pid.
 * Version 2 appends name and approved; a version 1 record reads as an
 * unnamed, never approved job.  Version 3 appends not_before (the
 * back-off of a requeued job); older records read as 0, due at once.
 *
 * Indexes kept in the same transaction as the record:
 *	T_JOBS_BY_DEF	 def_id + be64(~seq)		newest first
 *	T_JOBS_BY_TENANT tenant NUL be64(~seq)		newest first
 *	T_QUEUE		 be64(seq) -> id be64(not_before) tenant	queued, oldest
 *			 first (an entry of id alone, written before not_before
 *			 existed, is read through its job record)
 *	T_ACTIVE	 tenant NUL def NUL fmt NUL params	while active
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>

#include "quarry/model.h"
#include "quarry/rec.h"
#include "quarry/seams.h"

#define JOB_V 3		/* 3 added not_before, 2 name and approved; all read */

static const char *const state_names[JS_NSTATES] = {
	"pending_approval", "queued", "running", "completed", "failed",
	"rejected", "cancelled", "expired"
};

const char *
job_state_name(enum job_state s)
{
	return s < JS_NSTATES ? state_names[s] : "unknown";
}

int
job_state_parse(const char *s, enum job_state *out)
{
	int i;

	for (i = 0; i < JS_NSTATES; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum job_state)i;
			return 0;
		}
	return -1;
}

int
job_state_active(enum job_state s)
{
	return s == JS_PENDING_APPROVAL || s == JS_QUEUED || s == JS_RUNNING;
}

int
job_state_finished(enum job_state s)
{
	return !job_state_active(s);
}

/* The state machine of SPEC section 2: which transitions exist. */
int
job_transition_allowed(enum job_state from, enum job_state to)
{
	switch (from) {
	case JS_PENDING_APPROVAL:
		return to == JS_QUEUED || to == JS_REJECTED ||
		    to == JS_CANCELLED;
	case JS_QUEUED:
		return to == JS_RUNNING || to == JS_CANCELLED;
	case JS_RUNNING:
		return to == JS_COMPLETED || to == JS_FAILED ||
		    to == JS_CANCELLED || to == JS_QUEUED;
	case JS_COMPLETED:
		return to == JS_EXPIRED;
	case JS_FAILED:
	case JS_CANCELLED:
		return to == JS_QUEUED;		/* an admin's requeue */
	default:
		return 0;
	}
}

void
job_free(struct job *j)
{
	free(j->params);
	free(j->detail);
	free(j->name);
	j->params = j->detail = j->name = NULL;
}

static void
job_encode(struct buf *b, const struct job *j)
{
	rec_begin(b, 'J', JOB_V);
	rec_str(b, j->id);
	rec_str(b, j->tenant);
	rec_str(b, j->def_id);
	rec_str(b, j->owner);
	rec_u64(b, (uint64_t)j->state);
	rec_u64(b, (uint64_t)j->format);
	rec_str(b, j->params);
	rec_u64(b, j->seq);
	rec_u64(b, (uint64_t)j->created);
	rec_u64(b, (uint64_t)j->updated);
	rec_u64(b, (uint64_t)j->started);
	rec_u64(b, (uint64_t)j->finished);
	rec_u64(b, (uint64_t)j->expires);
	rec_u64(b, (uint64_t)j->lease_until);
	rec_u64(b, j->attempts);
	rec_u64(b, j->rows);
	rec_u64(b, j->bytes);
	rec_str(b, j->detail);
	rec_str(b, j->file);
	rec_u64(b, j->file_size);
	rec_u64(b, (uint64_t)(uint32_t)j->worker_pid);
	rec_str(b, j->name ? j->name : "");
	rec_u64(b, (uint64_t)j->approved);
	rec_u64(b, (uint64_t)j->not_before);
}

static enum qerr
job_decode(const void *p, size_t n, struct job *j)
{
	struct rec_reader	r;
	uint64_t		st, fm;

	memset(j, 0, sizeof(*j));
	rec_open(&r, p, n, 'J');
	if (r.version < 1 || r.version > JOB_V)
		return Q_STORE;
	rec_get_strn(&r, j->id, sizeof(j->id));
	rec_get_strn(&r, j->tenant, sizeof(j->tenant));
	rec_get_strn(&r, j->def_id, sizeof(j->def_id));
	rec_get_strn(&r, j->owner, sizeof(j->owner));
	st = rec_get_u64(&r);
	fm = rec_get_u64(&r);
	j->params = rec_get_str(&r);
	j->seq = rec_get_u64(&r);
	j->created = (time_t)rec_get_u64(&r);
	j->updated = (time_t)rec_get_u64(&r);
	j->started = (time_t)rec_get_u64(&r);
	j->finished = (time_t)rec_get_u64(&r);
	j->expires = (time_t)rec_get_u64(&r);
	j->lease_until = (time_t)rec_get_u64(&r);
	j->attempts = (uint32_t)rec_get_u64(&r);
	j->rows = rec_get_u64(&r);
	j->bytes = rec_get_u64(&r);
	j->detail = rec_get_str(&r);
	rec_get_strn(&r, j->file, sizeof(j->file));
	j->file_size = rec_get_u64(&r);
	j->worker_pid = (int32_t)(uint32_t)rec_get_u64(&r);
	if (r.version >= 2) {
		j->name = rec_get_str(&r);
		j->approved = (time_t)rec_get_u64(&r);
	} else
		j->name = strdup("");
	if (r.version >= 3)
		j->not_before = (time_t)rec_get_u64(&r);
	if (j->name == NULL)
		r.err = 1;
	if (r.err || st >= JS_NSTATES || fm >= FMT_COUNT) {
		job_free(j);
		return Q_STORE;
	}
	j->state = (enum job_state)st;
	j->format = (enum fmt)fm;
	return Q_OK;
}

static void
active_key(struct buf *k, const struct job *j)
{
	buf_reset(k);
	buf_adds(k, j->tenant);
	buf_addc(k, '\0');
	buf_adds(k, j->def_id);
	buf_addc(k, '\0');
	buf_adds(k, fmt_name(j->format));
	buf_addc(k, '\0');
	buf_adds(k, j->params);
}

static enum qerr
put_job(struct stx *tx, const struct job *j)
{
	struct buf	b = BUF_INIT;
	enum qerr	e;

	job_encode(&b, j);
	e = b.oom ? Q_NOMEM : stx_put(tx, T_JOBS, j->id, ID_LEN, b.data, b.len);
	buf_free(&b);
	return e;
}

static enum qerr
get_job(struct stx *tx, const char *id, struct job *j)
{
	struct buf	b = BUF_INIT;
	enum qerr	e;

	if ((e = stx_get(tx, T_JOBS, id, ID_LEN, &b)) == Q_OK)
		e = job_decode(b.data, b.len, j);
	buf_free(&b);
	return e;
}

/*
 * The queue entry carries what a claim needs to choose without reading
 * job records: the id, the back-off time and the tenant.
 */
static enum qerr
queue_put(struct stx *tx, const struct job *j)
{
	unsigned char	k[8], v[ID_LEN + 8 + TENANT_MAX];
	size_t		tl = strlen(j->tenant);

	be64_put(k, j->seq);
	memcpy(v, j->id, ID_LEN);
	be64_put(v + ID_LEN, (uint64_t)j->not_before);
	memcpy(v + ID_LEN + 8, j->tenant, tl);
	return stx_put(tx, T_QUEUE, k, 8, v, ID_LEN + 8 + tl);
}

static enum qerr
queue_del(struct stx *tx, const struct job *j)
{
	unsigned char	k[8];
	enum qerr	e;

	be64_put(k, j->seq);
	e = stx_del(tx, T_QUEUE, k, 8);
	return e == Q_NOTFOUND ? Q_OK : e;
}

static enum qerr
active_del(struct stx *tx, const struct job *j)
{
	struct buf	k = BUF_INIT;
	enum qerr	e;

	active_key(&k, j);
	e = k.oom ? Q_NOMEM : stx_del(tx, T_ACTIVE, k.data, k.len);
	buf_free(&k);
	return e == Q_NOTFOUND ? Q_OK : e;
}

/*
 * Moves j to state `to` with the index changes that go with it: the queue
 * entry exists exactly while queued, the active key while active.
 */
static enum qerr
transition(struct stx *tx, struct job *j, enum job_state to)
{
	enum qerr e;

	if (!job_transition_allowed(j->state, to))
		return Q_STATE;
	if (j->state == JS_QUEUED && (e = queue_del(tx, j)) != Q_OK)
		return e;
	if (to == JS_QUEUED && (e = queue_put(tx, j)) != Q_OK)
		return e;
	if (!job_state_active(to) && (e = active_del(tx, j)) != Q_OK)
		return e;
	j->state = to;
	j->updated = q_seams.now();
	if (to == JS_RUNNING && j->started == 0)
		j->started = j->updated;
	if (!job_state_active(to) && to != JS_EXPIRED)
		j->finished = j->updated;
	return put_job(tx, j);
}

static enum qerr set_detail(struct job *j, const char *detail);

/* ---- create ---- */

struct create {
	struct job	*j;
	char		*existing;
};

static enum qerr
tx_job_create(struct stx *tx, void *arg)
{
	struct create	*c = arg;
	struct job	*j = c->j;
	struct buf	 k = BUF_INIT, v = BUF_INIT;
	unsigned char	 seqk[8], ik[TENANT_MAX + 9];
	size_t		 tl;
	enum qerr	 e;

	/* The definition must still exist (a delete may have raced us). */
	if ((e = stx_get(tx, T_DEFS, j->def_id, ID_LEN, &v)) != Q_OK)
		goto out;
	active_key(&k, j);
	if (k.oom) {
		e = Q_NOMEM;
		goto out;
	}
	e = stx_put_new(tx, T_ACTIVE, k.data, k.len, j->id, ID_LEN);
	if (e == Q_EXISTS) {
		if (stx_get(tx, T_ACTIVE, k.data, k.len, &v) == Q_OK &&
		    v.len == ID_LEN)
			memcpy(c->existing, v.data, ID_LEN + 1);
		goto out;
	}
	if (e != Q_OK)
		goto out;
	e = stx_get(tx, T_META, "job_seq", 7, &v);
	if (e == Q_OK && v.len == 8)
		j->seq = be64_get((unsigned char *)v.data) + 1;
	else if (e == Q_NOTFOUND)
		j->seq = 1;
	else
		goto out;
	be64_put(seqk, j->seq);
	if ((e = stx_put(tx, T_META, "job_seq", 7, seqk, 8)) != Q_OK ||
	    (e = put_job(tx, j)) != Q_OK)
		goto out;
	memcpy(ik, j->def_id, ID_LEN);
	be64_put(ik + ID_LEN, ~j->seq);
	if ((e = stx_put(tx, T_JOBS_BY_DEF, ik, ID_LEN + 8, j->id,
	    ID_LEN)) != Q_OK)
		goto out;
	tl = strlen(j->tenant) + 1;
	memcpy(ik, j->tenant, tl);
	be64_put(ik + tl, ~j->seq);
	if ((e = stx_put(tx, T_JOBS_BY_TENANT, ik, tl + 8, j->id,
	    ID_LEN)) != Q_OK)
		goto out;
	if (j->state == JS_QUEUED)
		e = queue_put(tx, j);
out:
	buf_free(&k);
	buf_free(&v);
	return e;
}

/* Creates a job of d (see model.h). */
enum qerr
job_create(struct store *s, const struct definition *d, const char *owner,
    const char *params, enum fmt format, struct job *out,
    char existing[ID_LEN + 1])
{
	return job_create_named(s, d, owner, NULL, params, format, out,
	    existing);
}

/* Creates a named job of d (see model.h). */
enum qerr
job_create_named(struct store *s, const struct definition *d,
    const char *owner, const char *name, const char *params, enum fmt format,
    struct job *out, char existing[ID_LEN + 1])
{
	struct create	c;
	enum qerr	e;

	memset(out, 0, sizeof(*out));
	existing[0] = '\0';
	if ((e = id_new(out->id)) != Q_OK)
		return e;
	memcpy(out->tenant, d->tenant, sizeof(out->tenant));
	memcpy(out->def_id, d->id, sizeof(out->def_id));
	snprintf(out->owner, sizeof(out->owner), "%s", owner ? owner : "");
	out->state = d->approval ? JS_PENDING_APPROVAL : JS_QUEUED;
	out->format = format;
	if ((out->params = strdup(params)) == NULL ||
	    (out->detail = strdup("")) == NULL ||
	    (out->name = strdup(name ? name : (d->name ? d->name : ""))) ==
	    NULL) {
		job_free(out);
		return Q_NOMEM;
	}
	out->created = out->updated = q_seams.now();
	c.j = out;
	c.existing = existing;
	if ((e = store_txn(s, tx_job_create, &c)) != Q_OK)
		job_free(out);
	return e;
}

struct job_find {
	const char	*id;
	struct job	*j;
};

static enum qerr
tx_job_get(struct stx *tx, void *arg)
{
	struct job_find *f = arg;

	return get_job(tx, f->id, f->j);
}

enum qerr
job_get(struct store *s, const char *id, struct job *out)
{
	struct job_find f = { id, out };

	memset(out, 0, sizeof(*out));
	if (!id_valid(id))
		return Q_NOTFOUND;
	return store_txn(s, tx_job_get, &f);
}

/* ---- listing ---- */

struct job_listing {
	struct stx	*tx;
	enum table	 table;	/* T_JOBS_BY_DEF or T_JOBS_BY_TENANT */
	const void	*prefix;
	size_t		 plen;
	size_t		 limit;
	size_t		 n;
	job_cb		 cb;
	void		*arg;
	struct buf	 ids;	/* collected ids, visited after the scan */
};

static int
collect_id(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct job_listing *l = arg;

	(void)k;
	(void)kl;
	if (vl != ID_LEN)
		return Q_STORE;
	buf_add(&l->ids, v, ID_LEN);
	return l->limit != 0 && ++l->n >= l->limit ? 1 : 0;
}

static enum qerr
tx_collect(struct stx *tx, void *arg)
{
	struct job_listing *l = arg;

	buf_reset(&l->ids);
	l->n = 0;
	return stx_scan(tx, l->table, l->prefix ? l->prefix : "", l->plen,
	    NULL, 0, collect_id, l);
}

/*
 * Collects the ids under an index prefix in one transaction, then reads
 * each job in its own: a long listing never holds many locks, and a job
 * deleted in between is skipped.
 */
static enum qerr
list_jobs(struct store *s, struct job_listing *l)
{
	struct job	j;
	char		id[ID_LEN + 1];
	size_t		i;
	enum qerr	e;
	int		rc;

	if ((e = store_txn(s, tx_collect, l)) != Q_OK)
		goto out;
	if (l->ids.oom) {
		e = Q_NOMEM;
		goto out;
	}
	for (i = 0; i + ID_LEN <= l->ids.len; i += ID_LEN) {
		memcpy(id, l->ids.data + i, ID_LEN);
		id[ID_LEN] = '\0';
		e = job_get(s, id, &j);
		if (e == Q_NOTFOUND)
			continue;
		if (e != Q_OK)
			goto out;
		rc = l->cb(&j, l->arg);
		job_free(&j);
		if (rc == 1)
			break;
		if (rc != 0) {
			e = (enum qerr)rc;
			goto out;
		}
	}
	e = Q_OK;
out:
	buf_free(&l->ids);
	return e;
}

/* Jobs of a definition, newest first, at most limit (0 = all). */
enum qerr
job_list_by_def(struct store *s, const char *def_id, size_t limit,
    job_cb cb, void *arg)
{
	struct job_listing l;

	if (!id_valid(def_id))
		return Q_NOTFOUND;
	memset(&l, 0, sizeof(l));
	l.table = T_JOBS_BY_DEF;
	l.prefix = def_id;
	l.plen = ID_LEN;
	l.limit = limit;
	l.cb = cb;
	l.arg = arg;
	return list_jobs(s, &l);
}

/* Jobs of a tenant (NULL = every tenant), newest first. */
enum qerr
job_list(struct store *s, const char *tenant, job_cb cb, void *arg)
{
	struct job_listing	l;
	char			p[TENANT_MAX + 1];

	memset(&l, 0, sizeof(l));
	l.table = T_JOBS_BY_TENANT;
	if (tenant != NULL) {
		if (!name_valid(tenant))
			return Q_OK;
		l.plen = (size_t)snprintf(p, sizeof(p), "%s", tenant) + 1;
		l.prefix = p;
	}
	l.cb = cb;
	l.arg = arg;
	return list_jobs(s, &l);
}

/* ---- the scheduler's side ---- */

/* One queue entry, as a claim sees it. */
struct qentry {
	char	 id[ID_LEN + 1];
	char	 tenant[TENANT_MAX];
	time_t	 not_before;
	int	 legacy;	/* id alone: tenant and time from the record */
};

struct claim {
	int32_t		 pid;
	int		 lease;
	struct job	*j;
	struct qentry	*q;		/* the queue, oldest first */
	size_t		 nq, capq;
	int		 oom;
};

static int
collect_queue(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct claim	*c = arg;
	struct qentry	*q;
	size_t		 tl;

	(void)k;
	(void)kl;
	if (vl != ID_LEN && (vl <= ID_LEN + 8 || vl >= ID_LEN + 8 + TENANT_MAX))
		return Q_STORE;
	if (c->nq == c->capq) {
		c->capq = c->capq ? c->capq * 2 : 64;
		if ((q = realloc(c->q, c->capq * sizeof(*q))) == NULL) {
			c->oom = 1;
			return Q_NOMEM;
		}
		c->q = q;
	}
	q = &c->q[c->nq++];
	memset(q, 0, sizeof(*q));
	memcpy(q->id, v, ID_LEN);
	if (vl == ID_LEN) {
		q->legacy = 1;
		return 0;
	}
	q->not_before = (time_t)be64_get((const unsigned char *)v + ID_LEN);
	tl = vl - ID_LEN - 8;
	memcpy(q->tenant, (const char *)v + ID_LEN + 8, tl);
	return 0;
}

/*
 * Chooses the job to claim: among the tenants with a due job, the first
 * in name order after the tenant served last (wrapping round), and that
 * tenant's oldest due job.  NULL if no job is due.
 */
static const struct qentry *
choose_fair(const struct claim *c, const char *last, time_t now,
    time_t *next)
{
	const struct qentry	*after = NULL, *first = NULL, *q;
	size_t			 i;

	*next = 0;
	for (i = 0; i < c->nq; i++) {
		q = &c->q[i];
		if (q->not_before > now) {
			if (*next == 0 || q->not_before < *next)
				*next = q->not_before;
			continue;
		}
		/* strict comparisons keep the oldest job of each tenant */
		if (first == NULL || strcmp(q->tenant, first->tenant) < 0)
			first = q;
		if (strcmp(q->tenant, last) > 0 && (after == NULL ||
		    strcmp(q->tenant, after->tenant) < 0))
			after = q;
	}
	return after != NULL ? after : first;
}

static enum qerr
tx_claim(struct stx *tx, void *arg)
{
	struct claim		*c = arg;
	const struct qentry	*q;
	struct buf		 last = BUF_INIT;
	struct job		 lj;
	char			 lastt[TENANT_MAX] = "";
	time_t			 next;
	size_t			 i;
	enum qerr		 e;

	job_free(c->j);		/* a retried transaction starts afresh */
	c->j->not_before = 0;
	c->nq = 0;
	if ((e = stx_scan(tx, T_QUEUE, "", 0, NULL, 0, collect_queue,
	    c)) != Q_OK)
		return e;
	for (i = 0; i < c->nq; i++) {
		if (!c->q[i].legacy)
			continue;
		if ((e = get_job(tx, c->q[i].id, &lj)) != Q_OK)
			return e;
		memcpy(c->q[i].tenant, lj.tenant, sizeof(lj.tenant));
		c->q[i].not_before = lj.not_before;
		job_free(&lj);
	}
	e = stx_get(tx, T_META, "claim_tenant", 12, &last);
	if (e == Q_OK && last.len < TENANT_MAX) {
		memcpy(lastt, last.data, last.len);
		lastt[last.len] = '\0';
	}
	buf_free(&last);
	if (e != Q_OK && e != Q_NOTFOUND)
		return e;
	if ((q = choose_fair(c, lastt, q_seams.now(), &next)) == NULL) {
		c->j->not_before = next;
		return Q_NOTFOUND;
	}
	if ((e = stx_put(tx, T_META, "claim_tenant", 12, q->tenant,
	    strlen(q->tenant))) != Q_OK)
		return e;
	if ((e = get_job(tx, q->id, c->j)) != Q_OK)
		return e;
	c->j->attempts++;
	c->j->worker_pid = c->pid;
	c->j->lease_until = q_seams.now() + c->lease;
	c->j->rows = c->j->bytes = 0;
	if (c->j->not_before != 0) {
		/* the detail said when it would be retried: it is now */
		c->j->not_before = 0;
		if ((e = set_detail(c->j, "")) != Q_OK) {
			job_free(c->j);
			return e;
		}
	}
	e = transition(tx, c->j, JS_RUNNING);
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
	free(c.q);
	return e;
}

struct update {
	const char	*id;
	int32_t		 pid;
	int		 lease;
	uint64_t	 rows, bytes, size;
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

	if ((e = get_job(tx, u->id, j)) != Q_OK)
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
	j.lease_until = q_seams.now() + u->lease;
	e = put_job(tx, &j);
	job_free(&j);
	return e;
}

enum qerr
job_progress(struct store *s, const char *id, int32_t pid, int lease,
    uint64_t rows, uint64_t bytes)
{
	struct update u = { .id = id, .pid = pid, .lease = lease,
	    .rows = rows, .bytes = bytes };

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
	if ((e = transition(tx, &j, JS_COMPLETED)) == Q_OK) {
		j.expires = j.finished + (time_t)u->retention;
		e = put_job(tx, &j);
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
	return transition(tx, j, *result);
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
		return 0;
	/* cheap peek: id, tenant, def, owner, then state */
	rec_open(&r, v, vl, 'J');
	rec_get_ref(&r, &(size_t){0});
	rec_get_ref(&r, &(size_t){0});
	rec_get_ref(&r, &(size_t){0});
	rec_get_ref(&r, &(size_t){0});
	state = rec_get_u64(&r);
	if (!r.err && state == JS_RUNNING)
		buf_add(&st->ids, k, ID_LEN);
	return 0;
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
		if ((e = get_job(tx, id, &j)) != Q_OK)
			return e;
		if ((st->all || j.lease_until < q_seams.now()) &&
		    !is_live(st, j.worker_pid)) {
			e = fail_or_requeue(tx, &j, "the build was "
			    "interrupted (worker or scheduler stopped)", 1,
			    st->max_attempts, st->backoff, &result);
			if (e == Q_OK && result == JS_FAILED) {
				e = set_detail(&j, "failed: the build was "
				    "interrupted and the maximum number of "
				    "attempts was reached");
				if (e == Q_OK)
					e = put_job(tx, &j);
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

/* ---- actions on one job: cancel, approve, reject, requeue, remove ---- */

enum job_action { ACT_CANCEL, ACT_APPROVE, ACT_REJECT, ACT_REQUEUE,
    ACT_REMOVE_FILE, ACT_EXPIRE };

struct action {
	const char	*id;
	enum job_action	 what;
	const char	*reason;
	struct job	*out;		/* the job after the action */
	enum job_state	 before;
	char		 file[64];	/* a file to delete once committed */
};

/* Inserts j's active key again; Q_EXISTS if another job holds it. */
static enum qerr
active_put(struct stx *tx, const struct job *j)
{
	struct buf	k = BUF_INIT;
	enum qerr	e;

	active_key(&k, j);
	e = k.oom ? Q_NOMEM : stx_put_new(tx, T_ACTIVE, k.data, k.len, j->id,
	    ID_LEN);
	buf_free(&k);
	return e;
}

static enum qerr
set_detail(struct job *j, const char *detail)
{
	char *d;

	if ((d = strdup(detail)) == NULL)
		return Q_NOMEM;
	free(j->detail);
	j->detail = d;
	return Q_OK;
}

static enum qerr
tx_action(struct stx *tx, void *arg)
{
	struct action	*a = arg;
	struct job	*j = a->out;
	enum qerr	 e;

	job_free(j);
	a->file[0] = '\0';
	if ((e = get_job(tx, a->id, j)) != Q_OK)
		return e;
	a->before = j->state;
	switch (a->what) {
	case ACT_CANCEL:
		if (!job_state_active(j->state))
			return Q_STATE;
		if ((e = set_detail(j, "cancelled")) != Q_OK)
			return e;
		return transition(tx, j, JS_CANCELLED);
	case ACT_APPROVE:
		if (j->state != JS_PENDING_APPROVAL)
			return Q_STATE;
		j->approved = q_seams.now();
		return transition(tx, j, JS_QUEUED);
	case ACT_REJECT:
		if (j->state != JS_PENDING_APPROVAL)
			return Q_STATE;
		if ((e = set_detail(j, a->reason && *a->reason ? a->reason :
		    "rejected")) != Q_OK)
			return e;
		return transition(tx, j, JS_REJECTED);
	case ACT_REQUEUE:
		if (j->state != JS_FAILED && j->state != JS_CANCELLED)
			return Q_STATE;
		/* A fresh start: the active-job rule applies again. */
		if ((e = active_put(tx, j)) != Q_OK)
			return e;
		j->attempts = 0;
		j->rows = j->bytes = 0;
		j->finished = 0;
		if ((e = set_detail(j, "")) != Q_OK)
			return e;
		return transition(tx, j, JS_QUEUED);
	case ACT_REMOVE_FILE:
		if (j->state != JS_COMPLETED)
			return Q_STATE;
		snprintf(a->file, sizeof(a->file), "%s", j->file);
		if ((e = set_detail(j, "the file was deleted")) != Q_OK)
			return e;
		return transition(tx, j, JS_EXPIRED);
	case ACT_EXPIRE:
		if (j->state != JS_COMPLETED || j->expires == 0 ||
		    j->expires > q_seams.now())
			return Q_STATE;
		snprintf(a->file, sizeof(a->file), "%s", j->file);
		if ((e = set_detail(j, "the file expired at the end of its "
		    "retention period")) != Q_OK)
			return e;
		return transition(tx, j, JS_EXPIRED);
	}
	return Q_STATE;
}

static enum qerr
act(struct store *s, const char *id, enum job_action what,
    const char *reason, struct job *out, enum job_state *before, char *file)
{
	struct action	a;
	enum qerr	e;

	memset(out, 0, sizeof(*out));
	if (!id_valid(id))
		return Q_NOTFOUND;
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.what = what;
	a.reason = reason;
	a.out = out;
	e = store_txn(s, tx_action, &a);
	if (before != NULL)
		*before = a.before;
	if (file != NULL)
		snprintf(file, 64, "%s", e == Q_OK ? a.file : "");
	return e;
}

/* Cancels an active job (see model.h). */
enum qerr
job_cancel(struct store *s, const char *id, struct job *out,
    enum job_state *before)
{
	return act(s, id, ACT_CANCEL, NULL, out, before, NULL);
}

/* Approves a job waiting for approval: it is queued. */
enum qerr
job_approve(struct store *s, const char *id, struct job *out)
{
	return act(s, id, ACT_APPROVE, NULL, out, NULL, NULL);
}

/* Rejects a job waiting for approval, with reason as its detail. */
enum qerr
job_reject(struct store *s, const char *id, const char *reason,
    struct job *out)
{
	return act(s, id, ACT_REJECT, reason, out, NULL, NULL);
}

/* Queues a failed or cancelled job again (see model.h). */
enum qerr
job_requeue(struct store *s, const char *id, struct job *out)
{
	return act(s, id, ACT_REQUEUE, NULL, out, NULL, NULL);
}

/* Deletes file from files_dir, if it names a file there. */
static void
remove_job_file(const char *files_dir, const char *file)
{
	char path[PATH_MAX];

	if (file[0] != '\0' && strchr(file, '/') == NULL &&
	    snprintf(path, sizeof(path), "%s/%s", files_dir, file) <
	    (int)sizeof(path))
		unlink(path);
}

/* Deletes a completed job's file: the job is expired (see model.h). */
enum qerr
job_remove_file(struct store *s, const char *files_dir, const char *id,
    struct job *out)
{
	char		file[64];
	enum qerr	e;

	if ((e = act(s, id, ACT_REMOVE_FILE, NULL, out, NULL, file)) != Q_OK)
		return e;
	remove_job_file(files_dir, file);
	return Q_OK;
}

/* ---- the sweeps: expiry and purge ---- */

struct sweep {
	time_t		 now;
	size_t		 keep;
	long long	 history;
	struct buf	 ids;		/* candidates, checked again one by one */
	char		 def[ID_LEN];	/* purge: the definition being counted */
	size_t		 pos;		/* purge: its jobs seen so far */
	char		 file[64];	/* purge: the file of the job deleted */
	int		 deleted;
};

static int
collect_expired(const void *k, size_t kl, const void *v, size_t vl,
    void *arg)
{
	struct sweep	*sw = arg;
	struct job	 j;

	if (kl != ID_LEN || job_decode(v, vl, &j) != Q_OK)
		return 0;
	if (j.state == JS_COMPLETED && j.expires != 0 && j.expires <= sw->now)
		buf_add(&sw->ids, k, ID_LEN);
	job_free(&j);
	return 0;
}

static enum qerr
tx_collect_expired(struct stx *tx, void *arg)
{
	struct sweep *sw = arg;

	buf_reset(&sw->ids);
	return stx_scan(tx, T_JOBS, "", 0, NULL, 0, collect_expired, sw);
}

/*
 * Collects the ids in one transaction, then expires each in its own, so
 * that the sweep never holds many locks; a job that changed in between
 * is left alone.
 */
enum qerr
job_expire_due(struct store *s, const char *files_dir, unsigned *n)
{
	struct sweep	sw;
	struct job	j;
	char		id[ID_LEN + 1], file[64];
	size_t		i;
	enum qerr	e;

	*n = 0;
	memset(&sw, 0, sizeof(sw));
	sw.now = q_seams.now();
	if ((e = store_txn(s, tx_collect_expired, &sw)) != Q_OK)
		goto out;
	if (sw.ids.oom) {
		e = Q_NOMEM;
		goto out;
	}
	for (i = 0; i + ID_LEN <= sw.ids.len; i += ID_LEN) {
		memcpy(id, sw.ids.data + i, ID_LEN);
		id[ID_LEN] = '\0';
		e = act(s, id, ACT_EXPIRE, NULL, &j, NULL, file);
		job_free(&j);
		if (e == Q_STATE || e == Q_NOTFOUND)
			continue;
		if (e != Q_OK)
			goto out;
		remove_job_file(files_dir, file);
		(*n)++;
	}
	e = Q_OK;
out:
	buf_free(&sw.ids);
	return e;
}

static int
collect_beyond(const void *k, size_t kl, const void *v, size_t vl,
    void *arg)
{
	struct sweep *sw = arg;

	if (kl != ID_LEN + 8 || vl != ID_LEN)
		return 0;
	if (memcmp(k, sw->def, ID_LEN) != 0) {
		memcpy(sw->def, k, ID_LEN);
		sw->pos = 0;
	}
	if (++sw->pos > sw->keep)
		buf_add(&sw->ids, v, ID_LEN);
	return 0;
}

static enum qerr
tx_collect_beyond(struct stx *tx, void *arg)
{
	struct sweep *sw = arg;

	buf_reset(&sw->ids);
	memset(sw->def, 0, sizeof(sw->def));
	sw->pos = 0;
	return stx_scan(tx, T_JOBS_BY_DEF, "", 0, NULL, 0, collect_beyond, sw);
}

struct purge_one {
	struct sweep	*sw;
	const char	*id;
};

/* Deletes one job and its index entries if it is finished and old. */
static enum qerr
tx_purge_one(struct stx *tx, void *arg)
{
	struct purge_one	*p = arg;
	struct job		 j;
	unsigned char		 ik[TENANT_MAX + 9];
	size_t			 tl;
	enum qerr		 e;

	p->sw->deleted = 0;
	p->sw->file[0] = '\0';
	if ((e = get_job(tx, p->id, &j)) != Q_OK)
		return e == Q_NOTFOUND ? Q_OK : e;
	if (job_state_active(j.state) || j.finished == 0 ||
	    (long long)j.finished + p->sw->history > (long long)p->sw->now)
		goto out;
	memcpy(ik, j.def_id, ID_LEN);
	be64_put(ik + ID_LEN, ~j.seq);
	if ((e = stx_del(tx, T_JOBS_BY_DEF, ik, ID_LEN + 8)) != Q_OK &&
	    e != Q_NOTFOUND)
		goto out;
	tl = strlen(j.tenant) + 1;
	memcpy(ik, j.tenant, tl);
	be64_put(ik + tl, ~j.seq);
	if ((e = stx_del(tx, T_JOBS_BY_TENANT, ik, tl + 8)) != Q_OK &&
	    e != Q_NOTFOUND)
		goto out;
	if ((e = stx_del(tx, T_JOBS, j.id, ID_LEN)) != Q_OK)
		goto out;
	snprintf(p->sw->file, sizeof(p->sw->file), "%s", j.file);
	p->sw->deleted = 1;
out:
	job_free(&j);
	return e == Q_NOTFOUND ? Q_OK : e;
}

/* The history sweep (see model.h). */
enum qerr
job_purge(struct store *s, const char *files_dir, size_t keep,
    long long history, unsigned *n)
{
	struct sweep		sw;
	struct purge_one	p;
	char			id[ID_LEN + 1];
	size_t			i;
	enum qerr		e;

	*n = 0;
	memset(&sw, 0, sizeof(sw));
	sw.now = q_seams.now();
	sw.keep = keep;
	sw.history = history;
	if ((e = store_txn(s, tx_collect_beyond, &sw)) != Q_OK)
		goto out;
	if (sw.ids.oom) {
		e = Q_NOMEM;
		goto out;
	}
	p.sw = &sw;
	p.id = id;
	for (i = 0; i + ID_LEN <= sw.ids.len; i += ID_LEN) {
		memcpy(id, sw.ids.data + i, ID_LEN);
		id[ID_LEN] = '\0';
		if ((e = store_txn(s, tx_purge_one, &p)) != Q_OK)
			goto out;
		if (sw.deleted) {
			remove_job_file(files_dir, sw.file);
			(*n)++;
		}
	}
	e = Q_OK;
out:
	buf_free(&sw.ids);
	return e;
}
