/*
 * The sweeps over jobs: completed jobs expire at the end of their
 * retention (their files deleted), and finished jobs beyond a
 * definition's newest ones are purged after the history period.
 *
 * Both run the same way (sweep_run): candidates are collected in one
 * transaction, then each is checked again and changed in its own, so
 * that a sweep never holds many locks and a job that changed in between
 * is left alone; the file of a job changed is deleted once committed.
 */
#include <stdio.h>
#include <string.h>

#include "lib/job.h"
#include "quarry/seams.h"

struct sweep {
	time_t		 now;
	size_t		 keep;		/* purge: jobs kept per definition */
	long long	 history;	/* purge: seconds finished jobs stay */
	struct buf	 ids;		/* candidates, checked again one by one */
	char		 def[ID_LEN];	/* purge: the definition being counted */
	size_t		 pos;		/* purge: its jobs seen so far */
	const char	*id;		/* the candidate being checked */
	char		 file[JOB_FILE_MAX];	/* the file of the job changed */
	int		 changed;
};

/*
 * Collects candidates with collect, then runs one on each (sw->id); each
 * one that sets sw->changed counts in *n and has sw->file deleted.
 */
static enum qerr
sweep_run(struct store *s, const char *files_dir, struct sweep *sw,
    store_fn collect, store_fn one, unsigned *n)
{
	char		id[ID_LEN + 1];
	size_t		i;
	enum qerr	e;

	*n = 0;
	sw->now = q_seams.now();
	if ((e = store_txn(s, collect, sw)) != Q_OK)
		goto out;
	if (sw->ids.oom) {
		e = Q_NOMEM;
		goto out;
	}
	sw->id = id;
	for (i = 0; i + ID_LEN <= sw->ids.len; i += ID_LEN) {
		memcpy(id, sw->ids.data + i, ID_LEN);
		id[ID_LEN] = '\0';
		sw->changed = 0;
		sw->file[0] = '\0';
		if ((e = store_txn(s, one, sw)) != Q_OK)
			goto out;
		if (sw->changed) {
			job_unlink_file(files_dir, sw->file);
			(*n)++;
		}
	}
	e = Q_OK;
out:
	buf_free(&sw->ids);
	return e;
}

/* ---- expiry ---- */

static int
collect_expired(const void *k, size_t kl, const void *v, size_t vl,
    void *arg)
{
	struct sweep	*sw = arg;
	struct job	 j;

	if (kl != ID_LEN || job_decode(v, vl, &j) != Q_OK)
		return VISIT_NEXT;
	if (j.state == JS_COMPLETED && j.expires != 0 && j.expires <= sw->now)
		buf_add(&sw->ids, k, ID_LEN);
	job_free(&j);
	return VISIT_NEXT;
}

static enum qerr
tx_collect_expired(struct stx *tx, void *arg)
{
	struct sweep *sw = arg;

	buf_reset(&sw->ids);
	return stx_scan(tx, T_JOBS, "", 0, NULL, 0, collect_expired, sw);
}

/* Expires one job if it is still completed and past its expiry. */
static enum qerr
tx_expire_one(struct stx *tx, void *arg)
{
	struct sweep	*sw = arg;
	struct job	 j;
	enum qerr	 e;

	if ((e = job_read(tx, sw->id, &j)) != Q_OK)
		return e == Q_NOTFOUND ? Q_OK : e;
	if (j.state == JS_COMPLETED && j.expires != 0 &&
	    j.expires <= q_seams.now()) {
		snprintf(sw->file, sizeof(sw->file), "%s", j.file);
		if ((e = job_set_detail(&j, "the file expired at the end of "
		    "its retention period")) == Q_OK &&
		    (e = job_transition(tx, &j, JS_EXPIRED)) == Q_OK)
			sw->changed = 1;
	}
	job_free(&j);
	return e;
}

/* The retention sweep (see model.h). */
enum qerr
job_expire_due(struct store *s, const char *files_dir, unsigned *n)
{
	struct sweep sw;

	memset(&sw, 0, sizeof(sw));
	return sweep_run(s, files_dir, &sw, tx_collect_expired, tx_expire_one,
	    n);
}

/* ---- purge ---- */

static int
collect_beyond(const void *k, size_t kl, const void *v, size_t vl,
    void *arg)
{
	struct sweep *sw = arg;

	if (kl != ID_LEN + 8 || vl != ID_LEN)
		return VISIT_NEXT;
	if (memcmp(k, sw->def, ID_LEN) != 0) {
		memcpy(sw->def, k, ID_LEN);
		sw->pos = 0;
	}
	if (++sw->pos > sw->keep)
		buf_add(&sw->ids, v, ID_LEN);
	return VISIT_NEXT;
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

/* Deletes one job and its index entries if it is finished and old. */
static enum qerr
tx_purge_one(struct stx *tx, void *arg)
{
	struct sweep	*sw = arg;
	struct job	 j;
	enum qerr	 e;

	if ((e = job_read(tx, sw->id, &j)) != Q_OK)
		return e == Q_NOTFOUND ? Q_OK : e;
	if (job_state_active(j.state) || j.finished == 0 ||
	    (long long)j.finished + sw->history > (long long)sw->now)
		goto out;
	if ((e = job_index_del(tx, &j)) != Q_OK)
		goto out;
	if ((e = stx_del(tx, T_JOBS, j.id, ID_LEN)) != Q_OK)
		goto out;
	snprintf(sw->file, sizeof(sw->file), "%s", j.file);
	sw->changed = 1;
out:
	job_free(&j);
	return e == Q_NOTFOUND ? Q_OK : e;
}

/* The history sweep (see model.h). */
enum qerr
job_purge(struct store *s, const char *files_dir, size_t keep,
    long long history, unsigned *n)
{
	struct sweep sw;

	memset(&sw, 0, sizeof(sw));
	sw.keep = keep;
	sw.history = history;
	return sweep_run(s, files_dir, &sw, tx_collect_beyond, tx_purge_one, n);
}
