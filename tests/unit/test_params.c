/*
 * Job parameters: typed values, the canonical form, undeclared and
 * required parameters; compiled filters with typed comparison and prefix.
 */
#include "testutil.h"

#include "quarry/jsonutil.h"
#include "quarry/export.h"
#include "quarry/params.h"

static void
test_value_types(void **state)
{
	static const struct {
		enum ptype	 t;
		const char	*v;
		int		 ok;
	} cases[] = {
		{ PT_STRING, "", 1 }, { PT_STRING, "any \xc3\xa9 text", 1 },
		{ PT_INT, "0", 1 }, { PT_INT, "-12", 1 }, { PT_INT, "+7", 1 },
		{ PT_INT, "9223372036854775807", 1 },
		{ PT_INT, "9223372036854775808", 0 }, { PT_INT, "", 0 },
		{ PT_INT, "1.5", 0 }, { PT_INT, " 1", 0 }, { PT_INT, "1 ", 0 },
		{ PT_INT, "0x10", 0 }, { PT_INT, "-", 0 },
		{ PT_DECIMAL, "12.50", 1 }, { PT_DECIMAL, "-0.5", 1 },
		{ PT_DECIMAL, ".5", 1 }, { PT_DECIMAL, "3", 1 },
		{ PT_DECIMAL, "5.", 1 }, { PT_DECIMAL, "1e5", 0 },
		{ PT_DECIMAL, ".", 0 }, { PT_DECIMAL, "nan", 0 },
		{ PT_DECIMAL, "1,5", 0 }, { PT_DECIMAL, "", 0 },
		{ PT_DATE, "2026-11-22", 1 }, { PT_DATE, "2024-02-29", 1 },
		{ PT_DATE, "2023-02-29", 0 }, { PT_DATE, "2026-13-01", 0 },
		{ PT_DATE, "2026-04-31", 0 }, { PT_DATE, "2026-1-1", 0 },
		{ PT_DATE, "2026-11-22T00:00:00Z", 0 }, { PT_DATE, "", 0 },
		{ PT_DATETIME, "2026-11-22T09:15:02Z", 1 },
		{ PT_DATETIME, "2026-11-22T09:15:02.123Z", 1 },
		{ PT_DATETIME, "2026-11-22T09:15:02+01:00", 1 },
		{ PT_DATETIME, "2026-11-22 09:15:02Z", 0 },
		{ PT_DATETIME, "2026-11-22T09:15:02", 0 },
		{ PT_DATETIME, "2026-11-22T24:00:00Z", 0 },
		{ PT_DATETIME, "2026-11-22", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (param_value_valid(cases[i].t, cases[i].v) != cases[i].ok)
			fail_msg("type %d value '%s': expected %s", cases[i].t,
			    cases[i].v, cases[i].ok ? "valid" : "invalid");
}

static const char def_doc[] =
    "{\"tenant\":\"acme\",\"name\":\"P\",\"source\":{\"dataset\":\"ds\"},"
    "\"parameters\":["
    "{\"name\":\"from\",\"type\":\"date\"},"
    "{\"name\":\"currency\",\"type\":\"string\"},"
    "{\"name\":\"min\",\"type\":\"decimal\"},"
    "{\"name\":\"n\",\"type\":\"int\"},"
    "{\"name\":\"at\",\"type\":\"datetime\"},"
    "{\"name\":\"dept\",\"type\":\"string\",\"required\":true},"
    "{\"name\":\"code\",\"type\":\"string\"}],"
    "\"filters\":["
    "{\"column\":\"date\",\"op\":\">=\",\"parameter\":\"from\"},"
    "{\"column\":\"currency\",\"op\":\"=\",\"parameter\":\"currency\"},"
    "{\"column\":\"amount\",\"op\":\">\",\"parameter\":\"min\"},"
    "{\"column\":\"qty\",\"op\":\"<=\",\"parameter\":\"n\"},"
    "{\"column\":\"ts\",\"op\":\"<\",\"parameter\":\"at\"},"
    "{\"column\":\"dept\",\"op\":\"!=\",\"parameter\":\"dept\"},"
    "{\"column\":\"code\",\"op\":\"prefix\",\"parameter\":\"code\"}]}";

static int
setup_def(void **state)
{
	struct definition	*d = calloc(1, sizeof(*d));
	char			 field[64], err[256];

	if (d == NULL || definition_parse(def_doc, sizeof(def_doc) - 1, d,
	    field, sizeof(field), err, sizeof(err)) != Q_OK) {
		fprintf(stderr, "setup: %s\n", err);
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int
teardown_def(void **state)
{
	definition_free(*state);
	free(*state);
	return 0;
}

/* Canonical form of a JSON text (NULL = no parameters), or the error. */
static enum qerr
canon(const struct definition *d, const char *json, struct buf *out,
    char *bad)
{
	struct json_object	*o = NULL;
	char			 err[256];
	enum qerr		 e;

	/*
	 * json-c's own parser, not the strict entry point: that one refuses
	 * \u0000 already, and params_canonical must hold on its own.
	 */
	if (json != NULL)
		assert_non_null(o = json_tokener_parse(json));
	e = params_canonical(d, o, out, bad, 64, err, sizeof(err));
	json_object_put(o);
	return e;
}

static void
test_canonical(void **state)
{
	struct definition	*d = *state;
	struct buf		 b = BUF_INIT, b2 = BUF_INIT;
	char			 bad[64];

	assert_int_equal(canon(d, "{\"dept\":\"x\",\"currency\":\"EUR\","
	    "\"from\":\"2026-01-01\",\"n\":5,\"min\":2.5}", &b, bad), Q_OK);
	assert_string_equal(buf_str(&b), "{\"currency\":\"EUR\",\"dept\":\"x\","
	    "\"from\":\"2026-01-01\",\"min\":\"2.5\",\"n\":\"5\"}");
	/* The same values in another order and spelling: the same form. */
	assert_int_equal(canon(d, "{\"n\":\"5\",\"min\":\"2.5\","
	    "\"from\":\"2026-01-01\",\"currency\":\"EUR\",\"dept\":\"x\"}",
	    &b2, bad), Q_OK);
	assert_string_equal(buf_str(&b2), buf_str(&b));
	/* Escaping in the canonical JSON. */
	assert_int_equal(canon(d, "{\"dept\":\"a\\\"b\\\\c\"}", &b, bad),
	    Q_OK);
	assert_string_equal(buf_str(&b), "{\"dept\":\"a\\\"b\\\\c\"}");
	buf_free(&b);
	buf_free(&b2);
}

static void
test_canonical_refused(void **state)
{
	static const struct {
		const char *json, *bad;
	} cases[] = {
		{ NULL, "dept" },				/* required */
		{ "{}", "dept" },
		{ "{\"dept\":\"x\",\"to\":\"1\"}", "to" },	/* undeclared */
		{ "{\"dept\":\"x\",\"from\":\"2026-02-30\"}", "from" },
		{ "{\"dept\":\"x\",\"from\":20260101}", "from" },
		{ "{\"dept\":\"x\",\"n\":\"five\"}", "n" },
		{ "{\"dept\":\"x\",\"n\":1.5}", "n" },
		{ "{\"dept\":\"x\",\"min\":\"1e3\"}", "min" },
		{ "{\"dept\":\"x\",\"at\":\"yesterday\"}", "at" },
		{ "{\"dept\":7}", "dept" },
		{ "{\"dept\":null}", "dept" },
		{ "{\"dept\":[\"x\"]}", "dept" },
		{ "{\"dept\":\"a\\u0000b\"}", "dept" },
		{ "[1]", "parameters" },
	};
	struct definition	*d = *state;
	struct buf		 b = BUF_INIT;
	char			 bad[64];
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (canon(d, cases[i].json, &b, bad) != Q_INVALID)
			fail_msg("case %zu (%s) accepted", i, cases[i].json);
		if (strcmp(bad, cases[i].bad) != 0)
			fail_msg("case %zu: bad '%s', expected '%s'", i, bad,
			    cases[i].bad);
	}
	buf_free(&b);
}

static char *const cols[] = { "date", "currency", "amount", "qty", "ts",
    "dept", "code", "other" };

/* Does one row pass the filters compiled for params? */
static int
matches(const struct definition *d, const char *params,
    const char *const row[8])
{
	struct filter_set	fs;
	size_t			lens[8], i;
	char			err[256];
	int			m;

	for (i = 0; i < 8; i++)
		lens[i] = strlen(row[i]);
	if (filters_compile(d, cols, 8, params, &fs, err, sizeof(err)) !=
	    Q_OK)
		fail_msg("filters_compile: %s", err);
	m = filters_match(&fs, row, lens);
	filters_free(&fs);
	return m;
}

static void
test_filters(void **state)
{
	struct definition	*d = *state;
	const char		*row[8] = { "2026-03-01", "EUR", "10.50", "9",
	    "2026-03-01T10:00:00Z", "sales", "AB-123", "" };

	/* No parameters given: every filter is skipped. */
	assert_true(matches(d, "{}", row));
	/* Dates order as dates. */
	assert_true(matches(d, "{\"from\":\"2026-03-01\"}", row));
	assert_false(matches(d, "{\"from\":\"2026-03-02\"}", row));
	assert_true(matches(d, "{\"from\":\"2025-12-31\"}", row));
	/* Strings compare exactly. */
	assert_true(matches(d, "{\"currency\":\"EUR\"}", row));
	assert_false(matches(d, "{\"currency\":\"eur\"}", row));
	assert_false(matches(d, "{\"currency\":\"EU\"}", row));
	/* Decimals compare as numbers: 10.50 > 9.9, not as text. */
	assert_true(matches(d, "{\"min\":\"9.9\"}", row));
	assert_true(matches(d, "{\"min\":\"10.4999\"}", row));
	assert_false(matches(d, "{\"min\":\"10.5\"}", row));
	/* Integers too: 9 <= 10 although "9" > "10" as text. */
	assert_true(matches(d, "{\"n\":\"10\"}", row));
	assert_true(matches(d, "{\"n\":\"9\"}", row));
	assert_false(matches(d, "{\"n\":\"8\"}", row));
	/* Date-times compare as instants, offsets included. */
	assert_true(matches(d, "{\"at\":\"2026-03-01T10:00:01Z\"}", row));
	assert_false(matches(d, "{\"at\":\"2026-03-01T10:00:00Z\"}", row));
	assert_true(matches(d, "{\"at\":\"2026-03-01T11:30:00+01:00\"}", row));
	assert_false(matches(d, "{\"at\":\"2026-03-01T10:30:00+01:00\"}",
	    row));
	/* != and prefix. */
	assert_true(matches(d, "{\"dept\":\"hr\"}", row));
	assert_false(matches(d, "{\"dept\":\"sales\"}", row));
	assert_true(matches(d, "{\"code\":\"AB-\"}", row));
	assert_true(matches(d, "{\"code\":\"AB-123\"}", row));
	assert_false(matches(d, "{\"code\":\"AB-1234\"}", row));
	assert_false(matches(d, "{\"code\":\"ab\"}", row));
	/* Several filters: all must pass. */
	assert_true(matches(d, "{\"currency\":\"EUR\",\"min\":\"1\"}", row));
	assert_false(matches(d, "{\"currency\":\"EUR\",\"min\":\"100\"}",
	    row));
	/* A cell that is not of the type never matches a typed filter. */
	row[2] = "n/a";
	assert_false(matches(d, "{\"min\":\"1\"}", row));
	assert_true(matches(d, "{}", row));
}

static void
test_filter_unknown_column(void **state)
{
	struct definition	*d = *state;
	struct filter_set	 fs;
	char			*few[] = { "date" };
	char			 err[256];

	/* A filter on a column the source lacks is an error when it applies. */
	assert_int_equal(filters_compile(d, few, 1, "{\"currency\":\"EUR\"}",
	    &fs, err, sizeof(err)), Q_INVALID);
	assert_non_null(strstr(err, "currency"));
	/* and is skipped when its parameter is absent. */
	assert_int_equal(filters_compile(d, few, 1, "{\"from\":\"2026-01-01\"}",
	    &fs, err, sizeof(err)), Q_OK);
	assert_int_equal(fs.n, 1);
	filters_free(&fs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_types),
		cmocka_unit_test_setup_teardown(test_canonical, setup_def,
		    teardown_def),
		cmocka_unit_test_setup_teardown(test_canonical_refused,
		    setup_def, teardown_def),
		cmocka_unit_test_setup_teardown(test_filters, setup_def,
		    teardown_def),
		cmocka_unit_test_setup_teardown(test_filter_unknown_column,
		    setup_def, teardown_def),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
