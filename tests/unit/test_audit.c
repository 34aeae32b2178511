/*
 * The audit trail's store side (issue 14, item 5): records come back
 * oldest first, filtered by tenant and time; a record written in a
 * transaction that aborts is not kept; the purge removes exactly the
 * records older than its limit, however many.
 */
#include "testutil.h"

#include "quarry/model.h"
#include "quarry/seams.h"
#include "quarry/store.h"

static time_t	fake_now;

static time_t
fixed_clock(void)
{
	return fake_now;
}

struct seen {
	char		actions[64][32];
	uint64_t	times[64];
	size_t		n;
	size_t		total;
};

static int
collect(const struct audit_entry *a, void *arg)
{
	struct seen *s = arg;

	if (s->n < 64) {
		snprintf(s->actions[s->n], sizeof(s->actions[0]), "%s",
		    a->action);
		s->times[s->n++] = a->time_us;
	}
	s->total++;
	return VISIT_NEXT;
}

static struct seen
list(struct tu *t, const char *tenant, time_t since)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_list(t->s, tenant, since, collect, &s), Q_OK);
	return s;
}

static enum qerr
tx_then_fail(struct stx *tx, void *arg)
{
	enum qerr e = audit_write(tx, arg, "job.cancel", "job", "X", NULL);

	return e != Q_OK ? e : Q_INVALID;	/* the change failed */
}

static void
test_audit_list_and_purge(void **state)
{
	struct tu	*t = *state;
	struct caller	 acme, globex;
	struct seen	 s;
	unsigned	 n;
	int		 i;

	q_seams.now = fixed_clock;
	caller_system(&acme, "acme");
	caller_system(&globex, "globex");
	fake_now = 1800000000;
	assert_int_equal(audit_record(t->s, &acme, "job.create", "job", "A",
	    NULL), Q_OK);
	fake_now += 100;
	assert_int_equal(audit_record(t->s, &globex, "job.create", "job",
	    "B", NULL), Q_OK);
	fake_now += 100;
	assert_int_equal(audit_record(t->s, &acme, "job.approve", "job", "A",
	    NULL), Q_OK);
	/* an aborted change keeps no record */
	assert_int_equal(store_txn(t->s, tx_then_fail, &acme), Q_INVALID);

	s = list(t, NULL, 0);
	assert_int_equal(s.total, 3);
	assert_string_equal(s.actions[0], "job.create");
	assert_string_equal(s.actions[2], "job.approve");
	assert_true(s.times[0] < s.times[1] && s.times[1] < s.times[2]);
	s = list(t, "acme", 0);
	assert_int_equal(s.total, 2);
	s = list(t, NULL, 1800000000 + 100);
	assert_int_equal(s.total, 2);
	s = list(t, "acme", 1800000000 + 150);
	assert_int_equal(s.total, 1);
	assert_string_equal(s.actions[0], "job.approve");

	/* more than one purge transaction's worth */
	fake_now = 1700000000;
	for (i = 0; i < 1100; i++)
		assert_int_equal(audit_record(t->s, &acme, "file.download",
		    "job", "C", "bytes=1"), Q_OK);
	assert_int_equal(list(t, NULL, 0).total, 1103);
	assert_int_equal(audit_purge(t->s, 1800000000 + 50, &n), Q_OK);
	assert_int_equal(n, 1101);
	s = list(t, NULL, 0);
	assert_int_equal(s.total, 2);
	assert_string_equal(s.actions[1], "job.approve");
	assert_int_equal(audit_purge(t->s, 1800000000 + 50, &n), Q_OK);
	assert_int_equal(n, 0);
	seams_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_audit_list_and_purge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
