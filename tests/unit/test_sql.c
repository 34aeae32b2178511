/*
 * SQL sources (issue 12): definitions that read a configured database,
 * checked against the configuration when created or replaced.
 */
#include "testutil.h"

#include <json-c/json.h>
#include <sqlite3.h>

#include "quarry/sqltext.h"

/* A store whose configuration has an SQLite and a PostgreSQL database. */
static int
setup_sql(void **state)
{
	struct tu	*t;
	struct db_conf	*d;

	if (tu_setup_dir(state) != 0)
		return -1;
	t = *state;
	d = &t->conf.databases[t->conf.ndatabases++];
	snprintf(d->name, sizeof(d->name), "local");
	d->driver = DB_SQLITE;
	tu_path(d->path, t->dir, "local.db");
	d->query_timeout = 3600;
	d = &t->conf.databases[t->conf.ndatabases++];
	snprintf(d->name, sizeof(d->name), "reports");
	d->driver = DB_POSTGRESQL;
	snprintf(d->conninfo, sizeof(d->conninfo), "dbname=reports");
	d->query_timeout = 3600;
	if (store_open(&t->conf, STORE_CREATE, &t->s) != Q_OK) {
		tu_rmtree(t->dir);
		free(t);
		return -1;
	}
	return 0;
}

static const char sql_doc[] =
    "{\"tenant\":\"acme\",\"name\":\"Expenses\","
    "\"source\":{\"database\":\"reports\",\"query\":"
    "\"SELECT id, amount FROM expenses WHERE created >= :from AND "
    "(:currency IS NULL OR currency = :currency)\"},"
    "\"parameters\":[{\"name\":\"from\",\"type\":\"date\","
    "\"required\":true},{\"name\":\"currency\",\"type\":\"string\"}],"
    "\"columns\":[\"amount\",\"id\"],\"formats\":[\"csv\",\"json\"]}";

/* Creates doc with from replaced by to; the refusal in why. */
static enum qerr
create_with(struct tu *t, const char *from, const char *to,
    struct definition *d, struct refusal *why)
{
	struct json_object	*o;
	char			*doc;
	enum qerr		 e;

	doc = tu_replace(sql_doc, from, to);
	assert_non_null(o = json_tokener_parse(doc));
	e = definition_create(t->s, tu_system(), o, d, why);
	json_object_put(o);
	free(doc);
	return e;
}

static void
test_sql_definition(void **state)
{
	struct tu		*t = *state;
	struct definition	 d, got;
	struct refusal		 why;

	assert_int_equal(create_with(t, "", "", &d, &why), Q_OK);
	assert_int_equal(definition_get(t->s, tu_system(), d.id, &got), Q_OK);
	assert_string_equal(got.database, "reports");
	assert_non_null(strstr(got.query, ":currency IS NULL"));
	assert_null(got.dataset);
	assert_int_equal(got.ncolumns, 2);
	definition_free(&got);
	definition_free(&d);
}

static int
count(const struct definition *d, void *arg)
{
	(void)d;
	++*(int *)arg;
	return VISIT_NEXT;
}

static void
test_sql_definition_refused(void **state)
{
	static const struct {
		const char *from, *to, *member, *msg;
	} cases[] = {
		{ "\"database\":\"reports\"", "\"database\":\"nope\"",
		    "source.database", "names no database of the "
		    "configuration" },
		{ "OR currency = :currency)", "OR currency = :currency); "
		    "DELETE FROM expenses", "source.query",
		    "must be a single statement" },
		{ "created >= :from", "created >= :since", "source.query",
		    ":since names no declared parameter" },
		{ "created >= :from", "created >= 'x", "source.query",
		    "leaves a string literal open" },
		{ "\"columns\"", "\"filters\":[{\"column\":\"id\",\"op\":\"=\","
		    "\"parameter\":\"from\"}],\"columns\"", "filters",
		    "do not apply to a SQL source" },
		{ ",\"query\":\"SELECT id, amount FROM expenses WHERE created "
		    ">= :from AND (:currency IS NULL OR currency = :currency)\"",
		    "", "source.query", "is required" },
		{ "\"database\":\"reports\",", "\"dataset\":\"x\",",
		    "source.query", "only goes with database" },
		{ "\"database\":\"reports\",", "\"database\":\"reports\","
		    "\"dataset\":\"x\",", "source", "needs exactly one of "
		    "dataset, command and database" },
		{ "\"database\":\"reports\",", "\"database\":\"reports\","
		    "\"args\":[\"a\"],", "source.args", "only goes with "
		    "command" },
		{ "\"query\":\"SELECT", "\"query\":\" \\u0000SELECT", "source.query",
		    "must not contain NUL" },
	};
	struct tu		*t = *state;
	struct definition	 d;
	struct refusal		 why;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (create_with(t, cases[i].from, cases[i].to, &d, &why) !=
		    Q_INVALID)
			fail_msg("case %zu was accepted", i);
		if (strcmp(why.member, cases[i].member) != 0 ||
		    strstr(why.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: member '%s', message '%s'", i,
			    why.member, why.msg);
	}
	/* nothing was stored */
	assert_int_equal(definition_list(t->s, tu_system(), count,
	    &n), Q_OK);
	assert_int_equal(n, 0);
}

