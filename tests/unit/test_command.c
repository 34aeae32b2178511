/*
 * The extractor program source (SPEC section 3, docs/extractors.md), with
 * real scripts written into each test's extractors directory: CSV is
 * re-encoded with the definition's columns and filters, hostile parameter
 * values arrive as whole arguments, the environment is scrubbed, stdin is
 * /dev/null, exit 75 is transient, a failure keeps its stderr tail,
 * timeout and cancel leave no process of the group behind, and commands
 * outside the directory are refused.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include <json-c/json.h>

#include "testutil.h"

#include "quarry/export.h"
#include "quarry/model.h"
#include "quarry/params.h"
#include "quarry/export.h"

/* Writes an executable script into the extractors directory. */
static void
script(struct tu *t, const char *name, const char *text)
{
	char path[PATH_MAX];

	tu_path(path, t->conf.extractors_dir, name);
	assert_int_equal(tu_write_file(path, text), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Parses a definition of tenant acme with source command name. */
static void
def_of(struct definition *d, const char *json)
{
	char field[64], err[256];

	memset(d, 0, sizeof(*d));
	if (definition_parse(json, strlen(json), d, field, sizeof(field), err,
	    sizeof(err)) != Q_OK)
		fail_msg("definition: %s: %s", field, err);
}

/* The canonical parameters of d from a JSON object text. */
static char *
params_of(const struct definition *d, const char *given)
{
	struct json_object	*o = given ? json_tokener_parse(given) : NULL;
	struct buf		 b = BUF_INIT;
	char			 bad[64], err[256], *s;

	if (params_canonical(d, o, &b, bad, sizeof(bad), err, sizeof(err)) !=
	    Q_OK)
		fail_msg("params: %s", err);
	json_object_put(o);
	s = strdup(buf_str(&b));
	buf_free(&b);
	return s;
}

struct stopper {
	int		 calls;
	int		 stop_after;
	long long	 t0;
};

static int
count_progress(void *arg, uint64_t rows, uint64_t bytes, int permille)
{
	struct stopper *st = arg;

	(void)rows;
	(void)bytes;
	(void)permille;
	return ++st->calls > st->stop_after;
}

/* Runs d into a file out in the test directory (no store). */
static enum qerr
run(struct tu *t, const struct definition *d, const char *params,
    enum fmt f, progress_fn pf, void *parg, struct build_result *res,
    char **out)
{
	return tu_build(t, d, params, f, pf, parg, res, out);
}

static long long
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads a pid the script wrote into the extractors directory. */
static pid_t
read_pid(struct tu *t, const char *name)
{
	char	 path[PATH_MAX];
	FILE	*f;
	int	 pid = 0;

	tu_path(path, t->conf.extractors_dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/*
 * True once no process of group pg exists.  The test is a subreaper, so
 * the group's orphans are its children: it reaps them while it waits
 * (a zombie still counts as a member).
 */
static int
group_gone(pid_t pg)
{
	long long t0 = ms();

	while (ms() - t0 < 3000) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (kill(-pg, 0) != 0 && errno == ESRCH)
			return 1;
		usleep(20 * 1000);
	}
	return 0;
}

static const char *CMD_DEF =
    "{\"tenant\":\"acme\",\"name\":\"Cmd\",\"source\":{\"command\":"
    "\"%s\",\"args\":%s},\"columns\":%s,\"parameters\":["
    "{\"name\":\"cur\",\"type\":\"string\",\"required\":false},"
    "{\"name\":\"name\",\"type\":\"string\",\"required\":false}],"
    "\"filters\":[{\"column\":\"currency\",\"op\":\"=\",\"parameter\":"
    "\"cur\"}],\"formats\":[\"csv\",\"json\"],\"formula_guard\":%s}";

static void
cmd_def(struct definition *d, const char *cmd, const char *args,
    const char *cols, int guard)
{
	char json[2048];

	snprintf(json, sizeof(json), CMD_DEF, cmd, args, cols,
	    guard ? "true" : "false");
	def_of(d, json);
}

static const char *GOOD =
    "#!/bin/sh\n"
    "printf 'id,employee,amount,currency\\n'\n"
    "printf '1,Ana,9.5,EUR\\n'\n"
    "printf '2,\"Bo, Jr.\",10,USD\\r\\n'\n"
    "printf '3,\"say \"\"hi\"\"\",=1+2,EUR\\n'\n"
    "printf '4,\"multi\\nline\",7,EUR\\n'\n";

static void
test_good_csv_reencoded(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*out, *params;

	script(t, "good", GOOD);
	cmd_def(&d, "good", "[]", "[\"employee\",\"amount\"]", 0);
	params = params_of(&d, "{\"cur\":\"EUR\"}");
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, &out),
	    Q_OK);
	assert_string_equal(out, "employee,amount\r\nAna,9.5\r\n"
	    "\"say \"\"hi\"\"\",=1+2\r\n\"multi\nline\",7\r\n");
	assert_int_equal(res.rows, 3);
	assert_int_equal(res.bytes, strlen(out));
	free(out);
	free(params);

	/* every column, no filter, as JSON */
	params = params_of(&d, NULL);
	definition_free(&d);
	cmd_def(&d, "good", "[]", "[]", 0);
	assert_int_equal(run(t, &d, params, FMT_JSON, NULL, NULL, &res, &out),
	    Q_OK);
	assert_non_null(strstr(out, "{\"id\":\"2\",\"employee\":\"Bo, Jr.\","
	    "\"amount\":\"10\",\"currency\":\"USD\"}"));
	assert_int_equal(res.rows, 4);
	free(out);
	free(params);
	definition_free(&d);
}

static void
test_formula_guard(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*out, *params;

	script(t, "good", GOOD);
	cmd_def(&d, "good", "[]", "[\"amount\"]", 1);
	params = params_of(&d, "{\"cur\":\"EUR\"}");
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, &out),
	    Q_OK);
	assert_string_equal(out, "amount\r\n9.5\r\n'=1+2\r\n7\r\n");
	free(out);
	free(params);
	definition_free(&d);
}

