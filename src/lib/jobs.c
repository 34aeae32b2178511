/*
 * What callers do with jobs (SPEC section 2): create one, read one, list
 * them, act on one (cancel, approve, reject, requeue, delete) and open
 * its file.  Each operation takes the caller and refuses what it may not
 * see as if it did not exist (see model.h); the record and its
 * transitions are job.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/job.h"
#include "lib/token.h"
#include "quarry/format.h"
#include "quarry/params.h"
#include "quarry/seams.h"
#include "quarry/wake.h"

struct job_count {
	const struct caller	*who;
	uint64_t		 n;
};

/* Wakes the scheduler when a job has become queued. */
static void
wake_if_queued(struct store *s, const struct job *j)
{
	if (j->state == JS_QUEUED)
		wake_scheduler(store_conf(s));
}

/* ---- create ---- */

/* Checks an export request (see model.h). */
enum qerr
export_request_check(struct store *s, const struct caller *who,
    const struct export_request *rq, struct definition *d, struct buf *canon,
    enum fmt *format, struct refusal *why)
{
	char		bad[sizeof(why->member)];
	enum qerr	e;

	memset(why, 0, sizeof(*why));
	if ((e = definition_get(s, who, rq->def_id, d)) != Q_OK) {
		why->input = IN_DEFINITION;
		snprintf(why->msg, sizeof(why->msg), "no such definition");
		return e;
	}
	if (definition_format(d, rq->format, format) != 0) {
		why->input = IN_FORMAT;
		snprintf(why->msg, sizeof(why->msg), "format '%.32s' is not "
		    "offered by this definition", rq->format);
		e = Q_INVALID;
		goto out;
	}
	bad[0] = '\0';
	e = params_canonical(d, rq->params, canon, bad, sizeof(bad), why->msg,
	    sizeof(why->msg));
	if (e == Q_INVALID) {
		why->input = IN_PARAMETERS;
		/* "parameters" itself: the value given is not an object */
		if (strcmp(bad, "parameters") != 0)
			memcpy(why->member, bad, sizeof(why->member));
	}
out:
	if (e != Q_OK)
		definition_free(d);
	return e;
}

struct create {
	struct job		*j;
	char			*existing;
	const struct caller	*who;
};

static enum qerr
tx_job_create(struct stx *tx, void *arg)
{
	struct create	*c = arg;
	struct job	*j = c->j;
	struct buf	 v = BUF_INIT;
	unsigned char	 seqk[8];
	enum qerr	 e;

	/* The definition must still exist (a delete may have raced us). */
	if ((e = stx_get(tx, T_DEFS, j->def_id, ID_LEN, &v)) != Q_OK)
		goto out;
	if ((e = job_active_take(tx, j, c->existing)) != Q_OK)
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
	    (e = job_write(tx, j)) != Q_OK ||
	    (e = job_index_add(tx, j)) != Q_OK)
		goto out;
	if (j->state == JS_QUEUED && (e = job_queue_put(tx, j)) != Q_OK)
		goto out;
	e = audit_write(tx, c->who, "job.create", "job", j->id, j->def_id);
out:
	buf_free(&v);
	return e;
}

/* Creates a job for who (see model.h). */
enum qerr
job_create(struct store *s, const struct caller *who,
    const struct export_request *rq, struct job *out,
    char existing[ID_LEN + 1], struct refusal *why)
{
	struct definition	 d;
	struct buf		 canon = BUF_INIT;
	struct create		 c = { out, existing, who };
	enum fmt		 f;
	enum qerr		 e;

	memset(out, 0, sizeof(*out));
	existing[0] = '\0';
	if ((e = export_request_check(s, who, rq, &d, &canon, &f, why)) !=
	    Q_OK)
		goto out;
	if ((e = id_new(out->id)) != Q_OK)
		goto done;
	memcpy(out->tenant, d.tenant, sizeof(out->tenant));
	memcpy(out->def_id, d.id, sizeof(out->def_id));
	snprintf(out->owner, sizeof(out->owner), "%s", who->principal);
	out->keyed_by_owner = !caller_is_admin(who);
	out->state = d.approval ? JS_PENDING_APPROVAL : JS_QUEUED;
	out->format = f;
	if ((out->params = strdup(buf_str(&canon))) == NULL ||
	    (out->detail = strdup("")) == NULL ||
	    (out->name = strdup(rq->name ? rq->name : (d.name ? d.name :
	    ""))) == NULL) {
		e = Q_NOMEM;
		goto done;
	}
	out->created = out->updated = q_seams.now();
	if ((e = store_txn(s, tx_job_create, &c)) == Q_OK)
		wake_if_queued(s, out);
done:
	definition_free(&d);
out:
	buf_free(&canon);
	if (e != Q_OK)
		job_free(out);
	return e;
}

