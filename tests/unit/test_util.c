/*
 * Small helpers: RFC 3339 times, durations, IDs, names, SHA-256, and the
 * configuration file.
 */
#include "testutil.h"

#include "quarry/config.h"
#include "quarry/util.h"

static void
test_rfc3339_format(void **state)
{
	char out[RFC3339_LEN];

	(void)state;
	time_rfc3339(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	time_rfc3339(1795338902, out);
	assert_string_equal(out, "2026-11-22T09:15:02Z");
	time_rfc3339(951782400, out);	/* a leap day */
	assert_string_equal(out, "2000-02-29T00:00:00Z");
}

static void
test_rfc3339_parse(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
		time_t		 t;
	} cases[] = {
		{ "2026-11-22T09:15:02Z", 1, 1795338902 },
		{ "2026-11-22t09:15:02z", 1, 1795338902 },
		{ "2026-11-22T10:15:02+01:00", 1, 1795338902 },
		{ "2026-11-22T04:45:02-04:30", 1, 1795338902 },
		{ "2026-11-22T09:15:02.999Z", 1, 1795338902 },
		{ "1970-01-01T00:00:00Z", 1, 0 },
		{ "2000-02-29T00:00:00Z", 1, 951782400 },
		{ "2100-02-29T00:00:00Z", 0, 0 },
		{ "2026-11-22T09:15:02", 0, 0 },
		{ "2026-11-22 09:15:02Z", 0, 0 },
		{ "2026-11-22T09:15Z", 0, 0 },
		{ "2026-11-22T09:15:02.Z", 0, 0 },
		{ "2026-11-22T09:15:02+0100", 0, 0 },
		{ "2026-11-22T09:15:02Zjunk", 0, 0 },
		{ "2026-00-22T09:15:02Z", 0, 0 },
		{ "2026-11-31T09:15:02Z", 0, 0 },
		{ "2026-11-22T09:60:02Z", 0, 0 },
		{ "", 0, 0 },
	};
	time_t	t;
	size_t	i;
	char	back[RFC3339_LEN];

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = -1;
		if ((time_parse_rfc3339(cases[i].s, &t) == 0) != cases[i].ok)
			fail_msg("'%s': expected %s", cases[i].s,
			    cases[i].ok ? "valid" : "invalid");
		if (cases[i].ok && t != cases[i].t)
			fail_msg("'%s': got %lld", cases[i].s, (long long)t);
	}
	/* Format then parse is the identity. */
	for (t = 0; t < 4000000000LL; t += 123456789) {
		time_t u;
		time_rfc3339(t, back);
		assert_int_equal(time_parse_rfc3339(back, &u), 0);
		assert_true(u == t);
	}
}

static void
test_duration(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
		long long	 v;
	} cases[] = {
		{ "0", 1, 0 }, { "90", 1, 90 }, { "90s", 1, 90 },
		{ "15m", 1, 900 }, { "12h", 1, 43200 }, { "7d", 1, 604800 },
		{ "2w", 1, 1209600 }, { "", 0, 0 }, { "d", 0, 0 },
		{ "-5s", 0, 0 }, { "+5s", 0, 0 }, { "5y", 0, 0 },
		{ "5 d", 0, 0 }, { " 5d", 0, 0 }, { "5dd", 0, 0 },
		{ "1.5h", 0, 0 }, { "99999999999999999999", 0, 0 },
		{ "999999w", 0, 0 },
	};
	long long	v;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -1;
		if ((duration_parse(cases[i].s, &v) == 0) != cases[i].ok)
			fail_msg("'%s': expected %s", cases[i].s,
			    cases[i].ok ? "valid" : "invalid");
		if (cases[i].ok && v != cases[i].v)
			fail_msg("'%s': got %lld", cases[i].s, v);
	}
}

static int
cmp_ids(const void *a, const void *b)
{
	return memcmp(a, b, ID_LEN + 1);
}

