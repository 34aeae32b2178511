/*
 * The SQL source's query text (issue 12): which ':name' are
 * placeholders in each driver's dialect, what is one statement, and the
 * query rendered with each driver's own placeholders.
 */
#include "testutil.h"

#include "quarry/sqltext.h"

/* The placeholders of q in driver d, as "name@offset,…"; -1 if refused. */
static int
scan(const char *q, enum db_driver d, char *out, size_t len, char *err,
    size_t errlen)
{
	struct sql_text	 t;
	size_t		 i, n = 0;

	out[0] = '\0';
	if (sql_scan(q, strlen(q), d, &t, err, errlen) != 0)
		return -1;
	for (i = 0; i < t.nph; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s@%zu",
		    i ? "," : "", t.ph[i].name, t.ph[i].at);
	return 0;
}

static void
test_placeholders(void **state)
{
	static const struct {
		enum db_driver	 d;
		const char	*q, *want;
	} cases[] = {
		{ DB_POSTGRESQL, "SELECT * FROM t WHERE created >= :from AND "
		    "(:currency IS NULL OR currency = :currency)",
		    "from@33,currency@44,currency@76" },
		/* literals, quoted names, casts, comments hide nothing else */
		{ DB_POSTGRESQL, "SELECT ':x', \"a:b\", v::int, 'it''s :y' "
		    "FROM t -- :z\nWHERE /* :w */ a = :q", "q@71" },
		{ DB_SQLITE, "SELECT ':x', \"a:b\" FROM t WHERE a=:q", "q@34" },
		/* postgresql: nested comments, dollar quotes, E'' escapes */
		{ DB_POSTGRESQL, "/* a /* b */ :x */ SELECT :y", "y@26" },
		{ DB_POSTGRESQL, "SELECT $$ :x $$, $tag$ :y $tag$, :z",
		    "z@33" },
		{ DB_POSTGRESQL, "SELECT E'a\\' :x', :y", "y@18" },
		{ DB_POSTGRESQL, "SELECT $1, a$b, :y", "y@16" },
		/* mysql: backslash escapes, "strings", `names`, # comments */
		{ DB_MYSQL, "SELECT 'a\\' :x', \"b\\\" :y\", `c:d` # :z\n, :w",
		    "w@40" },
		/* odbc: [names] */
		{ DB_ODBC, "SELECT [a:b] FROM t WHERE x = :p", "p@30" },
		/* not placeholders: a name in a word, a capital, a number */
		{ DB_SQLITE, "SELECT a:b, :Name, 1:2, :_x FROM t", "" },
		{ DB_SQLITE, "SELECT 1;", "" },
		{ DB_SQLITE, "SELECT 1; -- the end\n /* really */ ", "" },
	};
	char	out[512], err[128];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (scan(cases[i].q, cases[i].d, out, sizeof(out), err,
		    sizeof(err)) != 0)
			fail_msg("case %zu refused: %s", i, err);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out,
			    cases[i].want);
	}
}

static void
test_refused(void **state)
{
	static const struct {
		enum db_driver	 d;
		const char	*q, *why;
	} cases[] = {
		{ DB_SQLITE, "", "holds no statement" },
		{ DB_SQLITE, "  -- nothing\n", "holds no statement" },
		{ DB_SQLITE, ";", "holds no statement" },
		{ DB_SQLITE, "SELECT 1; DROP TABLE t", "must be a single "
		    "statement" },
		{ DB_POSTGRESQL, "SELECT 1;;", "must be a single statement" },
		{ DB_SQLITE, "SELECT 'abc", "leaves a string literal open" },
		/* what is one literal in mysql is an open one in postgresql */
		{ DB_POSTGRESQL, "SELECT 'a\\' :x'", "leaves a string literal "
		    "open" },
		{ DB_SQLITE, "SELECT \"abc", "leaves a quoted name open" },
		{ DB_SQLITE, "SELECT 1 /* x", "leaves a comment open" },
		{ DB_POSTGRESQL, "/* a /* b */ SELECT 1", "leaves a comment "
		    "open" },
		{ DB_POSTGRESQL, "SELECT $q$ x", "leaves a dollar-quoted "
		    "string open" },
		{ DB_ODBC, "SELECT [a", "leaves a [name] open" },
	};
	char	out[512], err[128];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (scan(cases[i].q, cases[i].d, out, sizeof(out), err,
		    sizeof(err)) == 0)
			fail_msg("case %zu accepted: %s", i, cases[i].q);
		assert_string_equal(err, cases[i].why);
	}
	/* a NUL byte, too long, too many placeholders */
	{
		struct sql_text	 t;
		static char	 big[SQL_QUERY_MAX + 2];
		struct buf	 b = BUF_INIT;
		size_t		 k;

		assert_int_equal(sql_scan("SELECT\0 1", 9, DB_SQLITE, &t, err,
		    sizeof(err)), -1);
		assert_string_equal(err, "must not contain NUL");
		memset(big, ' ', sizeof(big) - 1);
		memcpy(big, "SELECT 1", 8);
		assert_int_equal(sql_scan(big, sizeof(big) - 1, DB_SQLITE, &t,
		    err, sizeof(err)), -1);
		assert_string_equal(err, "is too long");
		buf_adds(&b, "SELECT 1");
		for (k = 0; k <= SQL_PLACEHOLDERS_MAX; k++)
			buf_adds(&b, ", :p");
		assert_int_equal(sql_scan(b.data, b.len, DB_SQLITE, &t, err,
		    sizeof(err)), -1);
		assert_string_equal(err, "has too many placeholders");
		buf_free(&b);
	}
}

static void
test_render(void **state)
{
	static const char q[] = "SELECT * FROM t WHERE a >= :from AND "
	    "(:cur IS NULL OR c = :cur) AND s = ':from';";
	static const char *const names[] = { "from", "cur" };
	struct sql_text	 t;
	struct buf	 b = BUF_INIT;
	char		 err[128];

	(void)state;
	assert_int_equal(sql_scan(q, strlen(q), DB_POSTGRESQL, &t, err,
	    sizeof(err)), 0);
	assert_int_equal(sql_render(q, &t, DB_POSTGRESQL, names, 2, &b), 0);
	assert_string_equal(buf_str(&b), "SELECT * FROM t WHERE a >= $1 AND "
	    "($2 IS NULL OR c = $2) AND s = ':from'");
	buf_reset(&b);
	assert_int_equal(sql_scan(q, strlen(q), DB_MYSQL, &t, err,
	    sizeof(err)), 0);
	assert_int_equal(sql_render(q, &t, DB_MYSQL, names, 2, &b), 0);
	assert_string_equal(buf_str(&b), "SELECT * FROM t WHERE a >= ? AND "
	    "(? IS NULL OR c = ?) AND s = ':from'");
	/* a placeholder that names no parameter cannot be rendered */
	buf_reset(&b);
	assert_int_equal(sql_render(q, &t, DB_MYSQL, names, 1, &b), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