static void
test_missing_column(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*params;

	script(t, "good", GOOD);
	cmd_def(&d, "good", "[]", "[\"nope\"]", 0);
	params = params_of(&d, NULL);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_INVALID);
	assert_non_null(strstr(res.detail, "column 'nope'"));
	free(params);
	definition_free(&d);
}

/* Writes its argv (NUL-separated) and its environment to files. */
static const char *ECHO =
    "#!/bin/sh\n"
    "for a in \"$@\"; do printf '%s\\0' \"$a\"; done > argv.out\n"
    "cat /proc/$$/environ > env.out\n"
    "pwd > cwd.out\n"
    "printf 'id,currency\\n1,EUR\\n'\n";

static char *
slurp(struct tu *t, const char *name, size_t *len)
{
	char	 path[PATH_MAX], *s;
	FILE	*f;
	long	 n;

	tu_path(path, t->conf.extractors_dir, name);
	assert_non_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return s;
}

static void
test_hostile_args_and_scrubbed_env(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	const char		*hostile = "a b 'q' \"d\" ;rm -rf / $(touch "
				    "pwned) `touch pwned2`\nline2";
	struct json_object	*o;
	char			*params, *argv, *env, *p, path[PATH_MAX];
	const char		*want[] = { NULL, NULL, "-x", "plain arg", "",
				    "{unknown}" };
	size_t			 len, i, n;
	struct buf		 w = BUF_INIT;

	setenv("QUARRY_SECRET_LEAK", "leaked", 1);
	setenv("LD_PRELOAD", "", 1);
	script(t, "echo", ECHO);
	cmd_def(&d, "echo", "[\"{name}\",\"--name={name}\",\"-x\","
	    "\"plain arg\",\"{cur}\",\"{unknown}\"]", "[]", 0);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(hostile));
	params = params_of(&d, json_object_to_json_string(o));
	json_object_put(o);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_OK);

	argv = slurp(t, "argv.out", &len);
	buf_printf(&w, "--name=%s", hostile);
	want[0] = hostile;
	want[1] = buf_str(&w);
	for (i = 0, p = argv; i < 6; i++) {
		assert_true(p < argv + len);
		assert_string_equal(p, want[i]);
		p += strlen(p) + 1;
	}
	assert_true(p == argv + len);	/* exactly six arguments */
	free(argv);
	buf_free(&w);
	tu_path(path, t->conf.extractors_dir, "pwned");
	assert_int_not_equal(access(path, F_OK), 0);
	tu_path(path, t->conf.extractors_dir, "pwned2");
	assert_int_not_equal(access(path, F_OK), 0);

	/* exactly the scrubbed environment */
	env = slurp(t, "env.out", &len);
	for (n = 0, p = env; p < env + len; p += strlen(p) + 1, n++) {
		if (strncmp(p, "QUARRY_PARAM_NAME=", 18) == 0)
			assert_string_equal(p + 18, hostile);
		else if (strcmp(p, "PATH=/usr/bin:/bin") != 0 &&
		    strcmp(p, "LANG=C.UTF-8") != 0 &&
		    strcmp(p, "QUARRY_TENANT=acme") != 0 &&
		    strncmp(p, "QUARRY_DEFINITION=", 18) != 0)
			fail_msg("unexpected environment entry '%s'", p);
	}
	assert_int_equal(n, 5);	/* cur is not given: no QUARRY_PARAM_CUR */
	free(env);
	unsetenv("QUARRY_SECRET_LEAK");
	unsetenv("LD_PRELOAD");
	free(params);
	definition_free(&d);
}

