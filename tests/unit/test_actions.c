/*
 * Unit tests of the actions on one job (cancel, approve, reject,
 * requeue, delete) over a real store: each moves the job along the
 * state machine and keeps the queue and the active-job key right.
 */
#include "testutil.h"

#include "quarry/model.h"
#include "quarry/rec.h"

#define SYS tu_system()

static void
add_def(struct tu *t, const char *tenant, int approval, struct definition *d)
{
	char	doc[512];

	snprintf(doc, sizeof(doc), "{\"tenant\":\"%s\",\"name\":\"n\","
	    "\"source\":{\"dataset\":\"x\"},\"formats\":[\"csv\"],"
	    "\"parameters\":[{\"name\":\"x\",\"type\":\"string\"}],"
	    "\"approval\":%s}", tenant, approval ? "true" : "false");
	assert_int_equal(tu_definition(t->s, doc, d), Q_OK);
}

static void
test_cancel_frees_the_active_key(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j, k, got;
	char			 ex[ID_LEN + 1];
	enum job_state		 before;

	add_def(t, "acme", 0, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &j, ex),
	    Q_OK);
	assert_int_equal(job_cancel(t->s, SYS, j.id, &got, &before), Q_OK);
	assert_int_equal(before, JS_QUEUED);
	assert_int_equal(got.state, JS_CANCELLED);
	assert_int_not_equal(got.finished, 0);
	job_free(&got);
	/* Nothing left to claim, and an equal job may be created again. */
	assert_int_equal(job_claim(t->s, 1, 30, &got), Q_NOTFOUND);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &k, ex),
	    Q_OK);
	/* Cancelling a finished job is refused. */
	assert_int_equal(job_cancel(t->s, SYS, j.id, &got, &before), Q_STATE);
	job_free(&got);
	/* A running job is cancelled; its worker's next report sees it. */
	assert_int_equal(job_claim(t->s, 7, 30, &got), Q_OK);
	job_free(&got);
	assert_int_equal(job_cancel(t->s, SYS, k.id, &got, &before), Q_OK);
	assert_int_equal(before, JS_RUNNING);
	job_free(&got);
	assert_int_equal(job_progress(t->s, k.id, 7, 30, 1, 1, -1), Q_STATE);
	assert_int_equal(job_cancel(t->s, SYS, "AAAAAAAAAAAAAAAAAAAAAA", &got,
	    &before), Q_NOTFOUND);
	job_free(&j);
	job_free(&k);
	definition_free(&d);
}

static void
test_approve_and_reject(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 a, b, got;
	char			 ex[ID_LEN + 1];

	add_def(t, "acme", 1, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &a, ex),
	    Q_OK);
	assert_int_equal(a.state, JS_PENDING_APPROVAL);
	/* Pending jobs are not claimed. */
	assert_int_equal(job_claim(t->s, 1, 30, &got), Q_NOTFOUND);
	assert_int_equal(job_approve(t->s, SYS, a.id, &got), Q_OK);
	assert_int_equal(got.state, JS_QUEUED);
	job_free(&got);
	assert_int_equal(job_approve(t->s, SYS, a.id, &got), Q_STATE);
	job_free(&got);
	assert_int_equal(job_claim(t->s, 1, 30, &got), Q_OK);
	assert_string_equal(got.id, a.id);
	job_free(&got);
	assert_int_equal(tu_job(t->s, SYS, d.id, "{\"x\":\"1\"}", NULL,
	    &b, ex), Q_OK);
	assert_int_equal(job_reject(t->s, SYS, b.id, "not this month", &got), Q_OK);
	assert_int_equal(got.state, JS_REJECTED);
	assert_string_equal(got.detail, "not this month");
	job_free(&got);
	assert_int_equal(job_reject(t->s, SYS, b.id, "again", &got), Q_STATE);
	job_free(&got);
	job_free(&a);
	job_free(&b);
	definition_free(&d);
}

static void
test_requeue_failed(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j, k, got;
	char			 ex[ID_LEN + 1];

	add_def(t, "acme", 0, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &j, ex),
	    Q_OK);
	assert_int_equal(job_claim(t->s, 3, 30, &got), Q_OK);
	job_free(&got);
	assert_int_equal(job_fail(t->s, j.id, 3, "boom", 0, 3, 0), Q_OK);
	/* Meanwhile an equal job is active: requeue would break the rule. */
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &k, ex),
	    Q_OK);
	assert_int_equal(job_requeue(t->s, SYS, j.id, &got), Q_EXISTS);
	job_free(&got);
	assert_int_equal(job_cancel(t->s, SYS, k.id, &got, NULL), Q_OK);
	job_free(&got);
	assert_int_equal(job_requeue(t->s, SYS, j.id, &got), Q_OK);
	assert_int_equal(got.state, JS_QUEUED);
	assert_int_equal(got.attempts, 0);
	assert_string_equal(got.detail, "");
	job_free(&got);
	assert_int_equal(job_claim(t->s, 4, 30, &got), Q_OK);
	assert_string_equal(got.id, j.id);
	job_free(&got);
	job_free(&j);
	job_free(&k);
	definition_free(&d);
}

