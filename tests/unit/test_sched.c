/*
 * Unit tests of the scheduler's side of the job store over a real store:
 * fair claiming across tenants, back-off of retried jobs, stale leases
 * and the caller's live workers, the expiry and history sweeps, and the
 * job record version 2 and queue entries written before back-off
 * existed.
 */
#include "testutil.h"

#include "quarry/model.h"
#include "quarry/rec.h"

static time_t	fake_now;

static time_t
fixed_clock(void)
{
	return fake_now;
}

static void
start_clock(void)
{
	fake_now = 1800000000;
	q_seams.now = fixed_clock;
}

static void
add_def(struct tu *t, const char *tenant, const char *name,
    struct definition *d)
{
	char	doc[512];

	snprintf(doc, sizeof(doc), "{\"tenant\":\"%s\",\"name\":\"%s\","
	    "\"source\":{\"dataset\":\"x\"},\"formats\":[\"csv\"],"
	    "\"parameters\":[{\"name\":\"n\",\"type\":\"int\"}]}", tenant,
	    name);
	assert_int_equal(tu_definition(t->s, doc, d), Q_OK);
}

/* Creates the job of d with parameter n; its id goes to id. */
static void
add_job(struct tu *t, const struct definition *d, int n, char *id)
{
	struct job	j;
	char		p[64], ex[ID_LEN + 1];

	snprintf(p, sizeof(p), "{\"n\":\"%d\"}", n);
	assert_int_equal(tu_job(t->s, tu_system(), d->id, p, NULL, &j, ex),
	    Q_OK);
	memcpy(id, j.id, ID_LEN + 1);
	job_free(&j);
}

/* Claims a job and returns its tenant's first letter ('-' if none). */
static char
claim_tenant(struct tu *t, int32_t pid)
{
	struct job	j;
	char		c;
	enum qerr	e;

	if ((e = job_claim(t->s, pid, 30, &j)) == Q_NOTFOUND)
		return '-';
	assert_int_equal(e, Q_OK);
	c = j.tenant[0];
	job_free(&j);
	return c;
}

/*
 * A tenant with many queued jobs does not starve the others: tenants
 * take turns, each giving its oldest job.
 */
static void
test_claim_is_fair_across_tenants(void **state)
{
	struct tu		*t = *state;
	struct definition	 a, b, c;
	struct job		 j;
	char			 ids[16][ID_LEN + 1], order[16];
	int			 i;

	start_clock();
	add_def(t, "alpha", "A", &a);
	add_def(t, "bravo", "B", &b);
	add_def(t, "charlie", "C", &c);
	for (i = 0; i < 6; i++)		/* alpha's six jobs come first */
		add_job(t, &a, i, ids[i]);
	add_job(t, &c, 0, ids[6]);
	add_job(t, &b, 0, ids[7]);
	add_job(t, &b, 1, ids[8]);
	for (i = 0; i < 10; i++)
		order[i] = claim_tenant(t, 100 + i);
	order[i] = '\0';
	assert_string_equal(order, "abcabaaaa-");
	/* Within a tenant, oldest first: alpha's first claim was its first. */
	assert_int_equal(job_get(t->s, tu_system(), ids[0], &j), Q_OK);
	assert_int_equal(j.worker_pid, 100);
	job_free(&j);
	assert_int_equal(job_get(t->s, tu_system(), ids[1], &j), Q_OK);
	assert_int_equal(j.worker_pid, 103);
	job_free(&j);
	definition_free(&a);
	definition_free(&b);
	definition_free(&c);
}

/* The back-off doubles per attempt and stops at its cap. */
static void
test_backoff_grows(void **state)
{
	(void)state;
	assert_int_equal(job_backoff(0, 5), 0);
	assert_int_equal(job_backoff(10, 1), 10);
	assert_int_equal(job_backoff(10, 2), 20);
	assert_int_equal(job_backoff(10, 4), 80);
	assert_int_equal(job_backoff(10, 30), JOB_BACKOFF_MAX);
	assert_int_equal(job_backoff(10, 4000000000u), JOB_BACKOFF_MAX);
	assert_int_equal(job_backoff(7200, 3), 7200);
}