/* ---- read ---- */

struct job_find {
	const struct caller	*who;
	const char		*id;
	struct job		*j;
};

static enum qerr
tx_job_get(struct stx *tx, void *arg)
{
	struct job_find *f = arg;

	job_free(f->j);
	return job_read_visible(tx, f->who, f->id, f->j);
}

/* Loads a job who may see (see model.h). */
enum qerr
job_get(struct store *s, const struct caller *who, const char *id,
    struct job *out)
{
	struct job_find	f = { who, NULL, out };
	char		copy[ID_LEN + 1];

	if (id == NULL || !id_valid(id)) {
		memset(out, 0, sizeof(*out));
		return Q_NOTFOUND;
	}
	memcpy(copy, id, sizeof(copy));		/* the id may live in out */
	f.id = copy;
	memset(out, 0, sizeof(*out));
	return store_txn(s, tx_job_get, &f);
}

struct token_job_find {
	const char	*hash;
	struct caller	*who;
	const char	*id;
	struct job	*j;
};

static enum qerr
tx_job_get_by_token(struct stx *tx, void *arg)
{
	struct token_job_find	*f = arg;
	struct token		 t;
	enum qerr		 e;

	job_free(f->j);
	memset(f->who, 0, sizeof(*f->who));
	if ((e = token_read_live(tx, f->hash, &t)) != Q_OK)
		return e;
	caller_of_token(f->who, &t);
	if (f->id[0] == '\0')
		return Q_NOTFOUND;	/* not a job id */
	return job_read_visible(tx, f->who, f->id, f->j);
}

/* Authenticates and loads in one transaction (see model.h). */
enum qerr
job_get_by_token(struct store *s, const char *secret, const char *id,
    struct caller *who, struct job *out)
{
	struct token_job_find	 f;
	char			 hash[65], copy[ID_LEN + 1];
	enum qerr		 e;

	memset(who, 0, sizeof(*who));
	memset(out, 0, sizeof(*out));
	if ((e = token_hash(secret, hash)) != Q_OK)
		return e;
	/* an id no job has still needs the token checked: 401 before 404 */
	if (id == NULL || !id_valid(id))
		copy[0] = '\0';
	else
		memcpy(copy, id, sizeof(copy));
	f.hash = hash;
	f.who = who;
	f.id = copy;
	f.j = out;
	return store_txn(s, tx_job_get_by_token, &f);
}

/* ---- listing ---- */

/* One index range a listing reads: a prefix, newest first. */
struct range {
	enum table	 table;
	unsigned char	 prefix[JOB_INDEX_KEY_MAX];
	size_t		 plen;
};

struct job_listing {
	struct range	 r[JS_NSTATES];	/* the ranges read */
	size_t		 nr;
	uint64_t	 before;	/* only jobs created before seq; 0 all */
	size_t		 want;		/* ids to collect per range; 0 = all */
	const struct range *cur;
	size_t		 n;		/* collected from cur */
	struct buf	 hits;		/* be64(seq) id, per id collected */
};

static int
collect_hit(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct job_listing	*l = arg;
	unsigned char		 seq[8];

	if (vl != ID_LEN || kl < 8)
		return Q_STORE;
	be64_put(seq, ~be64_get((const unsigned char *)k + kl - 8));
	buf_add(&l->hits, seq, 8);
	buf_add(&l->hits, v, ID_LEN);
	return l->want != 0 && ++l->n >= l->want ? VISIT_STOP : VISIT_NEXT;
}

static enum qerr
tx_collect(struct stx *tx, void *arg)
{
	struct job_listing	*l = arg;
	unsigned char		 start[JOB_INDEX_KEY_MAX + 8];
	size_t			 i, sl;
	enum qerr		 e;

	buf_reset(&l->hits);
	for (i = 0; i < l->nr; i++) {
		l->cur = &l->r[i];
		l->n = 0;
		sl = 0;
		if (l->before > 0 && l->cur->plen > 0) {
			/* newest first by ~seq: seq < before is ~seq >=
			 * ~(before - 1) */
			memcpy(start, l->cur->prefix, l->cur->plen);
			be64_put(start + l->cur->plen, ~(l->before - 1));
			sl = l->cur->plen + 8;
		}
		if ((e = stx_scan(tx, l->cur->table, l->cur->prefix,
		    l->cur->plen, sl ? start : NULL, sl, collect_hit, l)) !=
		    Q_OK)
			return e;
	}
	return Q_OK;
}