/* ---- the SQLite driver, end to end through build_to_fd ---- */

/* Runs SQL statements on the "local" SQLite file (the test's setup). */
static void
lite_exec(struct tu *t, const char *sql)
{
	sqlite3	*db;
	char	*msg = NULL;

	assert_int_equal(sqlite3_open(conf_database(&t->conf,
	    "local")->path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sqlite: %s", msg);
	sqlite3_close(db);
}

static void
lite_seed(struct tu *t)
{
	lite_exec(t, "CREATE TABLE expenses(id INTEGER PRIMARY KEY, "
	    "created TEXT, currency TEXT, amount REAL, note TEXT, "
	    "big INTEGER, data BLOB);"
	    "INSERT INTO expenses VALUES "
	    "(1, '2026-01-05', 'EUR', 12.5, 'plain', 9007199254740993, "
	    "x'00ff'),"
	    "(2, '2026-02-01', 'USD', -3, 'comma, \"quote\"' || char(10) || "
	    "'newline', NULL, NULL),"
	    "(3, '2026-03-01', NULL, 0.1, '', 1, NULL),"
	    "(4, '2026-03-02', 'EUR', 1e20, 'Grüße ✓', NULL, NULL);");
}

/* A definition of the "local" database with this query and params. */
static void
lite_definition(struct tu *t, const char *query, const char *params_decl,
    struct definition *d)
{
	struct json_object	*o, *src, *q;
	struct refusal		 why;
	char			 doc[2048];

	snprintf(doc, sizeof(doc), "{\"tenant\":\"acme\",\"name\":\"L\","
	    "\"source\":{\"database\":\"local\",\"query\":\"\"},"
	    "\"parameters\":[%s],\"formats\":[\"csv\",\"tsv\",\"json\","
	    "\"xml\"]}", params_decl);
	assert_non_null(o = json_tokener_parse(doc));
	/* the query as a JSON string, whatever it holds */
	assert_true(json_object_object_get_ex(o, "source", &src));
	assert_non_null(q = json_object_new_string(query));
	json_object_object_add(src, "query", q);
	if (definition_create(t->s, tu_system(), o, d, &why) != Q_OK)
		fail_msg("definition refused: %s", why.msg);
	json_object_put(o);
}

static const char expenses_query[] =
    "SELECT * FROM expenses WHERE created >= :from AND "
    "(:currency IS NULL OR currency = :currency) ORDER BY id";
static const char expenses_params[] =
    "{\"name\":\"from\",\"type\":\"date\",\"required\":true},"
    "{\"name\":\"currency\",\"type\":\"string\"}";

static void
test_sqlite_export(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*out;

	lite_seed(t);
	lite_definition(t, expenses_query, expenses_params, &d);
	/* csv: SQLite's own text of each value; NULL and '' both empty */
	assert_int_equal(tu_build(t, &d, "{\"from\":\"2026-01-01\"}", FMT_CSV,
	    NULL, NULL, &res, &out), Q_OK);
	assert_string_equal(out,
	    "id,created,currency,amount,note,big,data\r\n"
	    "1,2026-01-05,EUR,12.5,plain,9007199254740993,\\x00ff\r\n"
	    "2,2026-02-01,USD,-3.0,\"comma, \"\"quote\"\"\nnewline\",,\r\n"
	    "3,2026-03-01,,0.1,,1,\r\n"
	    "4,2026-03-02,EUR,1.0e+20,Grüße ✓,,\r\n");
	assert_true(res.rows == 4);
	free(out);
	/* json: numbers stay numbers, NULL is null, '' is "" */
	assert_int_equal(tu_build(t, &d, "{\"currency\":\"USD\","
	    "\"from\":\"2026-01-01\"}", FMT_JSON, NULL, NULL, &res, &out),
	    Q_OK);
	assert_string_equal(out, "[\n{\"id\":2,\"created\":\"2026-02-01\","
	    "\"currency\":\"USD\",\"amount\":-3.0,\"note\":\"comma, "
	    "\\\"quote\\\"\\nnewline\",\"big\":null,\"data\":null}\n]\n");
	free(out);
	assert_int_equal(tu_build(t, &d, "{\"from\":\"2026-03-01\"}", FMT_JSON,
	    NULL, NULL, &res, &out), Q_OK);
	assert_non_null(strstr(out, "\"currency\":null,\"amount\":0.1,"
	    "\"note\":\"\",\"big\":1"));
	assert_non_null(strstr(out, "\"amount\":1.0e+20"));
	free(out);
	/* xml: NULL is xsi:nil, '' an empty element */
	assert_int_equal(tu_build(t, &d, "{\"from\":\"2026-03-01\"}", FMT_XML,
	    NULL, NULL, &res, &out), Q_OK);
	assert_non_null(strstr(out, "<currency xsi:nil=\"true\"/>"
	    "<amount>0.1</amount><note></note>"));
	free(out);
	/* a hostile value is a value, never SQL */
	assert_int_equal(tu_build(t, &d, "{\"currency\":\"EUR' OR 1=1 --\","
	    "\"from\":\"2000-01-01\"}", FMT_CSV, NULL, NULL, &res, &out), Q_OK);
	assert_string_equal(out, "id,created,currency,amount,note,big,data\r\n");
	free(out);
	assert_int_equal(tu_build(t, &d, "{\"currency\":\"EUR\",\"from\":"
	    "\"2026-01-01\"}", FMT_TSV, NULL, NULL, &res, &out), Q_OK);
	assert_true(res.rows == 2);
	free(out);
	definition_free(&d);
	/* the table is as it was */
	lite_definition(t, "SELECT count(*) AS n FROM expenses", "", &d);
	assert_int_equal(tu_build(t, &d, "{}", FMT_CSV, NULL, NULL, &res,
	    &out), Q_OK);
	assert_string_equal(out, "n\r\n4\r\n");
	free(out);
	definition_free(&d);
}

static void
test_sqlite_params_and_columns(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*out;

	lite_exec(t, "CREATE TABLE ev(at TEXT, n INTEGER, x REAL);"
	    "INSERT INTO ev VALUES ('2026-01-01 07:59:59', 1, 1.5),"
	    "('2026-01-01 08:00:00', 2, 2.5), ('2026-01-01 09:00:00', 3, 3.5);");
	/* datetime binds as UTC in SQLite's form; int as an integer */
	lite_definition(t, "SELECT n, at FROM ev WHERE at >= :since AND "
	    "n < :below AND x > :over ORDER BY n",
	    "{\"name\":\"since\",\"type\":\"datetime\",\"required\":true},"
	    "{\"name\":\"below\",\"type\":\"int\",\"required\":true},"
	    "{\"name\":\"over\",\"type\":\"decimal\",\"required\":true}", &d);
	assert_int_equal(tu_build(t, &d, "{\"below\":\"3\",\"over\":\"2.0\","
	    "\"since\":\"2026-01-01T10:00:00+02:00\"}", FMT_CSV, NULL, NULL,
	    &res, &out), Q_OK);
	assert_string_equal(out, "n,at\r\n2,2026-01-01 08:00:00\r\n");
	free(out);
	definition_free(&d);
	/* integers as SQLite writes them, to the ends of their range */
	lite_definition(t, "SELECT -9223372036854775807 - 1 AS lo, "
	    "9223372036854775807 AS hi, 0 AS z, -7 AS m", "", &d);
	assert_int_equal(tu_build(t, &d, "{}", FMT_CSV, NULL, NULL, &res,
	    &out), Q_OK);
	assert_string_equal(out, "lo,hi,z,m\r\n-9223372036854775808,"
	    "9223372036854775807,0,-7\r\n");
	free(out);
	definition_free(&d);
}

static void
test_sqlite_refusals(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*out;

	lite_seed(t);
	/* a query that writes fails the job and changes nothing */
	lite_definition(t, "DELETE FROM expenses", "", &d);
	assert_int_equal(tu_build(t, &d, "{}", FMT_CSV, NULL, NULL, &res,
	    NULL), Q_INVALID);
	assert_non_null(strstr(res.detail, "database 'local': the query "
	    "would write"));
	assert_false(res.retry);
	definition_free(&d);
	lite_definition(t, "SELECT count(*) AS n FROM expenses", "", &d);
	assert_int_equal(tu_build(t, &d, "{}", FMT_CSV, NULL, NULL, &res,
	    &out), Q_OK);
	assert_string_equal(out, "n\r\n4\r\n");
	free(out);
	definition_free(&d);
	/* the database's own message for a bad query */
	lite_definition(t, "SELECT nope FROM expenses", "", &d);
	assert_int_equal(tu_build(t, &d, "{}", FMT_CSV, NULL, NULL, &res,
	    NULL), Q_INVALID);
	assert_string_equal(res.detail, "database 'local': no such column: "
	    "nope");
	definition_free(&d);
	/* text that is not UTF-8 fails with its row and column */
	lite_exec(t, "CREATE TABLE bad(v TEXT); INSERT INTO bad VALUES "
	    "('ok'), (CAST(x'c0af' AS TEXT));");
	lite_definition(t, "SELECT v FROM bad", "", &d);
	assert_int_equal(tu_build(t, &d, "{}", FMT_CSV, NULL, NULL, &res,
	    NULL), Q_INVALID);
	assert_string_equal(res.detail, "database 'local': row 2, column 'v' "
	    "is not UTF-8 text");
	definition_free(&d);
}

static int
stop_at_once(void *arg, uint64_t rows, uint64_t bytes, int permille)
{
	(void)rows;
	(void)bytes;
	(void)permille;
	++*(int *)arg;
	return 1;
}

/* A query that runs long without a row: SQLite counts to 10^10. */
static const char long_query[] =
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
    "WHERE i < 10000000000) SELECT max(i) AS m FROM c";

static void
test_sqlite_cancel_and_timeout(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	int			 calls = 0;

	lite_exec(t, "CREATE TABLE x(a)");	/* the file exists */
	lite_definition(t, long_query, "", &d);
	/* cancel: the progress callback says stop while SQLite works */
	if (tu_build(t, &d, "{}", FMT_CSV, stop_at_once, &calls, &res,
	    NULL) != Q_CANCELLED)
		fail_msg("not cancelled: %s", res.detail);
	assert_int_equal(calls, 1);
	/* query_timeout: 1 second */
	t->conf.databases[0].query_timeout = 1;
	assert_int_equal(tu_build(t, &d, "{}", FMT_CSV, NULL, NULL, &res,
	    NULL), Q_TIMEOUT);
	assert_string_equal(res.detail, "database 'local': the query ran past "
	    "query_timeout (1s)");
	definition_free(&d);
}

/* SQLite's own text for d: what "SELECT ?1" with d bound returns. */
static void
sqlite_text(sqlite3_stmt *st, double d, char *out, size_t len)
{
	sqlite3_reset(st);
	assert_int_equal(sqlite3_bind_double(st, 1, d), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
}

/*
 * The driver's REAL fast path writes exactly SQLite's text, or declines:
 * amounts of every magnitude it takes, the edges around them, and
 * values it must leave to SQLite (more decimals, too large, zero).
 */
static void
test_sqlite_real_text(void **state)
{
	static const double edge[] = { 0.01, -0.01, 0.5, 1.0, -1.0, 0.1, 0.2,
	    0.3, 1.005, 2.675, 99999999999.9999, -99999999999.9999,
	    123456789.12, 0.0001, -0.0001, 100.0, 1e10, 5e-5, 1e11, 1e-5,
	    0.1 + 0.2, 1.0 / 3.0, 0.0, -0.0, 1e15, 12.34567 };
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 ours[32], theirs[64];
	unsigned	 seed = 12, i, taken = 0;
	int		 n;
	double		 d;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT ?1", -1, &st, NULL),
	    SQLITE_OK);
	for (i = 0; i < sizeof(edge) / sizeof(edge[0]) + 300000; i++) {
		if (i < sizeof(edge) / sizeof(edge[0]))
			d = edge[i];
		else {
			/* k / 10^p, k of 1 to 15 digits, p of 0 to 6 */
			long long k = 0;
			int digits = 1 + (int)(rand_r(&seed) % 15), j;
			int p = (int)(rand_r(&seed) % 7);

			for (j = 0; j < digits; j++)
				k = k * 10 + rand_r(&seed) % 10;
			if (rand_r(&seed) % 2)
				k = -k;
			d = (double)k;
			for (j = 0; j < p; j++)
				d /= 10.0;
		}
		n = sqlite_real_text(d, ours);
		if (n < 0)
			continue;
		taken++;
		ours[n] = '\0';
		sqlite_text(st, d, theirs, sizeof(theirs));
		if (strcmp(ours, theirs) != 0)
			fail_msg("%.17g: ours \"%s\", SQLite's \"%s\"", d,
			    ours, theirs);
	}
	/* it declines what it cannot write for certain */
	assert_int_equal(sqlite_real_text(12.34567, ours), -1);
	assert_int_equal(sqlite_real_text(1e11, ours), -1);
	assert_int_equal(sqlite_real_text(0.0, ours), -1);
	assert_int_equal(sqlite_real_text(-0.0, ours), -1);
	assert_int_equal(sqlite_real_text(0.1 + 0.2, ours), -1);
	/* and takes most amounts */
	assert_true(taken > 100000);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sql_definition, setup_sql,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_sql_definition_refused,
		    setup_sql, tu_teardown),
		cmocka_unit_test(test_sqlite_real_text),
		cmocka_unit_test_setup_teardown(test_sqlite_export, setup_sql,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_params_and_columns,
		    setup_sql, tu_teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_refusals,
		    setup_sql, tu_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sqlite_cancel_and_timeout, setup_sql, tu_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