static void
test_ids(void **state)
{
	enum { N = 20000 };
	char	(*ids)[ID_LEN + 1];
	size_t	i, j;

	(void)state;
	ids = calloc(N, sizeof(*ids));
	assert_non_null(ids);
	for (i = 0; i < N; i++) {
		assert_int_equal(id_new(ids[i]), Q_OK);
		assert_int_equal(strlen(ids[i]), ID_LEN);
		for (j = 0; j < ID_LEN; j++)
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789-_",
			    ids[i][j]));
		assert_true(id_valid(ids[i]));
	}
	qsort(ids, N, sizeof(*ids), cmp_ids);
	for (i = 1; i < N; i++)
		assert_true(memcmp(ids[i - 1], ids[i], ID_LEN) != 0);
	free(ids);
	assert_false(id_valid(NULL));
	assert_false(id_valid(""));
	assert_false(id_valid("AAAAAAAAAAAAAAAAAAAAA"));	/* 21 */
	assert_false(id_valid("AAAAAAAAAAAAAAAAAAAAAAA"));	/* 23 */
	assert_false(id_valid("AAAAAAAAAAAAAAAAAAAA/A"));
	assert_false(id_valid("AAAAAAAAAAAAAAAAAAAA.."));
	assert_false(id_valid("AAAAAAAAAAAAAAAAAAAA=="));
	assert_true(id_valid("AAAAAAAAAAAAAAAAAAAA-_"));
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(name_valid("acme"));
	assert_true(name_valid("a"));
	assert_true(name_valid("0-tenant_x"));
	assert_true(name_valid("abcdefghijklmnopqrstuvwxyz012345"));	/* 32 */
	assert_false(name_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_false(name_valid(""));
	assert_false(name_valid(NULL));
	assert_false(name_valid("Acme"));
	assert_false(name_valid("-acme"));
	assert_false(name_valid("_acme"));
	assert_false(name_valid("a/b"));
	assert_false(name_valid(".."));
	assert_false(name_valid("a b"));
}

static void
test_sha256(void **state)
{
	char		 hex[65];
	struct sha256	 c;
	uint8_t		 out[32];
	char		*million;

	(void)state;
	/* FIPS 180-4 examples. */
	sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	million = malloc(1000000);
	assert_non_null(million);
	memset(million, 'a', 1000000);
	/* Fed in odd-sized pieces. */
	sha256_init(&c);
	sha256_update(&c, million, 63);
	sha256_update(&c, million, 65);
	sha256_update(&c, million, 1000000 - 128);
	sha256_final(&c, out);
	free(million);
	assert_memory_equal(out, "\xcd\xc7\x6e\x5c\x99\x14\xfb\x92\x81\xa1"
	    "\xc7\xe2\x84\xd7\x3e\x67\xf1\x80\x9a\x48\xa4\x97\x20\x0e\x04\x6d"
	    "\x39\xcc\xc7\x11\x2c\xd0", 32);
	assert_int_equal(ct_memcmp("abc", "abc", 3), 0);
	assert_int_not_equal(ct_memcmp("abc", "abd", 3), 0);
}

/* ---- configuration ---- */

static void
test_conf_defaults(void **state)
{
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_true(c.max_body == 1024 * 1024);
	assert_int_equal(c.max_attempts, 3);
	assert_int_equal(c.lease_seconds, 30);
	assert_true(c.retention_default == 7 * 86400);
	assert_string_equal(c.base_url, "");
}

static void
test_conf_load_good(void **state)
{
	struct tu	*t = *state;
	struct conf	 c;
	char		 path[PATH_MAX], err[512] = "";

	tu_path(path, t->dir, "quarry.conf");
	assert_int_equal(tu_write_file(path,
	    "# a comment\n"
	    "; another\n"
	    "[quarry]\n"
	    "\n"
	    "db_dir = /srv/q/db\n"
	    "  files_dir=/srv/q/files  \n"
	    "extractors_dir = /srv/q/ex\n"
	    "log_file =\n"
	    "base_url = https://example.org/\n"
	    "max_body = 2048\n"
	    "workers = 4\n"
	    "lease_seconds = 10\n"
	    "max_attempts = 5\n"
	    "poll_seconds = 2\n"
	    "cache_mb = 64\n"
	    "retention = 2d\n"
	    "pid_file = /srv/q/run/quarryd.pid"), 0);	/* no final newline */
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), Q_OK);
	assert_string_equal(c.path, path);
	assert_string_equal(c.db_dir, "/srv/q/db");
	assert_string_equal(c.files_dir, "/srv/q/files");
	assert_string_equal(c.extractors_dir, "/srv/q/ex");
	assert_string_equal(c.log_file, "");
	assert_string_equal(c.base_url, "https://example.org");
	assert_true(c.max_body == 2048);
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.lease_seconds, 10);
	assert_int_equal(c.max_attempts, 5);
	assert_int_equal(c.poll_seconds, 2);
	assert_int_equal(c.cache_mb, 64);
	assert_true(c.retention_default == 2 * 86400);
	assert_string_equal(c.pid_file, "/srv/q/run/quarryd.pid");

	/* $QUARRY_CONF is the fallback for no path. */
	setenv("QUARRY_CONF", path, 1);
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), Q_OK);
	assert_int_equal(c.workers, 4);
	unsetenv("QUARRY_CONF");
}