static void
test_stdin_is_dev_null(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*params, *out;

	script(t, "reader", "#!/bin/sh\n"
	    "if read -r line; then echo \"stdin gave: $line\" >&2; exit 9; "
	    "fi\n"
	    "[ \"$(readlink /proc/$$/fd/0)\" = /dev/null ] || exit 8\n"
	    "printf 'id,currency\\n1,EUR\\n'\n");
	cmd_def(&d, "reader", "[]", "[]", 0);
	params = params_of(&d, NULL);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, &out),
	    Q_OK);
	assert_string_equal(out, "id,currency\r\n1,EUR\r\n");
	free(out);
	free(params);
	definition_free(&d);
}

static void
test_exit_75_is_transient(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*params;

	script(t, "later", "#!/bin/sh\nprintf 'id,currency\\n1,EUR\\n'\n"
	    "echo 'upstream busy, try later' >&2\nexit 75\n");
	cmd_def(&d, "later", "[]", "[]", 0);
	params = params_of(&d, NULL);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res,
	    NULL), Q_TRANSIENT);
	assert_int_equal(res.retry, 1);
	assert_non_null(strstr(res.detail, "75"));
	assert_non_null(strstr(res.detail, "upstream busy, try later"));
	free(params);
	definition_free(&d);
}

static void
test_failure_keeps_stderr_tail(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*params;
	const char		*end;

	script(t, "fails", "#!/bin/sh\n"
	    "i=0; while [ $i -lt 200 ]; do echo \"noise line $i\" >&2; "
	    "i=$((i+1)); done\n"
	    "printf 'bad\\001byte\\n' >&2\n"
	    "echo 'fatal: the database is on fire' >&2\nexit 3\n");
	cmd_def(&d, "fails", "[]", "[]", 0);
	params = params_of(&d, NULL);
	assert_int_not_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res,
	    NULL), Q_OK);
	assert_int_equal(res.retry, 0);
	assert_non_null(strstr(res.detail, "exit status 3"));
	end = res.detail + strlen(res.detail) - strlen("fatal: the database "
	    "is on fire");
	assert_string_equal(end, "fatal: the database is on fire");
	assert_non_null(strstr(res.detail, "bad?byte"));
	assert_null(strstr(res.detail, "noise line 0 "));
	assert_null(strchr(res.detail, '\n'));
	assert_true(strlen(res.detail) >= 400);
	free(params);
	definition_free(&d);
}

static void
test_malformed_csv(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*params;

	script(t, "badcsv", "#!/bin/sh\n"
	    "printf 'id,currency\\n1,EUR\\n2,\"EU\"R\\n'\n");
	cmd_def(&d, "badcsv", "[]", "[]", 0);
	params = params_of(&d, NULL);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_INVALID);
	assert_non_null(strstr(res.detail, "not valid CSV"));
	assert_non_null(strstr(res.detail, "line 3"));
	free(params);
	definition_free(&d);

	script(t, "short", "#!/bin/sh\nprintf 'id,currency\\n1\\n'\n");
	cmd_def(&d, "short", "[]", "[]", 0);
	params = params_of(&d, NULL);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_INVALID);
	assert_non_null(strstr(res.detail, "line 2: expected 2 fields"));
	free(params);
	definition_free(&d);

	script(t, "empty", "#!/bin/sh\nexit 0\n");
	cmd_def(&d, "empty", "[]", "[]", 0);
	params = params_of(&d, NULL);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_INVALID);
	assert_non_null(strstr(res.detail, "no header row"));
	free(params);
	definition_free(&d);
}