/* Newest first: by seq, descending. */
static int
cmp_hit(const void *a, const void *b)
{
	return memcmp(b, a, 8);
}

/*
 * Chooses the index ranges that hold what q asks of who, and whether
 * each job they give must still be read to be filtered (*exact = 0) or
 * is an answer as it stands.  An admin's listing by definition, by
 * state or of the whole tenant reads only what it answers; a user's
 * reads the user's own jobs.
 */
static void
plan(const struct caller *who, const struct job_query *q,
    struct job_listing *l, int *exact)
{
	struct range	*r = l->r;
	int		 st;

	*exact = 1;
	if (!caller_is_admin(who)) {
		r->table = T_JOBS_BY_OWNER;
		r->plen = job_owner_prefix(who->tenant, who->principal,
		    r->prefix);
		l->nr = 1;
		*exact = q->def_id == NULL && q->states == 0;
	} else if (q->def_id != NULL) {
		r->table = T_JOBS_BY_DEF;
		memcpy(r->prefix, q->def_id, ID_LEN);
		r->plen = ID_LEN;
		l->nr = 1;
		*exact = q->states == 0;
	} else if (q->states != 0 && who->tenant[0] != '\0') {
		for (st = 0; st < JS_NSTATES; st++)
			if (q->states & (1u << st)) {
				r = &l->r[l->nr++];
				r->table = T_JOBS_BY_STATE;
				r->plen = job_state_prefix(who->tenant,
				    (enum job_state)st, r->prefix);
			}
	} else {
		r->table = T_JOBS_BY_TENANT;
		if (who->tenant[0] != '\0')
			r->plen = (size_t)snprintf((char *)r->prefix,
			    sizeof(r->prefix), "%s", who->tenant) + 1;
		l->nr = 1;
		/* every tenant: one index, ordered by tenant, then seq */
		*exact = who->tenant[0] != '\0' && q->states == 0;
	}
}

/*
 * Collects the ids in one transaction, then reads each job in its own: a
 * long listing never holds many locks, and a job deleted in between is
 * skipped.  Where the index answers the query exactly, only the jobs of
 * the page are collected and read.
 */
enum qerr
job_list(struct store *s, const struct caller *who, const struct job_query *q,
    job_cb cb, void *arg)
{
	struct job_listing	 l;
	struct definition	 d;
	struct job		 j;
	char			 id[ID_LEN + 1];
	size_t			 i, n = 0, skipped = 0, step = 8 + ID_LEN;
	int			 exact, rc;
	enum qerr		 e;

	if (q->def_id != NULL) {
		if ((e = definition_get(s, who, q->def_id, &d)) != Q_OK)
			return e;
		definition_free(&d);
	} else if (who->kind == CALLER_NONE)
		return Q_OK;
	memset(&l, 0, sizeof(l));
	plan(who, q, &l, &exact);
	l.before = q->before;
	if (exact && q->limit != 0)
		l.want = q->offset + q->limit;
	if ((e = store_txn(s, tx_collect, &l)) != Q_OK)
		goto out;
	if (l.hits.oom) {
		e = Q_NOMEM;
		goto out;
	}
	if (l.nr > 1 && l.hits.len > 0)
		qsort(l.hits.data, l.hits.len / step, step, cmp_hit);
	for (i = 0; i + step <= l.hits.len; i += step) {
		if (exact && skipped < q->offset) {
			skipped++;
			continue;
		}
		memcpy(id, l.hits.data + i + 8, ID_LEN);
		id[ID_LEN] = '\0';
		e = job_get(s, who, id, &j);
		if (e == Q_NOTFOUND)
			continue;
		if (e != Q_OK)
			goto out;
		if ((q->states != 0 && !(q->states & (1u << j.state))) ||
		    (q->def_id != NULL && strcmp(j.def_id, q->def_id) != 0) ||
		    (q->before != 0 && j.seq >= q->before) ||
		    (!exact && skipped++ < q->offset)) {
			job_free(&j);
			continue;
		}
		rc = cb(&j, arg);
		job_free(&j);
		if (rc != VISIT_NEXT && rc != VISIT_STOP) {
			e = (enum qerr)rc;
			goto out;
		}
		if (rc == VISIT_STOP || (q->limit != 0 && ++n >= q->limit))
			break;
	}
	e = Q_OK;
out:
	buf_free(&l.hits);
	return e;
}