/* [database NAME] sections (issue 12; docs/sources.md). */
static void
test_conf_databases(void **state)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "[database]\n", ":1: [database NAME]: NAME is 1 to 64 "
		    "letters, digits, '_' or '-'" },
		{ "[database a b]\n", ":1: [database NAME]: NAME is 1 to 64 "
		    "letters, digits, '_' or '-'" },
		{ "[database x\n", ":1: a section header ends with ']'" },
		{ "[database x]\ndriver = oracle\n",
		    ":2: driver must be postgresql, mysql, sqlite or odbc" },
		{ "[database x]\ndriver = sqlite\nworkers = 2\n",
		    ":3: unknown key 'workers' in a database section" },
		{ "[database x]\npath = /x.db\n", ": database 'x' needs driver" },
		{ "[database x]\ndriver = postgresql\n",
		    ": database 'x' needs conninfo" },
		{ "[database x]\ndriver = mysql\ndbname = d\n",
		    ": database 'x' needs host or socket" },
		{ "[database x]\ndriver = sqlite\npath = /a\n"
		    "[database x]\n", ":4: database 'x' is defined twice" },
		{ "[database x]\ndriver = postgresql\n"
		    "conninfo = host=/tmp dbname=d  password=hunter2\n",
		    ":3: conninfo holds a password: put it in password_file" },
		{ "[database x]\ndriver = odbc\n"
		    "connection = DSN=pg;UID=u;PWD=hunter2\n",
		    ":3: connection holds a password: put it in password_file" },
		{ "[database x]\ndriver = sqlite\npath = /a\n"
		    "password_file = pw.txt\n",
		    ": database 'x': password_file must be an absolute path" },
		{ "[database x]\ndriver = mysql\nport = 70000\n",
		    ":3: port must be 1 to 65535" },
		{ "[database x]\ndriver = sqlite\nquery_timeout = 0\n",
		    ":3: query_timeout must be a duration such as 3600, 90m "
		    "or 2h" },
	};
	struct tu		*t = *state;
	struct conf		 c;
	const struct db_conf	*d;
	char			 path[PATH_MAX], err[PATH_MAX + 300];
	char			 want[PATH_MAX + 300];
	size_t			 i;

	tu_path(path, t->dir, "db.conf");
	assert_int_equal(tu_write_file(path,
	    "workers = 2\n"
	    "[database reports]\n"
	    "driver = postgresql\n"
	    "conninfo = host=/run/pg dbname=reports user=quarry\n"
	    "password_file = /etc/quarry/reports.pw\n"
	    "query_timeout = 30m\n"
	    "[ database shop-1 ]\n"
	    "driver = mariadb\n"
	    "socket = /run/mysqld/mysqld.sock\n"
	    "user = ro\n"
	    "dbname = shop\n"
	    "[database local_db]\n"
	    "driver = sqlite\n"
	    "path = /srv/data/local.db\n"
	    "[quarry]\n"
	    "poll_seconds = 3\n"), 0);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), Q_OK);
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.poll_seconds, 3);	/* back in the main part */
	assert_int_equal(c.ndatabases, 3);
	assert_non_null(d = conf_database(&c, "reports"));
	assert_int_equal(d->driver, DB_POSTGRESQL);
	assert_string_equal(d->conninfo, "host=/run/pg dbname=reports "
	    "user=quarry");
	assert_string_equal(d->password_file, "/etc/quarry/reports.pw");
	assert_true(d->query_timeout == 1800);
	assert_non_null(d = conf_database(&c, "shop-1"));
	assert_int_equal(d->driver, DB_MYSQL);
	assert_string_equal(d->socket, "/run/mysqld/mysqld.sock");
	assert_string_equal(db_driver_name(d->driver), "mysql");
	assert_true(d->query_timeout == 3600);	/* the default */
	assert_non_null(d = conf_database(&c, "local_db"));
	assert_string_equal(d->path, "/srv/data/local.db");
	assert_null(conf_database(&c, "nope"));

	/* a password only in a word that is not its key is no password */
	assert_int_equal(tu_write_file(path, "[database x]\n"
	    "driver = postgresql\nconninfo = dbname=passwords\n"), 0);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), Q_OK);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tu_write_file(path, bad[i].text), 0);
		err[0] = '\0';
		assert_int_equal(conf_load(&c, path, err, sizeof(err)),
		    Q_INVALID);
		snprintf(want, sizeof(want), "%s%s", path, bad[i].err);
		assert_string_equal(err, want);
		/* no message repeats a password */
		assert_null(strstr(err, "hunter2"));
	}
}