/* The one delete rule: cancel what is active, delete a completed file. */
static void
test_delete(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j, k, got;
	enum job_deleted	 how;
	char			 ex[ID_LEN + 1], path[PATH_MAX];

	add_def(t, "acme", 0, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &j, ex), Q_OK);
	assert_int_equal(job_delete(t->s, SYS, j.id, &got, &how), Q_OK);
	assert_int_equal(how, JOB_CANCELLED);
	assert_int_equal(got.state, JS_CANCELLED);
	job_free(&got);
	/* finished without a file: nothing changes */
	assert_int_equal(job_delete(t->s, SYS, j.id, &got, &how), Q_OK);
	assert_int_equal(how, JOB_UNCHANGED);
	assert_int_equal(got.state, JS_CANCELLED);
	job_free(&got);
	/* running: cancelled, and the build stops at its next report */
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &k, ex), Q_OK);
	assert_int_equal(job_claim(t->s, 3, 30, &got), Q_OK);
	job_free(&got);
	assert_int_equal(job_delete(t->s, SYS, k.id, &got, &how), Q_OK);
	assert_int_equal(how, JOB_STOPPING);
	job_free(&got);
	assert_int_equal(job_progress(t->s, k.id, 3, 30, 1, 1, -1), Q_STATE);
	job_free(&k);
	/* completed: the file is deleted and the job expires */
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &k, ex), Q_OK);
	assert_int_equal(job_claim(t->s, 4, 30, &got), Q_OK);
	job_free(&got);
	tu_path(path, t->conf.files_dir, "out.csv");
	assert_int_equal(tu_write_file(path, "a\r\n"), 0);
	assert_int_equal(job_complete(t->s, k.id, 4, "out.csv", 3, 0, 60),
	    Q_OK);
	assert_int_equal(job_delete(t->s, SYS, k.id, &got, &how), Q_OK);
	assert_int_equal(how, JOB_FILE_DELETED);
	assert_int_equal(got.state, JS_EXPIRED);
	job_free(&got);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(job_delete(t->s, SYS, "AAAAAAAAAAAAAAAAAAAAAA", &got,
	    &how), Q_NOTFOUND);
	job_free(&j);
	job_free(&k);
	definition_free(&d);
}

static int
count_job(const struct job *j, void *arg)
{
	(void)j;
	(*(int *)arg)++;
	return VISIT_NEXT;
}

/* A tenant name as long as an id must list its own jobs, not a def's. */
static void
test_list_by_tenant_of_id_length(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j;
	struct job_query	 q;
	struct caller		 who;
	char			 ex[ID_LEN + 1], tenant[ID_LEN];
	int			 n = 0;

	memset(tenant, 'a', ID_LEN - 1);
	tenant[ID_LEN - 1] = '\0';
	add_def(t, tenant, 0, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL, &j, ex),
	    Q_OK);
	memset(&q, 0, sizeof(q));
	caller_system(&who, tenant);
	assert_int_equal(job_list(t->s, &who, &q, count_job, &n), Q_OK);
	assert_int_equal(n, 1);
	job_free(&j);
	definition_free(&d);
}

static enum qerr
put_v1(struct stx *tx, void *arg)
{
	struct buf	*b = arg;

	return stx_put(tx, T_JOBS, "VVVVVVVVVVVVVVVVVVVVVV", ID_LEN, b->data,
	    b->len);
}

/* A job written by version 1 of the record still reads (docs/store.md). */
static void
test_reads_version_1_job(void **state)
{
	struct tu	*t = *state;
	struct buf	 b = BUF_INIT;
	struct job	 j;
	int		 i;

	rec_begin(&b, 'J', 1);
	rec_str(&b, "VVVVVVVVVVVVVVVVVVVVVV");
	rec_str(&b, "acme");
	rec_str(&b, "DDDDDDDDDDDDDDDDDDDDDD");
	rec_str(&b, "owner");
	rec_u64(&b, JS_COMPLETED);
	rec_u64(&b, FMT_TSV);
	rec_str(&b, "{}");
	for (i = 0; i < 10; i++)	/* seq .. bytes */
		rec_u64(&b, 100 + (uint64_t)i);
	rec_str(&b, "");
	rec_str(&b, "f.tsv");
	rec_u64(&b, 42);
	rec_u64(&b, 0);
	assert_int_equal(store_txn(t->s, put_v1, &b), Q_OK);
	buf_free(&b);
	assert_int_equal(job_get(t->s, SYS, "VVVVVVVVVVVVVVVVVVVVVV", &j),
	    Q_OK);
	assert_int_equal(j.state, JS_COMPLETED);
	assert_int_equal(j.format, FMT_TSV);
	assert_int_equal(j.created, 101);
	assert_int_equal(j.bytes, 109);
	assert_string_equal(j.file, "f.tsv");
	assert_int_equal(j.file_size, 42);
	assert_string_equal(j.name, "");
	assert_int_equal(j.approved, 0);
	job_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_cancel_frees_the_active_key),
		TU_STORE_TEST(test_approve_and_reject),
		TU_STORE_TEST(test_requeue_failed),
		TU_STORE_TEST(test_delete),
		TU_STORE_TEST(test_list_by_tenant_of_id_length),
		TU_STORE_TEST(test_reads_version_1_job),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
