/*
 * Bringing a store of an older format version up to date ('quarryctl
 * init'; docs/store.md, "Changing a layout").  Each step is idempotent:
 * an upgrade cut short is simply run again, and the store keeps its old
 * version (which the other programs refuse) until every step is done.
 *
 *   1 -> 2: the listing indexes by owner and by state, and the job counts
 *	     of each tenant and owner, built from the job records.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/job.h"
#include "quarry/log.h"

#define BATCH	200	/* jobs per transaction */

/* Who owns a job, for counting. */
struct owner_of {
	char	tenant[TENANT_MAX];
	char	owner[PRINCIPAL_MAX];
};

struct reindex {
	struct buf	 ids;		/* every job's id */
	size_t		 from, to;	/* the batch: byte offsets in ids */
	struct owner_of	*owners;	/* one per job indexed */
	size_t		 n, cap;
};

static int
collect_job_id(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct reindex *x = arg;

	(void)v;
	(void)vl;
	if (kl == ID_LEN)
		buf_add(&x->ids, k, ID_LEN);
	return VISIT_NEXT;
}

static enum qerr
tx_collect_ids(struct stx *tx, void *arg)
{
	struct reindex *x = arg;

	buf_reset(&x->ids);
	return stx_scan(tx, T_JOBS, "", 0, NULL, 0, collect_job_id, x);
}

/* Indexes the jobs of one batch and notes their owners. */
static enum qerr
tx_index_batch(struct stx *tx, void *arg)
{
	struct reindex	*x = arg;
	struct job	 j;
	char		 id[ID_LEN + 1];
	size_t		 i, n0 = x->n;
	enum qerr	 e;

	for (i = x->from; i < x->to; i += ID_LEN) {
		memcpy(id, x->ids.data + i, ID_LEN);
		id[ID_LEN] = '\0';
		if ((e = job_read(tx, id, &j)) == Q_NOTFOUND)
			continue;
		if (e == Q_OK)
			e = job_index_fill(tx, &j);
		if (e == Q_OK) {
			memcpy(x->owners[x->n].tenant, j.tenant, TENANT_MAX);
			memcpy(x->owners[x->n].owner, j.owner, PRINCIPAL_MAX);
			x->n++;
		}
		job_free(&j);
		if (e != Q_OK) {
			x->n = n0;	/* the batch is tried again */
			return e;
		}
	}
	return Q_OK;
}

static int
cmp_owner(const void *a, const void *b)
{
	const struct owner_of *p = a, *q = b;
	int c = strcmp(p->tenant, q->tenant);

	return c != 0 ? c : strcmp(p->owner, q->owner);
}

/* Writes the counts of the sorted owners: per tenant, per owner. */
static enum qerr
tx_counts(struct stx *tx, void *arg)
{
	struct reindex	*x = arg;
	unsigned char	 k[JOB_INDEX_KEY_MAX + 2];
	size_t		 i, t0 = 0, o0 = 0;
	enum qerr	 e;

	for (i = 1; i <= x->n; i++) {
		if (i == x->n || strcmp(x->owners[i].tenant,
		    x->owners[t0].tenant) != 0 ||
		    strcmp(x->owners[i].owner, x->owners[o0].owner) != 0) {
			if ((e = job_count_set(tx, k, job_count_key(
			    x->owners[o0].tenant, x->owners[o0].owner, k),
			    i - o0)) != Q_OK)
				return e;
			o0 = i;
		}
		if (i == x->n || strcmp(x->owners[i].tenant,
		    x->owners[t0].tenant) != 0) {
			if ((e = job_count_set(tx, k, job_count_key(
			    x->owners[t0].tenant, NULL, k), i - t0)) != Q_OK)
				return e;
			t0 = i;
		}
	}
	return Q_OK;
}

/* 1 -> 2: the owner and state indexes and the counts. */
static enum qerr
upgrade_1(struct store *s, unsigned *jobs)
{
	struct reindex	x;
	enum qerr	e;

	memset(&x, 0, sizeof(x));
	if ((e = store_txn(s, tx_collect_ids, &x)) != Q_OK)
		goto out;
	if (x.ids.oom) {
		e = Q_NOMEM;
		goto out;
	}
	x.cap = x.ids.len / ID_LEN + 1;
	if ((x.owners = calloc(x.cap, sizeof(*x.owners))) == NULL) {
		e = Q_NOMEM;
		goto out;
	}
	for (x.from = 0; x.from < x.ids.len; x.from = x.to) {
		x.to = x.from + BATCH * ID_LEN;
		if (x.to > x.ids.len)
			x.to = x.ids.len;
		if ((e = store_txn(s, tx_index_batch, &x)) != Q_OK)
			goto out;
	}
	qsort(x.owners, x.n, sizeof(*x.owners), cmp_owner);
	if ((e = store_txn(s, tx_counts, &x)) != Q_OK)
		goto out;
	*jobs = (unsigned)x.n;
out:
	buf_free(&x.ids);
	free(x.owners);
	return e;
}

/* Brings an older store up to date (see model.h). */
enum qerr
model_upgrade(struct store *s, unsigned *jobs)
{
	enum qerr	e;
	int		v = store_version(s);

	*jobs = 0;
	if (v == 1) {
		if ((e = upgrade_1(s, jobs)) != Q_OK ||
		    (e = store_set_version(s, 2)) != Q_OK)
			return e;
		qlog(LOG_INFO, "store: upgraded from format version 1 to 2 "
		    "(%u jobs indexed by owner and state)", *jobs);
		v = 2;
	}
	return v == STORE_FORMAT_VERSION ? Q_OK : Q_STORE;
}
