/*
 * The build's progress goes by time (include/quarry/build.h): the row
 * pipeline calls the progress callback once PROGRESS_MS have passed since
 * its last report, also while the filters drop every row, so the
 * scheduler can renew a job's lease during any long build; a non-zero
 * answer stops the build.
 */
#include <fcntl.h>
#include <time.h>

#include "testutil.h"

#include "quarry/export.h"
#include "quarry/model.h"
#include "quarry/export.h"

static const char def_doc[] =
    "{\"tenant\":\"acme\",\"name\":\"P\",\"source\":{\"dataset\":\"ds\"},"
    "\"parameters\":[{\"name\":\"who\",\"type\":\"string\"}],"
    "\"filters\":[{\"column\":\"v\",\"op\":\"=\",\"parameter\":\"who\"}],"
    "\"formats\":[\"csv\"]}";

struct calls {
	int		 n;
	uint64_t	 rows;	/* the largest rows reported */
	int		 stop_at;	/* answer stop on this call (0 never) */
	int		 pm;		/* the last share of the source read */
	int		 pm_down;	/* it went down once */
};

static int
count_call(void *arg, uint64_t rows, uint64_t bytes, int permille)
{
	struct calls *c = arg;

	(void)bytes;
	c->n++;
	if (rows > c->rows)
		c->rows = rows;
	if (c->n > 1 && permille < c->pm)
		c->pm_down = 1;
	c->pm = permille;
	return c->stop_at != 0 && c->n >= c->stop_at;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Feeds rows (value v for column "v") for about secs seconds, pausing a
 * millisecond after each 64; returns what the last rowpipe_row answered.
 */
static int
feed(struct rowpipe *p, const char *v, double secs)
{
	const char		*fields[2] = { "1", v };
	size_t			 lens[2] = { 1, strlen(v) };
	struct timespec		 ms = { 0, 1000000 };
	double			 end = now_s() + secs;
	int			 rc = 0, i;

	while (rc == VISIT_NEXT && now_s() < end) {
		for (i = 0; i < 64 && rc == VISIT_NEXT; i++)
			rc = rowpipe_row(fields, lens, 2, p);
		nanosleep(&ms, NULL);
	}
	return rc;
}

static void
open_pipe(struct rowpipe *p, struct definition *d, struct calls *c,
    const char *params)
{
	char	*cols[2] = { (char *)"id", (char *)"v" };
	char	 field[64], err[256];
	int	 fd;

	memset(d, 0, sizeof(*d));
	if (definition_parse(def_doc, strlen(def_doc), d, field,
	    sizeof(field), err, sizeof(err)) != Q_OK)
		fail_msg("definition: %s: %s", field, err);
	assert_true((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0);
	rowpipe_init(p, FMT_CSV, fd, 0, NULL, count_call, c);
	assert_int_equal(rowpipe_begin(p, d, cols, 2, params, "test", err,
	    sizeof(err)), Q_OK);
}

static void
close_pipe(struct rowpipe *p, struct definition *d)
{
	int fd = p->fd;

	rowpipe_free(p);
	close(fd);
	definition_free(d);
}

/* Rows all dropped by the filter: progress still comes, by time. */
static void
test_progress_while_filters_drop_everything(void **state)
{
	struct rowpipe		p;
	struct definition	d;
	struct calls		c = { 0, 0, 0, 0, 0 };
	double			t0;

	(void)state;
	open_pipe(&p, &d, &c, "{\"who\":\"nobody\"}");
	t0 = now_s();
	assert_int_equal(feed(&p, "somebody", 1.1), 0);
	/* About one call per PROGRESS_MS: 4 in 1.1 s, never a flood. */
	assert_true(c.n >= 3);
	assert_true(c.n <= (int)((now_s() - t0) * 1000 / PROGRESS_MS) + 1);
	assert_int_equal(c.rows, 0);
	assert_int_equal(p.rows, 0);
	close_pipe(&p, &d);
}

/* Kept rows: no call before PROGRESS_MS, then rows are reported. */
static void
test_progress_reports_rows(void **state)
{
	struct rowpipe		p;
	struct definition	d;
	struct calls		c = { 0, 0, 0, 0, 0 };

	(void)state;
	open_pipe(&p, &d, &c, "{\"who\":\"x\"}");
	assert_int_equal(feed(&p, "x", 0.05), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(feed(&p, "x", 0.5), 0);
	assert_true(c.n >= 1);
	assert_true(c.rows > 0);
	assert_true(c.rows <= p.rows);
	assert_int_equal(c.pm, -1);	/* the source's size is unknown */
	close_pipe(&p, &d);
}

/*
 * A source that knows its size (a dataset sets p.total): the share read
 * is reported, in thousandths, never going down, never past 1000.
 */
static void
test_progress_share_of_a_known_source(void **state)
{
	struct rowpipe		p;
	struct definition	d;
	struct calls		c = { 0, 0, 0, 0, 0 };

	(void)state;
	open_pipe(&p, &d, &c, "{\"who\":\"x\"}");
	p.total = 1000000;
	assert_int_equal(feed(&p, "x", 0.6), 0);
	assert_true(c.n >= 1);
	assert_true(c.pm >= 0);
	/* what was read when it was reported: seen at that moment */
	assert_true(c.pm <= (int)(p.seen * 1000 / p.total));
	assert_false(c.pm_down);
	/* more rows than it said it had: 1000, not more */
	p.total = 10;
	assert_int_equal(rowpipe_progress(&p), 0);
	assert_int_equal(c.pm, 1000);
	p.total = p.seen * 4;
	assert_int_equal(rowpipe_progress(&p), 0);
	assert_int_equal(c.pm, 250);
	close_pipe(&p, &d);
}

/* A non-zero answer stops the pipeline, also on a dropped row. */
static void
test_progress_stops(void **state)
{
	struct rowpipe		p;
	struct definition	d;
	struct calls		c = { 0, 0, 2, 0, 0 };

	(void)state;
	open_pipe(&p, &d, &c, "{\"who\":\"nobody\"}");
	assert_int_equal(feed(&p, "somebody", 5.0), VISIT_STOP);
	assert_int_equal(c.n, 2);
	assert_true(p.stopped);
	close_pipe(&p, &d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress_while_filters_drop_everything),
		cmocka_unit_test(test_progress_reports_rows),
		cmocka_unit_test(test_progress_share_of_a_known_source),
		cmocka_unit_test(test_progress_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
