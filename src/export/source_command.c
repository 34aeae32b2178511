/*
 * The export pipeline, stage 1: the extractor program source (SPEC
 * section 3; docs/extractors.md).
 *
 * An extractor is an executable file inside the configured extractors
 * directory.  It runs without a shell: execve with the definition's args,
 * each "{param}" replaced by that parameter's value inside one whole
 * argument; the parameters also as QUARRY_PARAM_<NAME> in an environment
 * that inherits nothing; stdin /dev/null; its own process group; CPU,
 * file-size and address-space limits; a wall-clock timeout.  Its stdout is
 * read as CSV (header row first) through the streaming reader and goes
 * through the row pipeline, so memory does not grow with its output.
 * Whenever the build ends early (timeout, cancel, bad CSV, a limit, a
 * write error) the whole process group is killed and the program reaped.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "quarry/buf.h"
#include "quarry/csv.h"
#include "quarry/export.h"

#define READ_CHUNK	(64 * 1024)
#define TAIL_MAX	600		/* stderr bytes kept */
#define TICK_MS		200		/* progress while the program is quiet */
#define TERM_GRACE_MS	250		/* SIGTERM to SIGKILL */
#define EXIT_TEMPFAIL	75		/* sysexits.h EX_TEMPFAIL: retry later */

struct cmd_run {
	struct rowpipe		*p;
	const struct definition	*d;
	const char		*params;
	char			*detail;
	size_t			 detaillen;
	size_t			 ncols;		/* 0 until the header is read */
	enum qerr		 err;		/* why the reader was stopped */
	char			 tail[TAIL_MAX];	/* last bytes of stderr */
	size_t			 taillen;
};

/*
 * Finds the executable of command name: a regular, executable file that
 * resolves (symbolic links followed) to a path inside the extractors
 * directory.  Writes its resolved path into out.
 */
