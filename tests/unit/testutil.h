/*
 * Shared helpers for the unit tests (header only: each test program is
 * one .c file).  Every test gets its own temporary directory, made by the
 * setup fixture and removed by the teardown fixture, which cmocka runs
 * also when the test fails.  Tests that need a store get a real Berkeley
 * DB environment inside that directory: nothing is mocked.
 */
#ifndef QUARRY_TESTUTIL_H
#define QUARRY_TESTUTIL_H

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "quarry/config.h"
#include "quarry/export.h"
#include "quarry/model.h"
#include "quarry/seams.h"
#include "quarry/store.h"

/* One test's world: its directory, a configuration inside it, a store. */
struct tu {
	char		 dir[PATH_MAX];
	struct conf	 conf;
	struct store	*s;
};

static int
tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* Removes a directory tree; 0 on success. */
static inline int
tu_rmtree(const char *dir)
{
	return nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes a fresh directory under $TMPDIR (or /tmp) into out. */
static inline int
tu_mkdtemp(char out[PATH_MAX])
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(out, PATH_MAX, "%s/quarry-unit-XXXXXX", base);
	return mkdtemp(out) == NULL ? -1 : 0;
}

/* Joins dir and name into out (PATH_MAX bytes). */
static inline void
tu_path(char *out, const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);

	if (dl + 1 + nl >= PATH_MAX)
		abort();
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, nl + 1);
}

/* Writes a whole file; 0 on success. */
static inline int
tu_write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");
	int	 rc;

	if (f == NULL)
		return -1;
	rc = fputs(text, f) < 0;
	return fclose(f) != 0 || rc ? -1 : 0;
}

/* Setup fixture: a temporary directory and a configuration in it. */
static inline int
tu_setup_dir(void **state)
{
	struct tu *t;

	seams_reset();
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if (tu_mkdtemp(t->dir) != 0) {
		free(t);
		return -1;
	}
	conf_defaults(&t->conf);
	tu_path(t->conf.db_dir, t->dir, "db");
	tu_path(t->conf.files_dir, t->dir, "files");
	tu_path(t->conf.extractors_dir, t->dir, "extractors");
	if (mkdir(t->conf.db_dir, 0700) != 0 ||
	    mkdir(t->conf.files_dir, 0700) != 0 ||
	    mkdir(t->conf.extractors_dir, 0700) != 0) {
		tu_rmtree(t->dir);
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

/* Setup fixture: as tu_setup_dir, plus a newly created store. */
static inline int
tu_setup_store(void **state)
{
	struct tu *t;

	if (tu_setup_dir(state) != 0)
		return -1;
	t = *state;
	if (store_open(&t->conf, STORE_CREATE, &t->s) != Q_OK) {
		tu_rmtree(t->dir);
		free(t);
		return -1;
	}
	return 0;
}

/* Teardown fixture: closes the store, removes the directory. */
static inline int
tu_teardown(void **state)
{
	struct tu	*t = *state;
	int		 rc;

	seams_reset();
	if (t == NULL)
		return 0;
	store_close(t->s);
	rc = tu_rmtree(t->dir);
	free(t);
	*state = NULL;
	return rc;
}

/*
 * Runs fn(arg) in a child process and returns its exit status (or 128 +
 * signal): the store allows one environment handle per process, so
 * cross-process behaviour is tested across a real fork.
 */
static inline int
tu_in_child(int (*fn)(void *), void *arg)
{
	pid_t	pid;
	int	st;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The system caller: an admin of every tenant (quarryctl, quarryd). */
static inline const struct caller *
tu_system(void)
{
	static struct caller c;

	caller_system(&c, NULL);
	return &c;
}

/*
 * Stores the definition document doc (a JSON text that names its
 * tenant) as the system; out is the stored definition.
 */
static inline enum qerr
tu_definition(struct store *s, const char *doc, struct definition *out)
{
	struct json_object	*o = json_tokener_parse(doc);
	struct refusal		 why;
	enum qerr		 e;

	if (o == NULL)
		return Q_INVALID;
	e = definition_create(s, tu_system(), o, out, &why);
	json_object_put(o);
	return e;
}

/* A copy (malloc'ed) of text with the first from replaced by to. */
static inline char *
tu_replace(const char *text, const char *from, const char *to)
{
	const char	*p = strstr(text, from);
	struct buf	 b = BUF_INIT;

	assert_non_null(p);
	buf_add(&b, text, (size_t)(p - text));
	buf_adds(&b, to);
	buf_adds(&b, p + strlen(from));
	assert_false(b.oom);
	return b.data;
}

/*
 * Creates a job of definition def_id for who, with parameters given as a
 * JSON text (NULL: none) in format (NULL: the default).
 */
static inline enum qerr
tu_job(struct store *s, const struct caller *who, const char *def_id,
    const char *params, const char *format, struct job *out,
    char existing[ID_LEN + 1])
{
	struct export_request	rq = { def_id, NULL, format, NULL };
	struct refusal		why;
	enum qerr		e;

	if (params != NULL && (rq.params = json_tokener_parse(params)) == NULL)
		return Q_INVALID;
	e = job_create(s, who, &rq, out, existing, &why);
	json_object_put(rq.params);
	return e;
}

/*
 * Builds d (with canonical params, in format f) into the file "out" of
 * the test directory through build_to_fd, the workers' code path; with
 * out set, the file's bytes (malloc'ed, NUL-terminated).
 */
static inline enum qerr
tu_build(struct tu *t, const struct definition *d, const char *params,
    enum fmt f, progress_fn pf, void *parg, struct build_result *res,
    char **out)
{
	struct export_spec	 x;
	char			 path[PATH_MAX];
	int			 fd;
	enum qerr		 e;
	FILE			*fp;
	long			 n;

	tu_path(path, t->dir, "out");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	x.d = d;
	x.params = params;
	x.format = f;
	e = build_to_fd(t->s, &t->conf, &x, fd, pf, parg, res);
	close(fd);
	if (out != NULL) {
		fp = fopen(path, "rb");
		assert_non_null(fp);
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		*out = calloc(1, (size_t)n + 1);
		assert_non_null(*out);
		assert_int_equal(fread(*out, 1, (size_t)n, fp), (size_t)n);
		fclose(fp);
	}
	return e;
}

/*
 * Skips the running test when the suite runs under valgrind
 * (QUARRY_UNDER_VALGRIND=1, set by tests/run-all.sh), printing why.  For
 * the few tests that kill a process inside Berkeley DB or hold real-time
 * limits that valgrind's pace breaks; they run plain and under ASan.
 */
#define TU_SKIP_UNDER_VALGRIND(why) do {				\
	const char *vg_ = getenv("QUARRY_UNDER_VALGRIND");		\
	if (vg_ != NULL && strcmp(vg_, "1") == 0) {			\
		print_message("skipped under valgrind: %s\n", (why));	\
		skip();							\
	}								\
} while (0)

#define TU_TEST(fn)	cmocka_unit_test_setup_teardown(fn, tu_setup_dir, \
			    tu_teardown)
#define TU_STORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, \
			    tu_setup_store, tu_teardown)

#endif
