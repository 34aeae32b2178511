/*
 * The job record and its transitions (SPEC section 2): the state machine,
 * the record codec, and the indexes that move with the state (see job.h
 * for the record and the indexes).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/job.h"
#include "quarry/seams.h"

#define JOB_V 5		/* see job.h: every older version is read */

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

/* Encodes j as a record of the current version. */
void
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
	rec_u64(b, (uint64_t)(j->keyed_by_owner != 0));
	rec_u64(b, (uint64_t)(j->read_pm >= 0 && j->read_pm <= 1001 ?
	    j->read_pm : 0));
}

/* Decodes a job record of any version. */
enum qerr
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
	if (r.version >= 4)
		j->keyed_by_owner = rec_get_u64(&r) != 0;
	if (r.version >= 5) {
		uint64_t pm = rec_get_u64(&r);

		j->read_pm = pm <= 1001 ? (int)pm : 0;
	}
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

/*
 * The active key of j: tenant NUL def NUL fmt NUL params, and NUL owner
 * for a user's job.  With base, the tenant-wide part alone.
 */
static void
active_key(struct buf *k, const struct job *j, int base)
{
	buf_reset(k);
	buf_adds(k, j->tenant);
	buf_addc(k, '\0');
	buf_adds(k, j->def_id);
	buf_addc(k, '\0');
	buf_adds(k, fmt_name(j->format));
	buf_addc(k, '\0');
	buf_adds(k, j->params);
	if (!base && j->keyed_by_owner) {
		buf_addc(k, '\0');
		buf_adds(k, j->owner);
	}
}

struct equal_active {
	size_t	 base;		/* length of the tenant-wide key */
	char	*existing;	/* the first equal active job's id */
	int	 found;
};

/* A key of an equal active job: the base key, or it and NUL owner. */
static int
find_equal(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct equal_active *ea = arg;

	if (kl > ea->base && ((const char *)k)[ea->base] != '\0')
		return VISIT_NEXT;	/* other parameters that begin alike */
	ea->found = 1;
	if (ea->existing != NULL && vl == ID_LEN) {
		memcpy(ea->existing, v, ID_LEN);
		ea->existing[ID_LEN] = '\0';
	}
	return VISIT_STOP;
}

/* Takes j's active key under the duplicate rule (see job.h). */
enum qerr
job_active_take(struct stx *tx, const struct job *j,
    char existing[ID_LEN + 1])
{
	struct buf		k = BUF_INIT, v = BUF_INIT;
	struct equal_active	ea = { 0, existing, 0 };
	enum qerr		e;

	active_key(&k, j, 1);
	ea.base = k.len;
	if (k.oom) {
		e = Q_NOMEM;
		goto out;
	}
	/* A tenant-wide job conflicts with every equal active job. */
	if (!j->keyed_by_owner) {
		e = stx_scan(tx, T_ACTIVE, k.data, k.len, NULL, 0, find_equal,
		    &ea);
		if (e == Q_OK && ea.found)
			e = Q_EXISTS;
		if (e != Q_OK)
			goto out;
	}
	active_key(&k, j, 0);
	e = k.oom ? Q_NOMEM : stx_put_new(tx, T_ACTIVE, k.data, k.len, j->id,
	    ID_LEN);
	if (e == Q_EXISTS && existing != NULL &&
	    stx_get(tx, T_ACTIVE, k.data, k.len, &v) == Q_OK &&
	    v.len == ID_LEN) {
		memcpy(existing, v.data, ID_LEN);
		existing[ID_LEN] = '\0';
	}
out:
	buf_free(&k);
	buf_free(&v);
	return e;
}

/* Writes j's record (see job.h). */
enum qerr
job_write(struct stx *tx, const struct job *j)
{
	struct buf	b = BUF_INIT;
	enum qerr	e;

	job_encode(&b, j);
	e = b.oom ? Q_NOMEM : stx_put(tx, T_JOBS, j->id, ID_LEN, b.data, b.len);
	buf_free(&b);
	return e;
}