static void
test_conf_load_bad(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "db_dir = /x\nno equals sign\n", ":2: expected key = value" },
		{ "\n\n\nunknown_key = 1\n",
		    ":4: unknown key or bad value for 'unknown_key'" },
		{ "workers = many\n",
		    ":1: unknown key or bad value for 'workers'" },
		{ "workers = 9999\n",
		    ":1: unknown key or bad value for 'workers'" },
		{ "max_body = 0\n",
		    ":1: unknown key or bad value for 'max_body'" },
		{ "lease_seconds = 1\n",
		    ":1: unknown key or bad value for 'lease_seconds'" },
		{ "# ok\nretention = forever\n",
		    ":2: unknown key or bad value for 'retention'" },
		{ "base_url = ftp://x\n",
		    ":1: unknown key or bad value for 'base_url'" },
		{ "max_attempts = 3x\n",
		    ":1: unknown key or bad value for 'max_attempts'" },
	};
	struct tu	*t = *state;
	struct conf	 c;
	char		 path[PATH_MAX], err[PATH_MAX + 128], want[PATH_MAX + 128];
	size_t		 i;

	tu_path(path, t->dir, "bad.conf");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(tu_write_file(path, cases[i].text), 0);
		err[0] = '\0';
		assert_int_equal(conf_load(&c, path, err, sizeof(err)),
		    Q_INVALID);
		snprintf(want, sizeof(want), "%s%s", path, cases[i].err);
		assert_string_equal(err, want);
	}
	/* A named file that does not exist is an error, not the defaults. */
	tu_path(path, t->dir, "missing.conf");
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), Q_IO);
	assert_non_null(strstr(err, "missing.conf"));
}

/* utf8_check: the offset of the first byte that is not text. */
static void
test_utf8_check(void **state)
{
	static const struct { const char *s; size_t n, bad; } cases[] = {
		{ "plain", 5, 5 },
		{ "\xc3\xa9t\xc3\xa9", 5, 5 },
		{ "\xf0\x9f\x98\x80", 4, 4 },
		{ "ab\0c", 4, 2 },			/* NUL */
		{ "a\xc0\xaf", 3, 1 },			/* overlong */
		{ "ab\xe0\x9f\xbf", 5, 2 },		/* overlong, 3 bytes */
		{ "\xed\xa0\x80", 3, 0 },		/* surrogate */
		{ "x\xef\xb7\x90", 4, 1 },		/* U+FDD0 */
		{ "x\xf0\x9f\xbf\xbe", 5, 1 },		/* U+1FFFE */
		{ "\xf4\x90\x80\x80", 4, 0 },		/* past U+10FFFF */
		{ "ok\xe2\x82", 4, 2 },			/* cut short */
		{ "\x80", 1, 0 },			/* a lone continuation */
	};
	size_t i;

	static const char *const bad[] = { "", "\xc0\xaf", "\xed\xa0\x80",
	    "\x80", "\xef\xbf\xbf" };
	char	 text[64];
	size_t	 at, b;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (utf8_check(cases[i].s, cases[i].n) != cases[i].bad)
			fail_msg("case %zu: %zu, expected %zu", i,
			    utf8_check(cases[i].s, cases[i].n), cases[i].bad);
	/*
	 * Runs of ASCII go a word at a time: a NUL or a bad byte is found
	 * at every offset of a long run, after a good multi-byte
	 * character, and at the very end.
	 */
	for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
		for (at = 0; at < 40; at++) {
			size_t n = strlen(bad[b]) ? strlen(bad[b]) : 1;

			memset(text, 'a', sizeof(text));
			memcpy(text + 3, "\xc3\xa9", 2);	/* é */
			memcpy(text + at + 5, bad[b], n);	/* "" is NUL */
			if (utf8_check(text, at + 5 + n) != at + 5)
				fail_msg("bad %zu at %zu: %zu", b, at + 5,
				    utf8_check(text, at + 5 + n));
			if (utf8_check(text, at + 5) != at + 5)
				fail_msg("good prefix of %zu rejected", at + 5);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_format),
		cmocka_unit_test(test_rfc3339_parse),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_utf8_check),
		cmocka_unit_test(test_conf_defaults),
		TU_TEST(test_conf_load_good),
		TU_TEST(test_conf_databases),
		TU_TEST(test_conf_load_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