/*
 * A retried job waits: claims skip it until its time, others go first,
 * and its detail says why and when.
 */
static void
test_retry_waits_its_backoff(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j;
	char			 a[ID_LEN + 1], b[ID_LEN + 1];

	start_clock();
	add_def(t, "acme", "A", &d);
	add_job(t, &d, 1, a);
	assert_int_equal(job_claim(t->s, 5, 30, &j), Q_OK);
	assert_string_equal(j.id, a);
	job_free(&j);
	assert_int_equal(job_fail(t->s, a, 5, "the source said: try later",
	    1, 3, 10), Q_OK);
	assert_int_equal(job_get(t->s, tu_system(), a, &j), Q_OK);
	assert_int_equal(j.state, JS_QUEUED);
	assert_true(j.not_before == fake_now + 10);
	assert_string_equal(j.detail, "the source said: try later; attempt 2 "
	    "of 3 will start at 2027-01-15T08:00:10Z");
	job_free(&j);
	/* Not due yet: nothing to claim, and a newer job goes first. */
	assert_int_equal(job_claim(t->s, 6, 30, &j), Q_NOTFOUND);
	add_job(t, &d, 2, b);
	assert_int_equal(job_claim(t->s, 6, 30, &j), Q_OK);
	assert_string_equal(j.id, b);
	job_free(&j);
	fake_now += 9;
	assert_int_equal(job_claim(t->s, 7, 30, &j), Q_NOTFOUND);
	fake_now += 1;
	assert_int_equal(job_claim(t->s, 7, 30, &j), Q_OK);
	assert_string_equal(j.id, a);
	assert_int_equal(j.attempts, 2);
	assert_true(j.not_before == 0);
	assert_string_equal(j.detail, "");
	job_free(&j);
	/* The second retry waits twice as long. */
	assert_int_equal(job_fail(t->s, a, 7, "again", 1, 3, 10), Q_OK);
	assert_int_equal(job_get(t->s, tu_system(), a, &j), Q_OK);
	assert_true(j.not_before == fake_now + 20);
	job_free(&j);
	fake_now += 20;
	assert_int_equal(job_claim(t->s, 8, 30, &j), Q_OK);
	job_free(&j);
	/* The last attempt fails for good, with no wait. */
	assert_int_equal(job_fail(t->s, a, 8, "still", 1, 3, 10), Q_OK);
	assert_int_equal(job_get(t->s, tu_system(), a, &j), Q_OK);
	assert_int_equal(j.state, JS_FAILED);
	assert_string_equal(j.detail, "still");
	assert_true(j.not_before == 0);
	job_free(&j);
	definition_free(&d);
}

/*
 * Stale leases: a dead worker's job goes back with its back-off, a live
 * worker of the caller keeps its job even past its lease.
 */
static void
test_stale_spares_live_workers(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j;
	char			 a[ID_LEN + 1], b[ID_LEN + 1];
	int32_t			 live[1] = { 11 };
	unsigned		 n;

	start_clock();
	add_def(t, "acme", "A", &d);
	add_job(t, &d, 1, a);
	add_job(t, &d, 2, b);
	assert_int_equal(job_claim(t->s, 11, 5, &j), Q_OK);	/* a */
	job_free(&j);
	assert_int_equal(job_claim(t->s, 12, 5, &j), Q_OK);	/* b */
	job_free(&j);
	fake_now += 6;
	assert_int_equal(job_requeue_stale(t->s, 0, 3, 10, live, 1, &n), Q_OK);
	assert_int_equal(n, 1);
	assert_int_equal(job_get(t->s, tu_system(), a, &j), Q_OK);
	assert_int_equal(j.state, JS_RUNNING);
	job_free(&j);
	assert_int_equal(job_get(t->s, tu_system(), b, &j), Q_OK);
	assert_int_equal(j.state, JS_QUEUED);
	assert_int_equal(j.attempts, 1);
	assert_true(j.not_before == fake_now + 10);
	assert_non_null(strstr(j.detail, "interrupted"));
	assert_non_null(strstr(j.detail, "will start at"));
	job_free(&j);
	/* The live worker still owns its job. */
	assert_int_equal(job_progress(t->s, a, 11, 5, 1, 1, -1), Q_OK);
	definition_free(&d);
}