/* Reads job id in tx (see job.h). */
enum qerr
job_read(struct stx *tx, const char *id, struct job *j)
{
	struct buf	b = BUF_INIT;
	enum qerr	e;

	if ((e = stx_get(tx, T_JOBS, id, ID_LEN, &b)) == Q_OK)
		e = job_decode(b.data, b.len, j);
	buf_free(&b);
	return e;
}

/* The key of j in T_READY: tenant NUL be64(seq). */
static size_t
ready_key(const struct job *j, unsigned char k[JOB_INDEX_KEY_MAX])
{
	size_t tl = strlen(j->tenant) + 1;

	memcpy(k, j->tenant, tl);
	be64_put(k + tl, j->seq);
	return tl + 8;
}

/* Puts j in the queue: ready, or delayed until not_before (see job.h). */
enum qerr
job_queue_put(struct stx *tx, const struct job *j)
{
	unsigned char	k[JOB_INDEX_KEY_MAX], v[ID_LEN + TENANT_MAX];
	size_t		tl = strlen(j->tenant);

	if (j->not_before <= q_seams.now())
		return stx_put(tx, T_READY, k, ready_key(j, k), j->id, ID_LEN);
	be64_put(k, (uint64_t)j->not_before);
	be64_put(k + 8, j->seq);
	memcpy(v, j->id, ID_LEN);
	memcpy(v + ID_LEN, j->tenant, tl);
	return stx_put(tx, T_DELAYED, k, 16, v, ID_LEN + tl);
}

/* Takes j out of the queue, wherever it waits. */
static enum qerr
queue_del(struct stx *tx, const struct job *j)
{
	unsigned char	k[JOB_INDEX_KEY_MAX];
	enum qerr	e;

	e = stx_del(tx, T_READY, k, ready_key(j, k));
	if ((e == Q_OK || e == Q_NOTFOUND) && j->not_before != 0) {
		be64_put(k, (uint64_t)j->not_before);
		be64_put(k + 8, j->seq);
		e = stx_del(tx, T_DELAYED, k, 16);
	}
	return e == Q_NOTFOUND ? Q_OK : e;
}

static enum qerr
active_del(struct stx *tx, const struct job *j)
{
	struct buf	k = BUF_INIT;
	enum qerr	e;

	active_key(&k, j, 0);
	e = k.oom ? Q_NOMEM : stx_del(tx, T_ACTIVE, k.data, k.len);
	buf_free(&k);
	return e == Q_NOTFOUND ? Q_OK : e;
}

static enum qerr state_index_set(struct stx *tx, const struct job *j,
		    enum job_state st, int put);

/* Moves j to state `to` with its index changes (see job.h). */
enum qerr
job_transition(struct stx *tx, struct job *j, enum job_state to)
{
	enum qerr e;

	if (!job_transition_allowed(j->state, to))
		return Q_STATE;
	if (j->state == JS_QUEUED && (e = queue_del(tx, j)) != Q_OK)
		return e;
	if (to == JS_QUEUED && (e = job_queue_put(tx, j)) != Q_OK)
		return e;
	if (!job_state_active(to) && (e = active_del(tx, j)) != Q_OK)
		return e;
	if ((e = state_index_set(tx, j, j->state, 0)) != Q_OK ||
	    (e = state_index_set(tx, j, to, 1)) != Q_OK)
		return e;
	j->state = to;
	j->updated = q_seams.now();
	if (to == JS_RUNNING && j->started == 0)
		j->started = j->updated;
	if (!job_state_active(to) && to != JS_EXPIRED)
		j->finished = j->updated;
	return job_write(tx, j);
}

/* Reads job id in tx if who may see it (see job.h). */
enum qerr
job_read_visible(struct stx *tx, const struct caller *who, const char *id,
    struct job *j)
{
	enum qerr e;

	if ((e = job_read(tx, id, j)) != Q_OK)
		return e;
	if (!caller_sees_job(who, j)) {
		job_free(j);
		memset(j, 0, sizeof(*j));
		return Q_NOTFOUND;
	}
	return Q_OK;
}

/* The key of j in T_JOBS_BY_DEF: def_id be64(~seq). */
static size_t
def_index_key(const struct job *j, unsigned char k[JOB_INDEX_KEY_MAX])
{
	memcpy(k, j->def_id, ID_LEN);
	be64_put(k + ID_LEN, ~j->seq);
	return ID_LEN + 8;
}