static enum qerr
tx_count(struct stx *tx, void *arg)
{
	struct job_count	*c = arg;
	struct buf		 v = BUF_INIT;
	unsigned char		 k[JOB_INDEX_KEY_MAX + 2];
	enum qerr		 e;

	e = stx_get(tx, T_META, k, job_count_key(c->who->tenant,
	    caller_is_admin(c->who) ? NULL : c->who->principal, k), &v);
	if (e == Q_OK && v.len == 8)
		c->n = be64_get((const unsigned char *)v.data);
	buf_free(&v);
	return e == Q_NOTFOUND ? Q_OK : e;
}

/* How many jobs who may see (see model.h). */
enum qerr
job_count(struct store *s, const struct caller *who, uint64_t *n)
{
	struct job_count	c = { who, 0 };
	enum qerr		e = Q_OK;

	if (who->tenant[0] != '\0' && who->kind != CALLER_NONE)
		e = store_txn(s, tx_count, &c);
	*n = c.n;
	return e;
}

/* ---- actions on one job ---- */

enum job_action { ACT_CANCEL, ACT_APPROVE, ACT_REJECT, ACT_REQUEUE,
    ACT_DELETE, ACT_DOWNLOADED, ACT_EXPIRE };

struct action {
	const struct caller	*who;
	const char		*id;
	enum job_action		 what;
	const char		*reason;
	struct job		*out;		/* the job after the action */
	enum job_state		 before;
	enum job_deleted	 how;
	char			 file[JOB_FILE_MAX]; /* to delete once committed */
};

static enum qerr
cancel(struct stx *tx, struct job *j)
{
	enum qerr e;

	if (!job_state_active(j->state))
		return Q_STATE;
	if ((e = job_set_detail(j, "cancelled")) != Q_OK)
		return e;
	return job_transition(tx, j, JS_CANCELLED);
}

static enum qerr
tx_action_do(struct stx *tx, void *arg)
{
	struct action	*a = arg;
	struct job	*j = a->out;
	enum qerr	 e;

	job_free(j);
	memset(j, 0, sizeof(*j));
	a->file[0] = '\0';
	if ((e = job_read_visible(tx, a->who, a->id, j)) != Q_OK)
		return e;
	a->before = j->state;
	if (a->what != ACT_CANCEL && a->what != ACT_DELETE &&
	    a->what != ACT_DOWNLOADED && !caller_is_admin(a->who))
		return Q_FORBIDDEN;
	switch (a->what) {
	case ACT_CANCEL:
		return cancel(tx, j);
	case ACT_APPROVE:
		if (j->state != JS_PENDING_APPROVAL)
			return Q_STATE;
		j->approved = q_seams.now();
		return job_transition(tx, j, JS_QUEUED);
	case ACT_REJECT:
		if (j->state != JS_PENDING_APPROVAL)
			return Q_STATE;
		if ((e = job_set_detail(j, a->reason && *a->reason ?
		    a->reason : "rejected")) != Q_OK)
			return e;
		return job_transition(tx, j, JS_REJECTED);
	case ACT_REQUEUE:
		if (j->state != JS_FAILED && j->state != JS_CANCELLED)
			return Q_STATE;
		/* A fresh start: the duplicate rule applies again. */
		if ((e = job_active_take(tx, j, NULL)) != Q_OK)
			return e;
		j->attempts = 0;
		j->rows = j->bytes = 0;
		j->read_pm = 0;
		j->finished = 0;
		if ((e = job_set_detail(j, "")) != Q_OK)
			return e;
		return job_transition(tx, j, JS_QUEUED);
	case ACT_DELETE:
		if (job_state_active(j->state)) {
			a->how = j->state == JS_RUNNING ? JOB_STOPPING :
			    JOB_CANCELLED;
			return cancel(tx, j);
		}
		if (j->state != JS_COMPLETED) {
			a->how = JOB_UNCHANGED;
			return Q_OK;
		}
		a->how = JOB_FILE_DELETED;
		snprintf(a->file, sizeof(a->file), "%s", j->file);
		if ((e = job_set_detail(j, "the file was deleted")) != Q_OK)
			return e;
		return job_transition(tx, j, JS_EXPIRED);
	case ACT_EXPIRE:
		if (j->state != JS_COMPLETED)
			return Q_OK;
		snprintf(a->file, sizeof(a->file), "%s", j->file);
		if ((e = job_set_detail(j, a->reason)) != Q_OK)
			return e;
		return job_transition(tx, j, JS_EXPIRED);
	case ACT_DOWNLOADED:
		/* the file served, not one of a later build (none yet) */
		if (j->state != JS_COMPLETED || strcmp(j->file, a->reason) != 0)
			return Q_OK;
		snprintf(a->file, sizeof(a->file), "%s", j->file);
		if ((e = job_set_detail(j, "the file expired once it was "
		    "downloaded")) != Q_OK)
			return e;
		return job_transition(tx, j, JS_EXPIRED);
	}
	return Q_STATE;
}

