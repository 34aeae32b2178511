/*
 * quarryctl verify and verify --repair (issue 14, item 2): a sound store
 * passes; each kind of damage planted here (a job missing from an index
 * and from the queue, an index entry naming no job, a wrong job count, a
 * completed job's file removed or cut short, a file of no job, a stale
 * temporary file) is found, once, with nothing changed; --repair mends
 * each, and the store passes again.
 */
#include "testutil.h"

#include "lib/job.h"
#include "quarry/model.h"
#include "quarry/store.h"

struct said {
	char	lines[32][512];
	size_t	n;
};

static void
collect(void *arg, const char *line)
{
	struct said *s = arg;

	if (s->n < 32)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s", line);
}

/* The number of lines holding all of needle. */
static size_t
lines_with(const struct said *s, const char *needle)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (strstr(s->lines[i], needle) != NULL)
			n++;
	return n;
}

static struct verify_result
run_verify(struct tu *t, int repair, struct said *s)
{
	struct verify_result r;

	memset(s, 0, sizeof(*s));
	assert_int_equal(store_verify(t->s, repair, collect, s, &r), Q_OK);
	return r;
}

/*
 * A job of d, claimed by worker 7 and completed with its file named as
 * builds name them (the job's id and the extension), returned in name.
 */
static void
completed(struct tu *t, const struct definition *d, const char *params,
    char name[64], struct job *out)
{
	struct job	j, got;
	char		existing[ID_LEN + 1], path[PATH_MAX];

	assert_int_equal(tu_job(t->s, tu_system(), d->id, params, NULL, &j,
	    existing), Q_OK);
	assert_int_equal(job_claim(t->s, 7, 30, &got), Q_OK);
	assert_string_equal(got.id, j.id);
	job_free(&got);
	snprintf(name, 64, "%s.csv", j.id);
	tu_path(path, t->conf.files_dir, name);
	assert_int_equal(tu_write_file(path, "a,b\r\n1,2\r\n"), 0);
	assert_int_equal(job_complete(t->s, j.id, 7, name, 10, 1, 3600), Q_OK);
	*out = j;
}

struct plant {
	const struct job	*queued;
	int			 step;
};

/* Damages the store the way a bug or a bad disk might. */
static enum qerr
tx_plant(struct stx *tx, void *arg)
{
	struct plant	*p = arg;
	struct job_key	 keys[JOB_KEYS_MAX];
	struct job	 j;
	unsigned char	 k[JOB_INDEX_KEY_MAX + 2];
	size_t		 n, i;
	enum qerr	 e;

	assert_int_equal(job_read(tx, p->queued->id, &j), Q_OK);
	n = job_index_keys(&j, keys);
	/* out of the listing by definition, and out of the queue */
	for (i = 0; i < n; i++)
		if (keys[i].t == T_JOBS_BY_DEF || keys[i].t == T_READY)
			assert_int_equal(stx_del(tx, keys[i].t, keys[i].k.data,
			    keys[i].k.len), Q_OK);
	job_keys_free(keys, n);
	job_free(&j);
	/* an entry naming a job that does not exist */
	memcpy(k, "acme\0", 5);
	memset(k + 5, 0x7f, 8);
	if ((e = stx_put(tx, T_JOBS_BY_TENANT, k, 13,
	    "QQQQQQQQQQQQQQQQQQQQQQ", ID_LEN)) != Q_OK)
		return e;
	/* a wrong count */
	return job_count_set(tx, k, job_count_key("acme", NULL, k), 99);
}