/* The key of j in T_JOBS_BY_TENANT: tenant NUL be64(~seq). */
static size_t
tenant_index_key(const struct job *j, unsigned char k[JOB_INDEX_KEY_MAX])
{
	size_t tl = strlen(j->tenant) + 1;

	memcpy(k, j->tenant, tl);
	be64_put(k + tl, ~j->seq);
	return tl + 8;
}

/* The prefix of an owner's jobs in T_JOBS_BY_OWNER (see job.h). */
size_t
job_owner_prefix(const char *tenant, const char *owner,
    unsigned char k[JOB_INDEX_KEY_MAX])
{
	size_t tl = strlen(tenant) + 1, ol = strlen(owner) + 1;

	memcpy(k, tenant, tl);
	memcpy(k + tl, owner, ol);
	return tl + ol;
}

/* The prefix of a state's jobs in T_JOBS_BY_STATE (see job.h). */
size_t
job_state_prefix(const char *tenant, enum job_state st,
    unsigned char k[JOB_INDEX_KEY_MAX])
{
	size_t tl = strlen(tenant) + 1;

	memcpy(k, tenant, tl);
	k[tl] = (unsigned char)st;
	return tl + 1;
}

/* The T_META key of a job count (see job.h). */
size_t
job_count_key(const char *tenant, const char *owner,
    unsigned char k[JOB_INDEX_KEY_MAX + 2])
{
	k[0] = 'n';
	k[1] = '\0';
	if (owner == NULL) {
		memcpy(k + 2, tenant, strlen(tenant));
		return 2 + strlen(tenant);
	}
	/* without the owner's own NUL */
	return 2 + job_owner_prefix(tenant, owner, k + 2) - 1;
}

/* Adds d to the job count under key k. */
static enum qerr
count_add(struct stx *tx, const unsigned char *k, size_t kl, int d)
{
	struct buf	v = BUF_INIT;
	unsigned char	n[8];
	uint64_t	c = 0;
	enum qerr	e;

	e = stx_get(tx, T_META, k, kl, &v);
	if (e == Q_OK && v.len == 8)
		c = be64_get((const unsigned char *)v.data);
	buf_free(&v);
	if (e != Q_OK && e != Q_NOTFOUND)
		return e;
	if (d > 0)
		c++;
	else if (c > 0)
		c--;
	be64_put(n, c);
	return stx_put(tx, T_META, k, kl, n, 8);
}

/* Writes (put) or deletes j's entry under key k of a listing index. */
static enum qerr
index_set(struct stx *tx, enum table t, const unsigned char *k, size_t kl,
    const struct job *j, int put)
{
	enum qerr e;

	if (put)
		return stx_put(tx, t, k, kl, j->id, ID_LEN);
	e = stx_del(tx, t, k, kl);
	return e == Q_NOTFOUND ? Q_OK : e;
}

/* j's entry in T_JOBS_BY_STATE for state st, put or deleted. */
static enum qerr
state_index_set(struct stx *tx, const struct job *j, enum job_state st,
    int put)
{
	unsigned char	k[JOB_INDEX_KEY_MAX];
	size_t		n = job_state_prefix(j->tenant, st, k);

	be64_put(k + n, ~j->seq);
	return index_set(tx, T_JOBS_BY_STATE, k, n + 8, j, put);
}

/* Adds j to (put) or takes it out of every listing index and count. */
static enum qerr
index_all(struct stx *tx, const struct job *j, int put)
{
	unsigned char	k[JOB_INDEX_KEY_MAX + 2];
	size_t		n;
	enum qerr	e;

	if ((e = index_set(tx, T_JOBS_BY_DEF, k, def_index_key(j, k), j,
	    put)) != Q_OK ||
	    (e = index_set(tx, T_JOBS_BY_TENANT, k, tenant_index_key(j, k), j,
	    put)) != Q_OK)
		return e;
	n = job_owner_prefix(j->tenant, j->owner, k);
	be64_put(k + n, ~j->seq);
	if ((e = index_set(tx, T_JOBS_BY_OWNER, k, n + 8, j, put)) != Q_OK ||
	    (e = state_index_set(tx, j, j->state, put)) != Q_OK)
		return e;
	if ((e = count_add(tx, k, job_count_key(j->tenant, NULL, k),
	    put ? 1 : -1)) != Q_OK)
		return e;
	return count_add(tx, k, job_count_key(j->tenant, j->owner, k),
	    put ? 1 : -1);
}