/* An action, and its audit record when it changed something. */
static enum qerr
tx_action(struct stx *tx, void *arg)
{
	struct action	*a = arg;
	const char	*what = NULL;
	enum qerr	 e;

	if ((e = tx_action_do(tx, a)) != Q_OK)
		return e;
	switch (a->what) {
	case ACT_CANCEL:
		what = a->before != a->out->state ? "job.cancel" : NULL;
		break;
	case ACT_APPROVE:
		what = "job.approve";
		break;
	case ACT_REJECT:
		what = "job.reject";
		break;
	case ACT_REQUEUE:
		what = "job.requeue";
		break;
	case ACT_DELETE:
		what = a->how == JOB_STOPPING || a->how == JOB_CANCELLED ?
		    "job.cancel" : a->how == JOB_FILE_DELETED ? "job.delete" :
		    NULL;
		break;
	case ACT_EXPIRE:
		what = a->before != a->out->state ? "job.expire" : NULL;
		break;
	case ACT_DOWNLOADED:	/* the download has its own record */
		break;
	}
	if (what == NULL)
		return Q_OK;
	return audit_write(tx, a->who, what, "job", a->out->id,
	    a->what == ACT_REJECT || a->what == ACT_EXPIRE ? a->reason : NULL);
}

/* Runs one action in a transaction; deletes its file once committed. */
static enum qerr
act(struct store *s, struct action *a)
{
	char		id[ID_LEN + 1];
	enum qerr	e;

	if (a->id == NULL || !id_valid(a->id)) {
		memset(a->out, 0, sizeof(*a->out));
		return Q_NOTFOUND;
	}
	memcpy(id, a->id, sizeof(id));	/* the id may live in out */
	a->id = id;
	memset(a->out, 0, sizeof(*a->out));
	if ((e = store_txn(s, tx_action, a)) != Q_OK) {
		job_free(a->out);	/* nothing to show of a refused action */
		return e;
	}
	if (a->file[0] != '\0')
		job_unlink_file(store_conf(s)->files_dir, a->file);
	wake_if_queued(s, a->out);
	return Q_OK;
}

/* Cancels an active job (see model.h). */
enum qerr
job_cancel(struct store *s, const struct caller *who, const char *id,
    struct job *out, enum job_state *before)
{
	struct action	a = { .who = who, .id = id, .what = ACT_CANCEL,
			    .out = out };
	enum qerr	e = act(s, &a);

	if (before != NULL)
		*before = a.before;
	return e;
}

/* Approves a job waiting for approval: it is queued. */
enum qerr
job_approve(struct store *s, const struct caller *who, const char *id,
    struct job *out)
{
	struct action a = { .who = who, .id = id, .what = ACT_APPROVE,
	    .out = out };

	return act(s, &a);
}

/* Rejects a job waiting for approval, with reason as its detail. */
enum qerr
job_reject(struct store *s, const struct caller *who, const char *id,
    const char *reason, struct job *out)
{
	struct action a = { .who = who, .id = id, .what = ACT_REJECT,
	    .reason = reason, .out = out };

	return act(s, &a);
}

/* Queues a failed or cancelled job again (see model.h). */
enum qerr
job_requeue(struct store *s, const struct caller *who, const char *id,
    struct job *out)
{
	struct action a = { .who = who, .id = id, .what = ACT_REQUEUE,
	    .out = out };

	return act(s, &a);
}

/* The delete rule of every dialect (see model.h). */
enum qerr
job_delete(struct store *s, const struct caller *who, const char *id,
    struct job *out, enum job_deleted *how)
{
	struct action	a = { .who = who, .id = id, .what = ACT_DELETE,
			    .out = out, .how = JOB_UNCHANGED };
	enum qerr	e = act(s, &a);

