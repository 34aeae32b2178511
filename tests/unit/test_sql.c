/*
 * SQL sources (issue 12): definitions that read a configured database,
 * checked against the configuration when created or replaced.
 */
#include "testutil.h"

#include <json-c/json.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sql_definition, setup_sql,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_sql_definition_refused,
		    setup_sql, tu_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