static void
test_verify_finds_and_repairs(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 q, c1, c2, got;
	struct verify_result	 r;
	struct said		 s;
	struct plant		 p;
	char			 existing[ID_LEN + 1], path[PATH_MAX];
	char			 orphan[PATH_MAX], tmp[PATH_MAX];
	char			 one[64], two[64], want[128];

	assert_int_equal(tu_definition(t->s, "{\"tenant\":\"acme\",\"name\":"
	    "\"V\",\"source\":{\"dataset\":\"ds\"},\"parameters\":[{\"name\":"
	    "\"k\",\"type\":\"string\"}]}", &d), Q_OK);
	completed(t, &d, "{\"k\":\"1\"}", one, &c1);
	completed(t, &d, "{\"k\":\"2\"}", two, &c2);
	assert_int_equal(tu_job(t->s, tu_system(), d.id, "{\"k\":\"3\"}", NULL,
	    &q, existing), Q_OK);
	/* sound: no problem */
	r = run_verify(t, 0, &s);
	if (r.problems != 0) {
		size_t i;

		for (i = 0; i < s.n; i++)
			print_message("%s\n", s.lines[i]);
	}
	assert_int_equal(r.problems, 0);
	assert_true(r.records >= 4 && r.entries > 0 && r.files == 2);

	/* the damage */
	p.queued = &q;
	assert_int_equal(store_txn(t->s, tx_plant, &p), Q_OK);
	tu_path(path, t->conf.files_dir, one);
	assert_int_equal(unlink(path), 0);
	tu_path(path, t->conf.files_dir, two);
	assert_int_equal(tu_write_file(path, "a,"), 0);	/* cut short */
	tu_path(orphan, t->conf.files_dir, "ZZZZZZZZZZZZZZZZZZZZZZ.csv");
	assert_int_equal(tu_write_file(orphan, "x"), 0);
	tu_path(tmp, t->conf.files_dir, "YYYYYYYYYYYYYYYYYYYYYY.csv.tmp");
	assert_int_equal(tu_write_file(tmp, "x"), 0);

	/* found, each once, and nothing changed */
	r = run_verify(t, 0, &s);
	if (r.problems != 8) {
		size_t i;

		for (i = 0; i < s.n; i++)
			print_message("%s\n", s.lines[i]);
	}
	assert_int_equal(r.problems, 8);
	assert_int_equal(s.n, 8);
	assert_int_equal(r.mended, 0);
	assert_int_equal(lines_with(&s, "missing from the jobs by definition "
	    "index"), 1);
	assert_int_equal(lines_with(&s, "missing from the ready queue index"),
	    1);
	assert_int_equal(lines_with(&s, "names no job"), 1);
	assert_int_equal(lines_with(&s, "the job count"), 1);
	snprintf(want, sizeof(want), "its file %s is missing", one);
	assert_int_equal(lines_with(&s, want), 1);
	snprintf(want, sizeof(want), "its file %s is missing or not of its 10 "
	    "bytes", two);
	assert_int_equal(lines_with(&s, want), 1);
	assert_int_equal(lines_with(&s, "belongs to no completed job"), 1);
	assert_int_equal(lines_with(&s, "a temporary file of no running build"),
	    1);
	assert_int_equal(access(orphan, F_OK), 0);
	assert_int_equal(access(tmp, F_OK), 0);
	r = run_verify(t, 0, &s);
	assert_int_equal(r.problems, 8);

	/* --repair mends each, and says so */
	r = run_verify(t, 1, &s);
	assert_int_equal(r.problems, 8);
	assert_int_equal(r.mended, 8);
	assert_int_equal(lines_with(&s, ": mended"), 8);
	r = run_verify(t, 0, &s);
	if (r.problems != 0)
		print_message("%s\n", s.lines[0]);
	assert_int_equal(r.problems, 0);
	assert_int_equal(access(orphan, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(path, F_OK), -1);	/* the damaged file */
	/* the jobs whose files were gone are expired; the queued one is
	   claimable again, and listed by its definition */
	assert_int_equal(job_get(t->s, tu_system(), c1.id, &got), Q_OK);
	assert_int_equal(got.state, JS_EXPIRED);
	job_free(&got);
	assert_int_equal(job_get(t->s, tu_system(), c2.id, &got), Q_OK);
	assert_int_equal(got.state, JS_EXPIRED);
	job_free(&got);
	assert_int_equal(job_claim(t->s, 8, 30, &got), Q_OK);
	assert_string_equal(got.id, q.id);
	job_free(&got);
	job_free(&q);
	job_free(&c1);
	job_free(&c2);
	definition_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_verify_finds_and_repairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