/* Writes j's owner and state index entries (see job.h). */
enum qerr
job_index_fill(struct stx *tx, const struct job *j)
{
	unsigned char	k[JOB_INDEX_KEY_MAX];
	size_t		n = job_owner_prefix(j->tenant, j->owner, k);
	enum qerr	e;

	be64_put(k + n, ~j->seq);
	if ((e = index_set(tx, T_JOBS_BY_OWNER, k, n + 8, j, 1)) != Q_OK)
		return e;
	return state_index_set(tx, j, j->state, 1);
}

/* Sets a job count (see job.h). */
enum qerr
job_count_set(struct stx *tx, const unsigned char *k, size_t kl, uint64_t n)
{
	unsigned char v[8];

	be64_put(v, n);
	return stx_put(tx, T_META, k, kl, v, 8);
}

/* Adds a new job to the listing indexes and counts (see job.h). */
enum qerr
job_index_add(struct stx *tx, const struct job *j)
{
	return index_all(tx, j, 1);
}

/* Takes a job out of the listing indexes and counts (see job.h). */
enum qerr
job_index_del(struct stx *tx, const struct job *j)
{
	return index_all(tx, j, 0);
}

/* The index entries j must have (see job.h). */
size_t
job_index_keys(const struct job *j, struct job_key out[JOB_KEYS_MAX])
{
	unsigned char	k[JOB_INDEX_KEY_MAX + 2];
	size_t		n = 0, l;

	memset(out, 0, sizeof(*out) * JOB_KEYS_MAX);
	out[n].t = T_JOBS_BY_DEF;
	buf_add(&out[n++].k, k, def_index_key(j, k));
	out[n].t = T_JOBS_BY_TENANT;
	buf_add(&out[n++].k, k, tenant_index_key(j, k));
	l = job_owner_prefix(j->tenant, j->owner, k);
	be64_put(k + l, ~j->seq);
	out[n].t = T_JOBS_BY_OWNER;
	buf_add(&out[n++].k, k, l + 8);
	l = job_state_prefix(j->tenant, j->state, k);
	be64_put(k + l, ~j->seq);
	out[n].t = T_JOBS_BY_STATE;
	buf_add(&out[n++].k, k, l + 8);
	if (j->state == JS_QUEUED) {
		out[n].t = T_READY;
		out[n].alt = 1;
		buf_add(&out[n++].k, k, ready_key(j, k));
		be64_put(k, (uint64_t)j->not_before);
		be64_put(k + 8, j->seq);
		out[n].t = T_DELAYED;
		out[n].alt = 1;
		buf_add(&out[n++].k, k, 16);
		be64_put(k, j->seq);
		out[n].t = T_QUEUE;
		buf_add(&out[n++].k, k, 8);
	}
	if (job_state_active(j->state)) {
		out[n].t = T_ACTIVE;
		active_key(&out[n++].k, j, 0);
	}
	return n;
}

void
job_keys_free(struct job_key *k, size_t n)
{
	while (n-- > 0)
		buf_free(&k[n].k);
}

/* Replaces j's detail (see job.h). */
enum qerr
job_set_detail(struct job *j, const char *detail)
{
	char *d;

	if ((d = strdup(detail)) == NULL)
		return Q_NOMEM;
	free(j->detail);
	j->detail = d;
	return Q_OK;
}

/* Deletes file from files_dir, if it names a file there (see job.h). */
void
job_unlink_file(const char *files_dir, const char *file)
{
	char path[PATH_MAX];

	if (file[0] != '\0' && strchr(file, '/') == NULL &&
	    snprintf(path, sizeof(path), "%s/%s", files_dir, file) <
	    (int)sizeof(path))
		unlink(path);
}