/* Completed jobs expire once their time passes; their files go. */
static void
test_expire_due(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j;
	char			 a[ID_LEN + 1], b[ID_LEN + 1], path[PATH_MAX];
	unsigned		 n;

	start_clock();
	add_def(t, "acme", "A", &d);
	add_job(t, &d, 1, a);
	add_job(t, &d, 2, b);
	assert_int_equal(job_claim(t->s, 1, 30, &j), Q_OK);
	job_free(&j);
	assert_int_equal(job_claim(t->s, 2, 30, &j), Q_OK);
	job_free(&j);
	tu_path(path, t->conf.files_dir, "a.csv");
	assert_int_equal(tu_write_file(path, "x\n"), 0);
	assert_int_equal(job_complete(t->s, a, 1, "a.csv", 2, 1, 100), Q_OK);
	assert_int_equal(job_complete(t->s, b, 2, "b.csv", 2, 1, 1000), Q_OK);
	fake_now += 99;
	assert_int_equal(job_expire_due(t->s, t->conf.files_dir, &n), Q_OK);
	assert_int_equal(n, 0);
	assert_int_equal(access(path, F_OK), 0);
	fake_now += 1;
	assert_int_equal(job_expire_due(t->s, t->conf.files_dir, &n), Q_OK);
	assert_int_equal(n, 1);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(job_get(t->s, tu_system(), a, &j), Q_OK);
	assert_int_equal(j.state, JS_EXPIRED);
	assert_non_null(strstr(j.detail, "retention"));
	job_free(&j);
	assert_int_equal(job_get(t->s, tu_system(), b, &j), Q_OK);
	assert_int_equal(j.state, JS_COMPLETED);
	job_free(&j);
	definition_free(&d);
}

static int
count_job(const struct job *j, void *arg)
{
	(void)j;
	(*(int *)arg)++;
	return VISIT_NEXT;
}

/*
 * The purge deletes finished jobs beyond the newest `keep` of each
 * definition once they are older than the history period, with their
 * index entries and files; active jobs and other definitions stay.
 */
static void
test_purge_history(void **state)
{
	struct tu		*t = *state;
	struct definition	 d, e;
	struct job		 j;
	struct job_query	 q;
	struct caller		 acme;
	char			 ids[6][ID_LEN + 1], other[ID_LEN + 1];
	char			 file[160], path[PATH_MAX];
	unsigned		 n;
	int			 i, count;

	start_clock();
	add_def(t, "acme", "A", &d);
	add_def(t, "acme", "E", &e);
	for (i = 0; i < 5; i++) {
		add_job(t, &d, i, ids[i]);
		assert_int_equal(job_claim(t->s, 1, 30, &j), Q_OK);
		job_free(&j);
		snprintf(file, sizeof(file), "%s.csv", ids[i]);
		tu_path(path, t->conf.files_dir, file);
		assert_int_equal(tu_write_file(path, "x\n"), 0);
		assert_int_equal(job_complete(t->s, ids[i], 1, file, 2, 1,
		    86400), Q_OK);
		fake_now += 10;
	}
	add_job(t, &d, 5, ids[5]);		/* active: never purged */
	add_job(t, &e, 0, other);
	fake_now += 1000;
	/* Keep 3 per definition (the active one counts), history 1000 s:
	 * jobs 0..2 are purged... */
	assert_int_equal(job_purge(t->s, t->conf.files_dir, 3, 1000, &n),
	    Q_OK);
	assert_int_equal(n, 3);
	for (i = 0; i < 6; i++) {
		assert_int_equal(job_get(t->s, tu_system(), ids[i], &j), i < 3 ?
		    Q_NOTFOUND : Q_OK);
		job_free(&j);
		snprintf(file, sizeof(file), "%s.csv", ids[i]);
		tu_path(path, t->conf.files_dir, file);
		if (i < 5)
			assert_int_equal(access(path, F_OK) == 0, i >= 3);
	}
	/* ...from every index too. */
	count = 0;
	memset(&q, 0, sizeof(q));
	q.def_id = d.id;
	assert_int_equal(job_list(t->s, tu_system(), &q, count_job, &count),
	    Q_OK);
	assert_int_equal(count, 3);
	count = 0;
	q.def_id = NULL;
	caller_system(&acme, "acme");
	assert_int_equal(job_list(t->s, &acme, &q, count_job, &count), Q_OK);
	assert_int_equal(count, 4);
	/* Too recent: kept even beyond the newest. */
	assert_int_equal(job_purge(t->s, t->conf.files_dir, 0, 1100, &n),
	    Q_OK);
	assert_int_equal(n, 0);
	assert_int_equal(job_purge(t->s, t->conf.files_dir, 0, 1000, &n),
	    Q_OK);
	assert_int_equal(n, 2);
	assert_int_equal(job_get(t->s, tu_system(), other, &j), Q_OK);
	job_free(&j);
	definition_free(&d);
	definition_free(&e);
}

