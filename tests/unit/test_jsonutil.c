/*
 * Unit tests of the strict JSON entry point: one value, no trailing
 * text, no NUL (raw or escaped), a depth limit.
 */
#include "testutil.h"

#include "quarry/jsonutil.h"

static enum qerr
parse(const char *s)
{
	struct json_object	*o = NULL;
	char			 err[128];
	enum qerr		 e;

	e = json_parse_strict(s, strlen(s), &o, err, sizeof(err));
	json_object_put(o);
	return e;
}

static void
test_values(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"a\":[1,2,{\"b\":null}]}"), Q_OK);
	assert_int_equal(parse(" \"x\" \n"), Q_OK);
	assert_int_equal(parse("{\"a\":1} {}"), Q_INVALID);
	assert_int_equal(parse("{\"a\":1,}"), Q_INVALID);
	assert_int_equal(parse("[1, ]"), Q_INVALID);
	assert_int_equal(parse("[\",]\"]"), Q_OK);
	assert_int_equal(parse("{'a':1}"), Q_INVALID);
	assert_int_equal(parse("{\"a\":"), Q_INVALID);
	assert_int_equal(parse("\"\\xff\""), Q_INVALID);
}

static void
test_escaped_nul_is_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"id\":\"abc\\u0000junk\"}"), Q_INVALID);
	assert_int_equal(parse("{\"a\\u0000b\":1}"), Q_INVALID);
	/* An escaped backslash followed by u0000 is plain text. */
	assert_int_equal(parse("{\"id\":\"abc\\\\u0000\"}"), Q_OK);
	assert_int_equal(parse("{\"id\":\"\\u0041\"}"), Q_OK);
}

/* Where a \u0000 is: the member, as dotted keys. */
static void
test_escaped_nul_names_the_member(void **state)
{
	static const struct { const char *json, *where; } cases[] = {
		{ "{\"definitionId\":\"x\\u0000\"}", "definitionId" },
		{ "{\"a\":1,\"parameters\":{\"currency\":\"EUR\\u0000\"}}",
		    "parameters.currency" },
		{ "{\"parameters\":{\"cur\\u0000x\":\"EUR\"}}",
		    "parameters.cur" },
		{ "{\"l\":[{\"h\":\"\\u0000\"}]}", "l.h" },
		{ "[\"\\u0000\"]", "" },
	};
	struct json_object	*o = NULL;
	char			 err[128], where[128];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(json_parse_strict_at(cases[i].json,
		    strlen(cases[i].json), &o, err, sizeof(err), where,
		    sizeof(where)), Q_INVALID);
		assert_null(o);
		assert_string_equal(where, cases[i].where);
	}
}

/*
 * Text that is not strict UTF-8 is refused, naming the member: json-c
 * alone lets overlong forms, encoded surrogates (raw or escaped) and
 * noncharacters through.
 */
static void
test_strict_utf8(void **state)
{
	static const struct { const char *json, *where; } bad[] = {
		{ "{\"name\":\"\xc0\xaf\"}", "name" },		/* overlong '/' */
		{ "{\"d\":\"a\xe0\x80\xaf\"}", "d" },		/* overlong, 3 bytes */
		{ "{\"p\":{\"c\":\"\xed\xa0\x80\"}}", "p.c" },	/* surrogate */
		{ "{\"p\":{\"c\":\"\\ud800\"}}", "p.c" },	/* escaped */
		{ "{\"n\":\"\\ufffe\"}", "n" },		/* noncharacter */
		{ "{\"n\":\"\xef\xbf\xbf\"}", "n" },		/* U+FFFF */
		{ "{\"n\":\"\\ufdd0\"}", "n" },
		{ "{\"n\":\"\xf4\x90\x80\x80\"}", "n" },	/* > U+10FFFF */
		{ "{\"l\":[\"ok\",\"\xc0\xaf\"]}", "l" },
		{ "{\"\xc0\xafk\":1}", "" },			/* a key */
	};
	static const char *const good[] = {
		"{\"n\":\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\"}",
		"{\"n\":\"\\u00e9\\ud83d\\ude00\"}",	/* a surrogate pair */
		"{\"n\":\"\xef\xbf\xbd\"}",		/* U+FFFD is text */
	};
	struct json_object	*o = NULL;
	char			 err[200], where[128];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (json_parse_strict_at(bad[i].json, strlen(bad[i].json), &o,
		    err, sizeof(err), where, sizeof(where)) != Q_INVALID)
			fail_msg("case %zu was accepted", i);
		assert_null(o);
		assert_string_equal(where, bad[i].where);
		assert_non_null(strstr(err, "UTF-8"));
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (parse(good[i]) != Q_OK)
			fail_msg("good case %zu was refused", i);
}

/* A number json-c would saturate is refused, naming the member. */
static void
test_numbers_out_of_range(void **state)
{
	static const struct { const char *json, *where; } bad[] = {
		{ "{\"rows_per_file\":1180591620717411303424}", "rows_per_file" },
		{ "{\"a\":{\"b\":9223372036854775808}}", "a.b" },
		{ "{\"a\":-9223372036854775809}", "a" },
		{ "{\"a\":1e999}", "a" },
		{ "[1,2,-1e999]", "" },
	};
	static const char *const good[] = {
		"{\"a\":9223372036854775807}", "{\"a\":-9223372036854775808}",
		"{\"a\":1.5e300,\"b\":-0.25,\"c\":0}", "[1,2,3]",
	};
	struct json_object	*o = NULL;
	char			 err[200], where[128];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (json_parse_strict_at(bad[i].json, strlen(bad[i].json), &o,
		    err, sizeof(err), where, sizeof(where)) != Q_INVALID)
			fail_msg("case %zu was accepted", i);
		assert_string_equal(where, bad[i].where);
		assert_non_null(strstr(err, "out of range"));
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (parse(good[i]) != Q_OK)
			fail_msg("good case %zu was refused", i);
}

static void
test_depth_limit(void **state)
{
	char	deep[2 * (JSON_MAX_DEPTH + 2) + 1];
	size_t	i, n = JSON_MAX_DEPTH + 2;

	(void)state;
	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[2 * n - 1 - i] = ']';
	}
	deep[2 * n] = '\0';
	assert_int_equal(parse(deep), Q_INVALID);
	assert_int_equal(parse("[[[[1]]]]"), Q_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_escaped_nul_is_refused),
		cmocka_unit_test(test_escaped_nul_names_the_member),
		cmocka_unit_test(test_strict_utf8),
		cmocka_unit_test(test_numbers_out_of_range),
		cmocka_unit_test(test_depth_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