static enum qerr
resolve(const struct conf *c, const char *name, char out[PATH_MAX],
    char *detail, size_t dl)
{
	char		 dir[PATH_MAX], full[PATH_MAX + 256];
	struct stat	 st;
	size_t		 n;

	if (!command_name_valid(name)) {
		snprintf(detail, dl, "extractor '%s' is not a file name in the "
		    "extractors directory", name);
		return Q_INVALID;
	}
	if (realpath(c->extractors_dir, dir) == NULL) {
		snprintf(detail, dl, "the extractors directory is not usable: "
		    "%s", strerror(errno));
		return Q_INVALID;
	}
	snprintf(full, sizeof(full), "%s/%s", dir, name);
	if (realpath(full, out) == NULL) {
		snprintf(detail, dl, errno == ENOENT ? "extractor '%s' does "
		    "not exist" : "extractor '%s' cannot be resolved", name);
		return Q_INVALID;
	}
	n = strlen(dir);
	if (strncmp(out, dir, n) != 0 || out[n] != '/') {
		snprintf(detail, dl, "extractor '%s' leads outside the "
		    "extractors directory", name);
		return Q_INVALID;
	}
	if (stat(out, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(out, X_OK) != 0) {
		snprintf(detail, dl, "extractor '%s' is not an executable file",
		    name);
		return Q_INVALID;
	}
	return Q_OK;
}

/*
 * The value of parameter name in the job's parameters, NULL if absent;
 * *bad is set if it holds a NUL byte (it could not be one argument).
 */
static const char *
param_value(struct json_object *params, const char *name, int *bad)
{
	struct json_object	*v;
	const char		*s;

	if (params == NULL || !json_object_object_get_ex(params, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		*bad = 1;
	return s;
}

static int
declared(const struct definition *d, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < d->nparams; i++)
		if (strlen(d->params[i].name) == n &&
		    strncmp(d->params[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

/*
 * One argument: every "{name}" of a declared parameter becomes its value
 * (the empty string when the job does not give it); other text is kept.
 */
static int
expand_arg(const struct definition *d, struct json_object *params,
    const char *arg, struct buf *out, int *bad)
{
	const char	*p = arg, *close;
	const char	*v;
	int		 i;

	buf_reset(out);
	while (*p != '\0') {
		if (*p == '{' && (close = strchr(p + 1, '}')) != NULL &&
		    (i = declared(d, p + 1, (size_t)(close - p - 1))) >= 0) {
			v = param_value(params, d->params[i].name, bad);
			if (v != NULL)
				buf_adds(out, v);
			p = close + 1;
			continue;
		}
		buf_addc(out, *p++);
	}
	return out->oom ? -1 : 0;
}

static void
free_strv(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* argv and envp of the run, built before fork (see the file comment). */
static enum qerr
build_exec(const struct definition *d, const char *params, char ***argvp,
    char ***envpp, char *detail, size_t dl)
{
	struct json_object	*po = NULL;
	struct buf		 b = BUF_INIT;
	char			**argv = NULL, **envp = NULL, *q;
	const char		*v;
	size_t			 i, ne = 0;
	int			 bad = 0;
	enum qerr		 e = Q_NOMEM;

	if (params != NULL && *params != '\0' &&
	    (po = json_tokener_parse(params)) == NULL) {
		snprintf(detail, dl, "the job's parameters are not readable");
		return Q_INVALID;
	}
	if ((argv = calloc(d->nargs + 2, sizeof(char *))) == NULL ||
	    (envp = calloc(d->nparams + 5, sizeof(char *))) == NULL)
		goto out;
	if ((argv[0] = strdup(d->command)) == NULL)
		goto out;
	for (i = 0; i < d->nargs; i++) {
		if (expand_arg(d, po, d->args[i], &b, &bad) != 0 ||
		    (argv[i + 1] = strdup(buf_str(&b))) == NULL)
			goto out;
	}
	if ((envp[ne++] = strdup("PATH=/usr/bin:/bin")) == NULL ||
	    (envp[ne++] = strdup("LANG=C.UTF-8")) == NULL ||
	    asprintf(&envp[ne++], "QUARRY_TENANT=%s", d->tenant) < 0 ||
	    asprintf(&envp[ne++], "QUARRY_DEFINITION=%s", d->id) < 0) {
		envp[ne - 1] = NULL;
		goto out;
	}
	for (i = 0; i < d->nparams; i++) {
		if ((v = param_value(po, d->params[i].name, &bad)) == NULL)
			continue;
		if (asprintf(&envp[ne], "QUARRY_PARAM_%s=%s",
		    d->params[i].name, v) < 0) {
			envp[ne] = NULL;
			goto out;
		}
		for (q = envp[ne] + 13; *q != '='; q++)
			*q = (char)toupper((unsigned char)*q);
		ne++;
	}
	if (bad) {
		snprintf(detail, dl, "a parameter holds a NUL byte");
		e = Q_INVALID;
		goto out;
	}
	*argvp = argv;
	*envpp = envp;
	argv = envp = NULL;
	e = Q_OK;
out:
	if (e == Q_NOMEM)
		snprintf(detail, dl, "out of memory");
	free_strv(argv);
	free_strv(envp);
	buf_free(&b);
	json_object_put(po);
	return e;
}

/* Lowers a resource limit (never raises a hard limit: that would fail). */
static void
limit(int resource, unsigned long long soft, unsigned long long hard)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) != 0)
		return;
	if (rl.rlim_max == RLIM_INFINITY || hard < rl.rlim_max)
		rl.rlim_max = hard;
	rl.rlim_cur = soft < rl.rlim_max ? soft : rl.rlim_max;
	setrlimit(resource, &rl);
}

/* Puts fd on target (0, 1, 2) without the close-on-exec flag. */
static int
place_fd(int fd, int target)
{
	int high;

	if ((high = fcntl(fd, F_DUPFD_CLOEXEC, 10)) < 0)
		return -1;
	return dup2(high, target) < 0 ? -1 : 0;
}

/* In the child: becomes the extractor.  Never returns. */
static void
child(const struct conf *c, const char *path, char **argv, char **envp,
    int out, int err, pid_t parent)
{
	sigset_t	 none;
	int		 i, nul;
	long long	 cpu = c->extractor_timeout;

	setpgid(0, 0);
	/* dies with the worker (its group: see the wall-clock kill) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    place_fd(err, 2) != 0 || place_fd(out, 1) != 0 ||
	    place_fd(nul, 0) != 0)
		_exit(127);
	if (close_range(3, ~0U, 0) != 0)
		for (i = 3; i < 4096; i++)
			close(i);
	limit(RLIMIT_CPU, (unsigned long long)cpu,
	    (unsigned long long)cpu + 5);
	limit(RLIMIT_FSIZE, c->extractor_max_output, c->extractor_max_output);
	if (c->extractor_max_memory > 0)
		limit(RLIMIT_AS, c->extractor_max_memory,
		    c->extractor_max_memory);
	limit(RLIMIT_CORE, 0, 0);
	umask(077);
	if (chdir(c->extractors_dir) != 0 && chdir("/") != 0)
		_exit(127);
	execve(path, argv, envp);
	dprintf(2, "quarry: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Keeps the last TAIL_MAX bytes written on stderr. */
static void
tail_add(struct cmd_run *r, const char *p, size_t n)
{
	size_t keep;

	if (n >= TAIL_MAX) {
		memcpy(r->tail, p + n - TAIL_MAX, TAIL_MAX);
		r->taillen = TAIL_MAX;
		return;
	}
	if (r->taillen + n > TAIL_MAX) {
		keep = TAIL_MAX - n;
		memmove(r->tail, r->tail + r->taillen - keep, keep);
		r->taillen = keep;
	}
	memcpy(r->tail + r->taillen, p, n);
	r->taillen += n;
}

/*
 * The stderr tail as printable text of at most max bytes (its end kept):
 * line breaks and tabs become spaces, other controls and invalid UTF-8
 * become '?', and surrounding space is trimmed.
 */
static void
tail_text(const struct cmd_run *r, char *out, size_t max)
{
	const unsigned char	*p = (const unsigned char *)r->tail;
	size_t			 i = 0, o = 0, k, start;
	char			*t;

	if ((t = malloc(TAIL_MAX * 3 + 1)) == NULL) {
		out[0] = '\0';
		return;
	}
	while (i < r->taillen && i < 3 && (p[i] & 0xc0) == 0x80)
		i++;		/* a sequence cut by the start of the tail */
	while (i < r->taillen) {
		if (p[i] == '\n' || p[i] == '\r' || p[i] == '\t') {
			if (o > 0 && t[o - 1] != ' ')
				t[o++] = ' ';
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			t[o++] = '?';
			i++;
		} else if ((k = utf8_char((const char *)p + i,
		    r->taillen - i)) == 0) {
			t[o++] = '?';
			i++;
		} else {
			memcpy(t + o, p + i, k);
			o += k;
			i += k;
		}
	}
	while (o > 0 && t[o - 1] == ' ')
		o--;
	start = 0;
	while (start < o && t[start] == ' ')
		start++;
	if (o - start > max) {
		start = o - max;
		while (start < o && ((unsigned char)t[start] & 0xc0) == 0x80)
			start++;
	}
	memcpy(out, t + start, o - start);
	out[o - start] = '\0';
	free(t);
}

/* The CSV reader's callback: the header opens the pipeline, rows go in. */
static int
on_record(char **fields, size_t *lens, size_t n, unsigned long line,
    void *arg)
{
	struct cmd_run	*r = arg;
	size_t		 i, j;
	int		 rc;

	if (r->ncols == 0) {
		for (i = 0; i < n; i++) {
			if (lens[i] == 0) {
				snprintf(r->detail, r->detaillen, "the "
				    "extractor's header row (line %lu) has an "
				    "empty column name", line);
				r->err = Q_INVALID;
				return 1;
			}
			for (j = 0; j < i; j++)
				if (strcmp(fields[i], fields[j]) == 0) {
					snprintf(r->detail, r->detaillen,
					    "the extractor's header row has "
					    "column '%s' twice", fields[i]);
					r->err = Q_INVALID;
					return 1;
				}
		}
		if ((r->err = rowpipe_begin(r->p, r->d, fields, n, r->params,
		    "the extractor's output", r->detail, r->detaillen)) !=
		    Q_OK)
			return 1;
		r->ncols = n;
		return 0;
	}
	if (n == 1 && lens[0] == 0 && r->ncols > 1)
		return 0;	/* a blank line */
	if (n != r->ncols) {
		snprintf(r->detail, r->detaillen, "the extractor's output, "
		    "line %lu: expected %zu fields, found %zu", line, r->ncols,
		    n);
		r->err = Q_INVALID;
		return 1;
	}
	rc = rowpipe_row((const char *const *)fields, lens, n, r->p);
	if (rc == VISIT_NEXT)
		return 0;
	r->err = r->p->stopped ? Q_CANCELLED : Q_IO;
	return 1;
}

/*
 * Reads what is left on stderr once the group is gone (a writer that left
 * the group cannot hold the build for more than a moment).
 */
static void
drain_tail(struct cmd_run *r, int fd, char *chunk)
{
	struct pollfd	 pfd;
	long long	 t0 = mono_ms();
	ssize_t		 got;

	if (fd < 0)
		return;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (mono_ms() - t0 < 100) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		got = read(fd, chunk, READ_CHUNK);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got <= 0)
			break;
		tail_add(r, chunk, (size_t)got);
	}
}

/* Reaps pid if it has ended; 1 when reaped. */
static int
try_reap(pid_t pid, int *status)
{
	pid_t w;

	while ((w = waitpid(pid, status, WNOHANG)) < 0 && errno == EINTR)
		;
	return w == pid || (w < 0 && errno == ECHILD);
}

/*
 * Ends the program's whole process group: SIGTERM, a short grace, then
 * SIGKILL; reaps the program.
 */
static void
kill_group(pid_t pid, int *reaped, int *status)
{
	long long t0 = mono_ms();

	kill(-pid, SIGTERM);
	while (!*reaped && mono_ms() - t0 < TERM_GRACE_MS) {
		if ((*reaped = try_reap(pid, status)))
			break;
		usleep(10 * 1000);
	}
	kill(-pid, SIGKILL);
	while (!*reaped) {
		if (waitpid(pid, status, 0) == pid ||
		    (errno != EINTR))
			*reaped = 1;
	}
}

/* Says why the program's run failed, from its wait status. */
static enum qerr
exit_detail(struct cmd_run *r, int status, struct build_result *res)
{
	char		 tail[TAIL_MAX + 1], why[96];
	size_t		 n, m;
	int		 sig;

	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_TEMPFAIL) {
		snprintf(why, sizeof(why), "the extractor asked to be run "
		    "again later (exit status %d)", EXIT_TEMPFAIL);
		res->retry = 1;
	} else if (WIFEXITED(status))
		snprintf(why, sizeof(why), "the extractor failed (exit status "
		    "%d)", WEXITSTATUS(status));
	else {
		sig = WTERMSIG(status);
		snprintf(why, sizeof(why), "the extractor was killed by signal "
		    "%d (%s%s)", sig, strsignal(sig), sig == SIGXCPU ? ": CPU "
		    "time limit" : sig == SIGXFSZ ? ": file size limit" : "");
	}
	n = strlen(why);
	tail_text(r, tail, sizeof(res->detail) - n - 3);
	snprintf(res->detail, sizeof(res->detail), "%s%s", why,
	    tail[0] ? ": " : "");
	n = strlen(res->detail);
	m = strlen(tail);
	if (m > sizeof(res->detail) - 1 - n)
		m = sizeof(res->detail) - 1 - n;
	memcpy(res->detail + n, tail, m);
	res->detail[n + m] = '\0';
	return res->retry ? Q_TRANSIENT : Q_INVALID;
}

/* Runs d's extractor and feeds its CSV to p (see export.h). */
enum qerr
source_command(const struct conf *c, const struct definition *d,
    const char *params, struct rowpipe *p, struct build_result *res)
{
	struct cmd_run		 r;
	struct csv_reader	 rd;
	struct pollfd		 pfd[2];
	char			 path[PATH_MAX], **argv = NULL, **envp = NULL;
	char			*chunk = NULL;
	int			 outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int			 status = 0, reaped = 0, nfd, stop = 0, rc;
	unsigned long long	 seen = 0;
	long long		 deadline, t, last_tick;
	pid_t			 pid, parent = getpid();
	ssize_t			 got;
	enum qerr		 e;

	memset(&r, 0, sizeof(r));
	r.p = p;
	r.d = d;
	r.params = params;
	r.detail = res->detail;
	r.detaillen = sizeof(res->detail);
	csv_reader_init(&rd, ',', on_record, &r);
	if ((e = resolve(c, d->command, path, res->detail,
	    sizeof(res->detail))) != Q_OK ||
	    (e = build_exec(d, params, &argv, &envp, res->detail,
	    sizeof(res->detail))) != Q_OK)
		goto out;
	if ((chunk = malloc(READ_CHUNK)) == NULL) {
		e = Q_NOMEM;
		goto out;
	}
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		snprintf(res->detail, sizeof(res->detail), "starting the "
		    "extractor failed: %s", strerror(errno));
		e = Q_IO;
		res->retry = 1;
		goto out;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		snprintf(res->detail, sizeof(res->detail), "starting the "
		    "extractor failed: %s", strerror(errno));
		e = Q_IO;
		res->retry = 1;
		goto out;
	}
	if (pid == 0)
		child(c, path, argv, envp, outp[1], errp[1], parent);
	setpgid(pid, pid);	/* also here: no race with kill(-pid) */
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);

	deadline = mono_ms() + c->extractor_timeout * 1000;
	last_tick = mono_ms();
	e = Q_OK;
	while (!stop && (outp[0] >= 0 || !reaped)) {
		nfd = 0;
		if (outp[0] >= 0) {
			pfd[nfd].fd = outp[0];
			pfd[nfd++].events = POLLIN;
		}
		if (errp[0] >= 0) {
			pfd[nfd].fd = errp[0];
			pfd[nfd++].events = POLLIN;
		}
		t = deadline - mono_ms();
		/* once stdout is closed, only the exit is awaited */
		rc = poll(pfd, (nfds_t)nfd, (int)(t < 0 ? 0 : outp[0] < 0 ?
		    (t < 10 ? t : 10) : t < TICK_MS ? t : TICK_MS));
		if (rc < 0 && errno != EINTR) {
			snprintf(res->detail, sizeof(res->detail), "waiting "
			    "for the extractor failed: %s", strerror(errno));
			e = Q_IO;
			stop = 1;
			break;
		}
		/* stderr first: its tail explains a failure */
		while (errp[0] >= 0) {
			got = read(errp[0], chunk, READ_CHUNK);
			if (got > 0) {
				tail_add(&r, chunk, (size_t)got);
				continue;
			}
			if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(errp[0]);
				errp[0] = -1;
			}
			if (got < 0 && errno == EINTR)
				continue;
			break;
		}
		while (outp[0] >= 0 && !stop) {
			got = read(outp[0], chunk, READ_CHUNK);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0 && errno == EAGAIN)
				break;
			if (got <= 0) {
				close(outp[0]);
				outp[0] = -1;
				break;
			}
			seen += (unsigned long long)got;
			if (seen > c->extractor_max_output) {
				snprintf(res->detail, sizeof(res->detail),
				    "the extractor wrote more than "
				    "extractor_max_output (%llu bytes) and was "
				    "stopped", c->extractor_max_output);
				e = Q_TOOBIG;
				stop = 1;
				break;
			}
			rc = csv_feed(&rd, chunk, (size_t)got);
			if (rc == -1) {
				snprintf(res->detail, sizeof(res->detail), "the "
				    "extractor's output is not valid CSV: %s",
				    rd.err);
				e = Q_INVALID;
				stop = 1;
			} else if (rc != 0) {
				e = r.err;
				stop = 1;
			}
		}
		if (stop)
			break;
		if (!reaped && (reaped = try_reap(pid, &status)))
			kill(-pid, SIGKILL);	/* what it left running */
		t = mono_ms();
		if (t >= deadline) {
			snprintf(res->detail, sizeof(res->detail), "the "
			    "extractor ran longer than extractor_timeout (%lld "
			    "s) and was killed", c->extractor_timeout);
			e = Q_TIMEOUT;
			stop = 1;
		} else if (t - last_tick >= TICK_MS) {
			last_tick = t;
			if (rowpipe_progress(p)) {
				e = Q_CANCELLED;
				stop = 1;
			}
		}
	}
	if (stop) {
		kill_group(pid, &reaped, &status);
		goto out;
	}
	drain_tail(&r, errp[0], chunk);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		e = exit_detail(&r, status, res);
		goto out;
	}
	rc = csv_finish(&rd);
	if (rc == -1) {
		snprintf(res->detail, sizeof(res->detail), "the extractor's "
		    "output is not valid CSV: %s", rd.err);
		e = Q_INVALID;
	} else if (rc != 0)
		e = r.err;
	else if (r.ncols == 0) {
		snprintf(res->detail, sizeof(res->detail), "the extractor "
		    "wrote no header row");
		e = Q_INVALID;
	} else
		e = rowpipe_end(p);
out:
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	free(chunk);
	free_strv(argv);
	free_strv(envp);
	csv_reader_free(&rd);
	return e;
}