static enum qerr
put_raw(struct stx *tx, void *arg)
{
	struct buf	*b = arg;

	return stx_put(tx, T_JOBS, "WWWWWWWWWWWWWWWWWWWWWW", ID_LEN, b->data,
	    b->len);
}

static enum qerr
put_legacy_queue(struct stx *tx, void *arg)
{
	unsigned char k[8];

	(void)arg;
	be64_put(k, 77);
	return stx_put(tx, T_QUEUE, k, 8, "WWWWWWWWWWWWWWWWWWWWWW", ID_LEN);
}

/*
 * A version 2 job record still reads (not_before 0), and a queue entry
 * of the id alone, as written before back-off existed, is claimed.
 */
static void
test_reads_version_2_job_and_old_queue(void **state)
{
	struct tu	*t = *state;
	struct buf	 b = BUF_INIT;
	struct job	 j;
	int		 i;

	start_clock();
	rec_begin(&b, 'J', 2);
	rec_str(&b, "WWWWWWWWWWWWWWWWWWWWWW");
	rec_str(&b, "acme");
	rec_str(&b, "DDDDDDDDDDDDDDDDDDDDDD");
	rec_str(&b, "owner");
	rec_u64(&b, JS_QUEUED);
	rec_u64(&b, FMT_CSV);
	rec_str(&b, "{}");
	rec_u64(&b, 77);			/* seq */
	for (i = 0; i < 9; i++)			/* created .. bytes */
		rec_u64(&b, 0);
	rec_str(&b, "");
	rec_str(&b, "");
	rec_u64(&b, 0);
	rec_u64(&b, 0);
	rec_str(&b, "old name");
	rec_u64(&b, 5);
	assert_int_equal(store_txn(t->s, put_raw, &b), Q_OK);
	buf_free(&b);
	assert_int_equal(store_txn(t->s, put_legacy_queue, NULL), Q_OK);
	assert_int_equal(job_get(t->s, tu_system(), "WWWWWWWWWWWWWWWWWWWWWW", &j), Q_OK);
	assert_int_equal(j.state, JS_QUEUED);
	assert_string_equal(j.name, "old name");
	assert_int_equal(j.approved, 5);
	assert_true(j.not_before == 0);
	job_free(&j);
	assert_int_equal(job_claim(t->s, 3, 30, &j), Q_OK);
	assert_string_equal(j.id, "WWWWWWWWWWWWWWWWWWWWWW");
	assert_string_equal(j.tenant, "acme");
	job_free(&j);
	assert_int_equal(job_claim(t->s, 3, 30, &j), Q_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_claim_is_fair_across_tenants),
		cmocka_unit_test(test_backoff_grows),
		TU_STORE_TEST(test_retry_waits_its_backoff),
		TU_STORE_TEST(test_stale_spares_live_workers),
		TU_STORE_TEST(test_expire_due),
		TU_STORE_TEST(test_purge_history),
		TU_STORE_TEST(test_reads_version_2_job_and_old_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