	*how = a.how;
	return e;
}

/* Expires a completed job now (see model.h). */
enum qerr
job_expire(struct store *s, const struct caller *who, const char *id,
    const char *detail)
{
	struct job	j;
	struct action	a = { .who = who, .id = id, .what = ACT_EXPIRE,
			    .reason = detail, .out = &j };
	enum qerr	e;

	memset(&j, 0, sizeof(j));
	e = act(s, &a);
	job_free(&j);
	return e;
}

/* Expires a job whose file was served whole (see model.h). */
enum qerr
job_downloaded(struct store *s, const struct caller *who,
    const struct job_file *f)
{
	struct job	j;
	struct action	a = { .who = who, .id = f->id, .what = ACT_DOWNLOADED,
			    .reason = f->file, .out = &j };
	enum qerr	e;

	memset(&j, 0, sizeof(j));
	e = act(s, &a);
	job_free(&j);
	return e;
}

/* ---- the file ---- */

/*
 * A download's file name: the definition's name made safe (letters,
 * digits, '-', '_', '.', and any UTF-8 letters; the rest become '_'),
 * the job's finish date and the format's extension ("zip" for a split
 * build's archive).
 */
static void
download_name(const char *def_name, const struct job *j, int zip, char *out,
    size_t len)
{
	const unsigned char	*p;
	char			 day[RFC3339_LEN];
	size_t			 o = 0;

	for (p = (const unsigned char *)(def_name ? def_name : "export");
	    *p != '\0' && o + 1 < len && o < 120; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p >= 0x80)
			out[o++] = (char)*p;
		else if (o > 0 && out[o - 1] != '_')
			out[o++] = '_';
	}
	while (o > 0 && (out[o - 1] == '_' || out[o - 1] == '.'))
		o--;
	out[o] = '\0';
	time_rfc3339(j->finished ? j->finished : j->created, day);
	day[10] = '\0';
	snprintf(out + o, len - o, "%s%s.%s", o ? "-" : "export-", day,
	    zip ? "zip" : fmt_extension(j->format));
}

/* Opens a job's file for who (see model.h). */
enum qerr
job_file_open(struct store *s, const struct caller *who, const char *id,
    struct job_file *out)
{
	struct caller		 sys;
	struct definition	 d;
	struct job		 j;
	size_t			 n;
	enum qerr		 e;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if ((e = job_get(s, who, id, &j)) != Q_OK)
		return e;
	memcpy(out->def_id, j.def_id, sizeof(out->def_id));
	memcpy(out->id, j.id, sizeof(out->id));
	snprintf(out->file, sizeof(out->file), "%s", j.file);
	out->format = j.format;
	if (j.state == JS_EXPIRED) {
		snprintf(out->why, sizeof(out->why), "the file of this job has "
		    "expired and was deleted");
		e = Q_GONE;
		goto out;
	}
	e = Q_NOTFOUND;
	if (j.state != JS_COMPLETED || j.file[0] == '\0') {
		snprintf(out->why, sizeof(out->why), "the job has no file (it "
		    "is %s)", job_state_name(j.state));
		goto out;
	}
	if (strchr(j.file, '/') != NULL || j.file[0] == '.' ||
	    files_path(store_conf(s), j.file, out->path, sizeof(out->path)) !=
	    0)
		goto out;
	n = strlen(j.file);
	out->zip = n > 4 && strcmp(j.file + n - 4, ".zip") == 0;
	/* The name comes from the definition, even one deleted since. */
	caller_system(&sys, NULL);
	if ((e = definition_get(s, &sys, j.def_id, &d)) != Q_OK &&
	    e != Q_NOTFOUND)
		goto out;
	download_name(d.name, &j, out->zip, out->name, sizeof(out->name));
	out->expire_after_download = e == Q_OK && d.expire_after_download;
	definition_free(&d);
	if ((out->fd = open(out->path, O_RDONLY | O_CLOEXEC)) < 0) {
		/* completed in the store, but the file is gone from disk */
		e = errno == ENOENT ? Q_GONE : Q_IO;
		snprintf(out->why, sizeof(out->why), "the job's file is "
		    "missing");
		goto out;
	}
	e = Q_OK;
out:
	job_free(&j);
	return e;
}

/* Closes a job's file (see model.h). */
void
job_file_close(struct job_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