static void
test_output_limit(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*params;

	script(t, "flood", "#!/bin/sh\necho $$ > flood.pid\n"
	    "echo id,currency\nwhile :; do echo 1,EUR; done\n");
	t->conf.extractor_max_output = 100000;
	cmd_def(&d, "flood", "[]", "[]", 0);
	params = params_of(&d, NULL);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_TOOBIG);
	assert_non_null(strstr(res.detail, "extractor_max_output"));
	assert_true(group_gone(read_pid(t, "flood.pid")));
	free(params);
	definition_free(&d);
}

static const char *FOREVER =
    "#!/bin/sh\n"
    "echo $$ > forever.pid\n"
    "trap '' TERM\n"		/* ignores SIGTERM: needs the SIGKILL */
    "sleep 1000 &\n"
    "echo $! > child.pid\n"
    "echo id,currency\n"
    "wait\n";

static void
test_timeout_kills_group(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			*params;
	long long		 t0;
	pid_t			 pg, kid;

	script(t, "forever", FOREVER);
	t->conf.extractor_timeout = 1;
	cmd_def(&d, "forever", "[]", "[]", 0);
	params = params_of(&d, NULL);
	t0 = ms();
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_TIMEOUT);
	assert_true(ms() - t0 < 3000);
	assert_non_null(strstr(res.detail, "extractor_timeout"));
	pg = read_pid(t, "forever.pid");
	kid = read_pid(t, "child.pid");
	assert_true(pg > 0 && kid > 0);
	assert_true(group_gone(pg));
	assert_int_equal(kill(kid, 0), -1);
	free(params);
	definition_free(&d);
}

static void
test_cancel_kills_group(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	struct stopper		 st = { 0, 3, 0 };
	char			*params;
	long long		 t0;
	pid_t			 pg;

	script(t, "forever", FOREVER);
	cmd_def(&d, "forever", "[]", "[]", 0);
	params = params_of(&d, NULL);
	t0 = ms();
	assert_int_equal(run(t, &d, params, FMT_CSV, count_progress, &st,
	    &res, NULL), Q_CANCELLED);
	assert_true(ms() - t0 < 2500);
	assert_string_equal(res.detail, "cancelled");
	pg = read_pid(t, "forever.pid");
	assert_true(pg > 0);
	assert_true(group_gone(pg));
	free(params);
	definition_free(&d);
}

static void
test_refused_commands(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	char			 path[PATH_MAX], *params;
	const char		*names[] = { "sub/x", "..", ".", "" };
	size_t			 i;

	/* a symbolic link that leaves the directory */
	tu_path(path, t->conf.extractors_dir, "evil");
	assert_int_equal(symlink("/bin/true", path), 0);
	cmd_def(&d, "evil", "[]", "[]", 0);
	params = params_of(&d, NULL);
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_INVALID);
	assert_non_null(strstr(res.detail, "outside"));

	/* a link inside the directory is fine */
	script(t, "good", GOOD);
	tu_path(path, t->conf.extractors_dir, "alias");
	assert_int_equal(symlink("good", path), 0);
	free(d.command);
	d.command = strdup("alias");
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_OK);

	/* not executable, missing, and names that are paths */
	script(t, "noexec", GOOD);
	tu_path(path, t->conf.extractors_dir, "noexec");
	chmod(path, 0644);
	free(d.command);
	d.command = strdup("noexec");
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_INVALID);
	free(d.command);
	d.command = strdup("missing");
	assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res, NULL),
	    Q_INVALID);
	assert_non_null(strstr(res.detail, "does not exist"));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		free(d.command);
		d.command = strdup(names[i]);
		assert_int_equal(run(t, &d, params, FMT_CSV, NULL, NULL, &res,
		    NULL), Q_INVALID);
		assert_non_null(strstr(res.detail, "not a file name"));
	}
	free(params);
	definition_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_good_csv_reencoded),
		TU_TEST(test_formula_guard),
		TU_TEST(test_missing_column),
		TU_TEST(test_hostile_args_and_scrubbed_env),
		TU_TEST(test_stdin_is_dev_null),
		TU_TEST(test_exit_75_is_transient),
		TU_TEST(test_failure_keeps_stderr_tail),
		TU_TEST(test_malformed_csv),
		TU_TEST(test_output_limit),
		TU_TEST(test_timeout_kills_group),
		TU_TEST(test_cancel_kills_group),
		TU_TEST(test_refused_commands),
	};

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
