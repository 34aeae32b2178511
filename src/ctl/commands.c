/*
 * quarryctl's commands over the model.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "quarry/wake.h"
#include "quarry/build.h"
#include "quarry/jsonutil.h"
#include "quarry/model.h"
#include "quarry/params.h"
#include "quarry/seams.h"

#define MAX_POS		8
#define MAX_PARAMS	64

struct opts {
	const char	*tenant, *role, *name, *expires, *state, *reason;
	const char	*format, *out;
	int		 replace;
	const char	*params[MAX_PARAMS];
	size_t		 nparams;
	const char	*pos[MAX_POS];
	size_t		 npos;
};

/* Parses argv[1..] into o; 0, or -1 after a message on bad usage. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct { const char *name; size_t off; } valued[] = {
		{ "--tenant", offsetof(struct opts, tenant) },
		{ "--role", offsetof(struct opts, role) },
		{ "--name", offsetof(struct opts, name) },
		{ "--expires", offsetof(struct opts, expires) },
		{ "--state", offsetof(struct opts, state) },
		{ "--reason", offsetof(struct opts, reason) },
		{ "--format", offsetof(struct opts, format) },
		{ "--out", offsetof(struct opts, out) },
	};
	int	i;
	size_t	k;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--replace") == 0) {
			o->replace = 1;
			continue;
		}
		if (strcmp(argv[i], "--param") == 0) {
			if (i + 1 >= argc || o->nparams >= MAX_PARAMS)
				goto bad;
			o->params[o->nparams++] = argv[++i];
			continue;
		}
		for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if (strcmp(argv[i], valued[k].name) == 0)
				break;
		if (k < sizeof(valued) / sizeof(valued[0])) {
			if (i + 1 >= argc)
				goto bad;
			*(const char **)((char *)o + valued[k].off) = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0')
			goto bad;
		if (o->npos >= MAX_POS)
			goto bad;
		o->pos[o->npos++] = argv[i];
	}
	return 0;
bad:
	fprintf(stderr, "quarryctl: bad option near '%s'\n", argv[i]);
	return -1;
}

static int
fail(const char *what, enum qerr e)
{
	fprintf(stderr, "quarryctl: %s: %s\n", what, qerr_str(e));
	return 1;
}

static int
mkdir_p(const char *path)
{
	char	tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

/* init: creates the directories and the store (idempotent). */
int
cmd_init(struct ctl *c, int argc, char **argv)
{
	struct store	*s;
	enum qerr	 e;

	(void)argv;
	if (argc != 1)
		return 2;
	if (mkdir_p(c->conf.db_dir) != 0 || mkdir_p(c->conf.files_dir) != 0) {
		fprintf(stderr, "quarryctl: creating directories: %s\n",
		    strerror(errno));
		return 1;
	}
	if ((e = store_open(&c->conf, STORE_CREATE, &s)) != Q_OK)
		return fail("creating the store", e);
	store_close(s);
	fprintf(stderr, "quarryctl: store ready in %s\n", c->conf.db_dir);
	return 0;
}

static void
print_time(time_t t, char out[RFC3339_LEN])
{
	if (t == 0)
		strcpy(out, "-");
	else
		time_rfc3339(t, out);
}

static int
print_token(const struct token *t, void *arg)
{
	char	created[RFC3339_LEN], expires[RFC3339_LEN];
	const char *status;

	(void)arg;
	print_time(t->created, created);
	print_time(t->expires, expires);
	status = t->revoked ? "revoked" : (t->expires != 0 &&
	    t->expires <= q_seams.now()) ? "expired" : "active";
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t->id, t->tenant,
	    role_name(t->role), t->name, created, expires, status);
	return 0;
}

/* token create | list | revoke */
int
cmd_token(struct ctl *c, int argc, char **argv)
{
	struct opts	o;
	struct token	t;
	char		secret[TOKEN_SECRET_LEN + 1];
	long long	ttl = 0;
	enum role	role;
	enum qerr	e;

	if (argc < 2 || parse_opts(argc - 1, argv + 1, &o) != 0)
		return 2;
	if (strcmp(argv[1], "create") == 0) {
		if (o.tenant == NULL || o.role == NULL || o.npos != 0)
			return 2;
		if (strcmp(o.role, "admin") == 0)
			role = ROLE_ADMIN;
		else if (strcmp(o.role, "user") == 0)
			role = ROLE_USER;
		else {
			fprintf(stderr, "quarryctl: --role is admin or user\n");
			return 2;
		}
		if (o.expires != NULL && (duration_parse(o.expires, &ttl) != 0 ||
		    ttl == 0)) {
			fprintf(stderr, "quarryctl: --expires takes a duration "
			    "such as 30d or 12h\n");
			return 2;
		}
		if (!name_valid(o.tenant)) {
			fprintf(stderr, "quarryctl: a tenant is 1 to 32 of "
			    "a-z, 0-9, '_' and '-'\n");
			return 2;
		}
		e = token_create(ctl_store(c), o.tenant, role, o.name, ttl,
		    secret, &t);
		if (e != Q_OK)
			return fail("creating the token", e);
		printf("%s\n", secret);
		fprintf(stderr, "quarryctl: token %s (%s, tenant %s) created; "
		    "the secret above is not shown again\n", t.id,
		    role_name(role), t.tenant);
		return 0;
	}
	if (strcmp(argv[1], "list") == 0) {
		if (o.npos != 0)
			return 2;
		e = token_list(ctl_store(c), o.tenant, print_token, NULL);
		return e == Q_OK ? 0 : fail("listing tokens", e);
	}
	if (strcmp(argv[1], "revoke") == 0) {
		if (o.npos != 1)
			return 2;
		e = token_revoke(ctl_store(c), o.pos[0]);
		return e == Q_OK ? 0 : fail(o.pos[0], e);
	}
	return 2;
}

static int
print_dataset(const struct dataset *d, void *arg)
{
	char	created[RFC3339_LEN];

	(void)arg;
	time_rfc3339(d->created, created);
	printf("%s\t%s\t%llu rows\t%zu columns\t%s\n", d->tenant, d->name,
	    (unsigned long long)d->nrows, d->ncolumns, created);
	return 0;
}

/* dataset import | list | rm */
int
cmd_dataset(struct ctl *c, int argc, char **argv)
{
	struct opts	 o;
	char		 err[512];
	FILE		*in;
	enum qerr	 e;

	if (argc < 2 || parse_opts(argc - 1, argv + 1, &o) != 0)
		return 2;
	if (strcmp(argv[1], "import") == 0) {
		if (o.tenant == NULL || o.npos != 2)
			return 2;
		if (strcmp(o.pos[1], "-") == 0)
			in = stdin;
		else if ((in = fopen(o.pos[1], "r")) == NULL) {
			fprintf(stderr, "quarryctl: %s: %s\n", o.pos[1],
			    strerror(errno));
			return 1;
		}
		err[0] = '\0';
		e = dataset_import(ctl_store(c), o.tenant, o.pos[0], in,
		    o.replace, err, sizeof(err));
		if (in != stdin)
			fclose(in);
		if (e != Q_OK) {
			fprintf(stderr, "quarryctl: %s: %s\n", o.pos[1],
			    err[0] ? err : qerr_str(e));
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[1], "list") == 0) {
		if (o.npos != 0)
			return 2;
		e = dataset_list(ctl_store(c), o.tenant, print_dataset, NULL);
		return e == Q_OK ? 0 : fail("listing datasets", e);
	}
	if (strcmp(argv[1], "rm") == 0) {
		if (o.tenant == NULL || o.npos != 1)
			return 2;
		e = dataset_rm(ctl_store(c), o.tenant, o.pos[0]);
		return e == Q_OK ? 0 : fail(o.pos[0], e);
	}
	return 2;
}

/* Reads a whole file (at most max bytes) into b; "-" is stdin. */
static int
read_file(const char *path, size_t max, struct buf *b)
{
	FILE	*f;
	char	 chunk[8192];
	size_t	 n;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_add(b, chunk, n);
		if (b->len > max) {
			errno = EFBIG;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	return b->oom || b->len > max ? -1 : 0;
}

static int
print_definition(const struct definition *d, void *arg)
{
	(void)arg;
	printf("%s\t%s\t%s\n", d->id, d->tenant, d->name);
	return 0;
}

/* definition add | list | show | rm */
int
cmd_definition(struct ctl *c, int argc, char **argv)
{
	struct opts		o;
	struct definition	d;
	struct buf		b = BUF_INIT;
	char			field[128], err[512], t1[RFC3339_LEN],
				t2[RFC3339_LEN];
	enum qerr		e;

	if (argc < 2 || parse_opts(argc - 1, argv + 1, &o) != 0)
		return 2;
	if (strcmp(argv[1], "add") == 0) {
		if (o.npos != 1)
			return 2;
		if (read_file(o.pos[0], c->conf.max_body, &b) != 0) {
			fprintf(stderr, "quarryctl: %s: %s\n", o.pos[0],
			    strerror(errno));
			buf_free(&b);
			return 1;
		}
		e = definition_parse(buf_str(&b), b.len, &d, field,
		    sizeof(field), err, sizeof(err));
		buf_free(&b);
		if (e != Q_OK) {
			fprintf(stderr, "quarryctl: %s: %s\n", o.pos[0], err);
			return 1;
		}
		e = definition_add(ctl_store(c), &d);
		if (e == Q_OK)
			printf("%s\n", d.id);
		definition_free(&d);
		return e == Q_OK ? 0 : fail("adding the definition", e);
	}
	if (strcmp(argv[1], "list") == 0) {
		if (o.npos != 0)
			return 2;
		e = definition_list(ctl_store(c), o.tenant, print_definition,
		    NULL);
		return e == Q_OK ? 0 : fail("listing definitions", e);
	}
	if (strcmp(argv[1], "show") == 0) {
		if (o.npos != 1)
			return 2;
		if ((e = definition_get(ctl_store(c), o.pos[0], &d)) != Q_OK)
			return fail(o.pos[0], e);
		time_rfc3339(d.created, t1);
		time_rfc3339(d.modified, t2);
		printf("id: %s\ntenant: %s\ncreated: %s\nmodified: %s\n%s\n",
		    d.id, d.tenant, t1, t2, d.doc);
		definition_free(&d);
		return 0;
	}
	if (strcmp(argv[1], "rm") == 0) {
		if (o.npos != 1)
			return 2;
		e = definition_rm(ctl_store(c), o.pos[0]);
		if (e == Q_EXISTS) {
			fprintf(stderr, "quarryctl: %s has an active job\n",
			    o.pos[0]);
			return 1;
		}
		return e == Q_OK ? 0 : fail(o.pos[0], e);
	}
	return 2;
}

struct job_filter {
	int		 by_state;
	enum job_state	 state;
};

static int
print_job(const struct job *j, void *arg)
{
	const struct job_filter	*f = arg;
	char			 created[RFC3339_LEN];

	if (f->by_state && j->state != f->state)
		return 0;
	time_rfc3339(j->created, created);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%llu\t%s\n", j->id, j->tenant,
	    j->def_id, job_state_name(j->state), fmt_name(j->format), created,
	    (unsigned long long)j->rows, j->detail ? j->detail : "");
	return 0;
}

static void
show_job(const struct job *j)
{
	char t[RFC3339_LEN];

	printf("id: %s\ntenant: %s\ndefinition: %s\nowner: %s\nstate: %s\n"
	    "format: %s\nparameters: %s\n", j->id, j->tenant, j->def_id,
	    j->owner, job_state_name(j->state), fmt_name(j->format),
	    j->params);
	print_time(j->created, t);
	printf("created: %s\n", t);
	print_time(j->updated, t);
	printf("updated: %s\n", t);
	print_time(j->started, t);
	printf("started: %s\n", t);
	print_time(j->finished, t);
	printf("finished: %s\n", t);
	print_time(j->expires, t);
	printf("expires: %s\n", t);
	printf("attempts: %u\nrows: %llu\nbytes: %llu\nfile: %s\n"
	    "detail: %s\n", j->attempts, (unsigned long long)j->rows,
	    (unsigned long long)j->bytes, j->file[0] ? j->file : "-",
	    j->detail ? j->detail : "");
}

/* job list | show */
/*
 * job cancel|approve|reject|requeue ID: one action, printing the job's
 * new state; the scheduler is woken for jobs that became queued.
 */
static int
job_action(struct ctl *c, const char *what, const struct opts *o)
{
	struct job	 j;
	enum qerr	 e;

	if (o->npos != 1 || (o->reason != NULL && strcmp(what, "reject") != 0))
		return 2;
	if (strcmp(what, "cancel") == 0)
		e = job_cancel(ctl_store(c), o->pos[0], &j, NULL);
	else if (strcmp(what, "approve") == 0)
		e = job_approve(ctl_store(c), o->pos[0], &j);
	else if (strcmp(what, "reject") == 0)
		e = job_reject(ctl_store(c), o->pos[0], o->reason, &j);
	else if (strcmp(what, "requeue") == 0)
		e = job_requeue(ctl_store(c), o->pos[0], &j);
	else
		return 2;
	if (e == Q_STATE)
		fprintf(stderr, "quarryctl: job %s: cannot %s a job in this "
		    "state\n", o->pos[0], what);
	else if (e == Q_EXISTS)
		fprintf(stderr, "quarryctl: job %s: an equal job is active; "
		    "not requeued\n", o->pos[0]);
	if (e != Q_OK) {
		job_free(&j);
		return e == Q_STATE || e == Q_EXISTS ? 1 : fail(o->pos[0], e);
	}
	printf("%s %s\n", j.id, job_state_name(j.state));
	if (j.state == JS_QUEUED)
		wake_scheduler(&c->conf);
	job_free(&j);
	return 0;
}

int
cmd_job(struct ctl *c, int argc, char **argv)
{
	struct opts		o;
	struct job_filter	f = { 0, JS_QUEUED };
	struct job		j;
	enum qerr		e;

	if (argc < 2 || parse_opts(argc - 1, argv + 1, &o) != 0)
		return 2;
	if (strcmp(argv[1], "list") == 0) {
		if (o.npos != 0)
			return 2;
		if (o.state != NULL) {
			if (job_state_parse(o.state, &f.state) != 0) {
				fprintf(stderr, "quarryctl: unknown state "
				    "'%s'\n", o.state);
				return 2;
			}
			f.by_state = 1;
		}
		e = job_list(ctl_store(c), o.tenant, print_job, &f);
		return e == Q_OK ? 0 : fail("listing jobs", e);
	}
	if (strcmp(argv[1], "show") == 0) {
		if (o.npos != 1)
			return 2;
		if ((e = job_get(ctl_store(c), o.pos[0], &j)) != Q_OK)
			return fail(o.pos[0], e);
		show_job(&j);
		job_free(&j);
		return 0;
	}
	return job_action(c, argv[1], &o);
}

/*
 * The export's progress: a one-line bar on a terminal, redrawn at most
 * five times a second; nothing otherwise.  A SIGINT, SIGTERM or SIGHUP
 * received meanwhile stops the build (the callback returns non-zero).
 */
struct bar {
	int		 tty;
	struct timespec	 start, last;
};

static volatile sig_atomic_t export_stop;

static void
on_stop_signal(int sig)
{
	export_stop = sig;
}

static double
since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int
progress(void *arg, uint64_t rows, uint64_t bytes)
{
	struct bar	*b = arg;
	struct timespec	 now;
	double		 t;

	if (export_stop)
		return 1;
	if (!b->tty)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (since(&b->last, &now) < 0.2)
		return 0;
	b->last = now;
	t = since(&b->start, &now);
	fprintf(stderr, "\r\033[K%llu rows, %.1f MB, %.1f s, %.0f rows/s",
	    (unsigned long long)rows, (double)bytes / 1e6, t,
	    t > 0 ? (double)rows / t : 0.0);
	return 0;
}

/* fsyncs the directory that holds path. */
static int
fsync_parent(const char *path)
{
	char	 dir[PATH_MAX], *slash;
	int	 fd, rc;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = q_seams.fsync(fd);
	close(fd);
	return rc;
}

/*
 * A definition with rows_per_file: built exactly as a job's file, a zip
 * of parts, by build_job_file in FILE's directory (its temporaries there
 * too), then renamed to FILE.  0, or -1 after a message.
 */
static int
export_split(struct ctl *c, const struct definition *d, const char *params,
    enum fmt f, const char *out, struct bar *bar, struct build_result *res)
{
	struct conf	 cc = c->conf;
	struct job	 j;
	char		 file[64], path[PATH_MAX], *slash;
	mode_t		 mask;
	enum qerr	 e;
	int		 n;

	n = snprintf(cc.files_dir, sizeof(cc.files_dir), "%s", out);
	if (n < 0 || (size_t)n >= sizeof(cc.files_dir)) {
		fprintf(stderr, "quarryctl: %s: name too long\n", out);
		return -1;
	}
	if ((slash = strrchr(cc.files_dir, '/')) == NULL)
		snprintf(cc.files_dir, sizeof(cc.files_dir), ".");
	else if (slash == cc.files_dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	memset(&j, 0, sizeof(j));
	if ((e = id_new(j.id)) != Q_OK)
		return fail("export", e);
	snprintf(j.tenant, sizeof(j.tenant), "%s", d->tenant);
	j.format = f;
	j.params = (char *)params;
	e = build_job_file(ctl_store(c), &cc, d, &j, progress, bar, file, res);
	if (bar->tty)
		fputs("\r\033[K", stderr);
	if (e != Q_OK)
		return -1;
	mask = umask(0);
	umask(mask);
	if (files_path(&cc, file, path, sizeof(path)) != 0 ||
	    chmod(path, 0666 & ~mask) != 0 || rename(path, out) != 0 ||
	    fsync_parent(out) != 0) {
		fprintf(stderr, "quarryctl: export failed: writing %s: %s\n",
		    out, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

/*
 * export DEF [--param k=v]... [--format F] --out FILE: builds the export
 * synchronously through build_to_fd, the code the workers run, with the
 * parameters checked as the API checks them.  FILE appears whole or not
 * at all: the build goes to a new temporary file beside it, which is
 * fsync'ed and renamed over FILE, and the directory fsync'ed.  With the
 * definition's rows_per_file, FILE is the zip of parts a job would get.
 * Progress is shown only when stderr is a terminal.
 */
int
cmd_export(struct ctl *c, int argc, char **argv)
{
	struct opts		 o;
	struct definition	 d;
	struct json_object	*given = NULL;
	struct buf		 canon = BUF_INIT;
	struct build_result	 res;
	struct bar		 bar;
	struct sigaction	 sa, old_int, old_term, old_hup;
	char			 bad[128], err[512], tmp[PATH_MAX], *eq;
	enum fmt		 f;
	size_t			 i;
	mode_t			 mask;
	int			 fd = -1, rc = 1, saved, handlers = 0;
	enum qerr		 e;

	if (parse_opts(argc, argv, &o) != 0 || o.npos != 1 || o.out == NULL ||
	    o.out[0] == '\0')
		return 2;
	if ((e = definition_get(ctl_store(c), o.pos[0], &d)) != Q_OK)
		return fail(o.pos[0], e);
	f = d.formats[0];
	if (o.format != NULL) {
		for (i = 0; i < d.nformats; i++)
			if (strcmp(fmt_name(d.formats[i]), o.format) == 0)
				break;
		if (i == d.nformats) {
			fprintf(stderr, "quarryctl: format '%s' is not allowed "
			    "by the definition\n", o.format);
			goto out;
		}
		f = d.formats[i];
	}
	if ((given = json_object_new_object()) == NULL) {
		fail("export", Q_NOMEM);
		goto out;
	}
	for (i = 0; i < o.nparams; i++) {
		if ((eq = strchr(o.params[i], '=')) == NULL ||
		    eq == o.params[i]) {
			fprintf(stderr, "quarryctl: --param takes k=v\n");
			goto out;
		}
		*eq = '\0';
		if (json_object_object_get_ex(given, o.params[i], NULL)) {
			fprintf(stderr, "quarryctl: parameter '%s' given "
			    "twice\n", o.params[i]);
			goto out;
		}
		json_object_object_add(given, o.params[i],
		    json_object_new_string(eq + 1));
	}
	if (params_canonical(&d, given, &canon, bad, sizeof(bad), err,
	    sizeof(err)) != Q_OK) {
		fprintf(stderr, "quarryctl: %s\n", err);
		goto out;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", o.out) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, "quarryctl: %s: name too long\n", o.out);
		goto out;
	}
	/* From here a signal stops the build, so the temporary goes. */
	export_stop = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	handlers = 1;
	memset(&bar, 0, sizeof(bar));
	bar.tty = isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &bar.start);
	if (d.rows_per_file > 0) {
		memset(&res, 0, sizeof(res));
		if (export_split(c, &d, buf_str(&canon), f, o.out, &bar,
		    &res) != 0) {
			if (export_stop)
				fprintf(stderr, "quarryctl: export interrupted; "
				    "%s left as it was\n", o.out);
			else if (res.detail[0] != '\0')
				fprintf(stderr, "quarryctl: export failed: "
				    "%s\n", res.detail);
			rc = export_stop ? 128 + export_stop : 1;
			goto out;
		}
		goto done;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fprintf(stderr, "quarryctl: %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	/* mkostemp makes 0600; a new file is 0666 less the umask. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0) {
		fprintf(stderr, "quarryctl: %s: %s\n", tmp, strerror(errno));
		goto out;
	}

	e = build_to_fd(ctl_store(c), &c->conf, &d, buf_str(&canon), f, fd,
	    progress, &bar, &res);
	if (bar.tty)
		fputs("\r\033[K", stderr);
	saved = 0;
	if (e == Q_OK && q_seams.fsync(fd) != 0)
		saved = errno;
	if (close(fd) != 0 && e == Q_OK && saved == 0)
		saved = errno;
	fd = -1;
	if (e == Q_OK && saved == 0 && rename(tmp, o.out) != 0)
		saved = errno;
	if (e == Q_OK && saved == 0 && fsync_parent(o.out) != 0)
		saved = errno;
	if (e == Q_OK && saved != 0) {
		/* FILE may already be the new file: only fsync failed. */
		fprintf(stderr, "quarryctl: export failed: writing %s: %s\n",
		    o.out, strerror(saved));
		unlink(tmp);
		goto out;
	}
	if (e != Q_OK) {
		unlink(tmp);
		if (export_stop)
			fprintf(stderr, "quarryctl: export interrupted; %s "
			    "left as it was\n", o.out);
		else
			fprintf(stderr, "quarryctl: export failed: %s\n",
			    res.detail[0] ? res.detail : qerr_str(e));
		rc = export_stop ? 128 + export_stop : 1;
		goto out;
	}
done:
	if (bar.tty)
		fprintf(stderr, "%llu rows, %llu bytes written to %s\n",
		    (unsigned long long)res.rows,
		    (unsigned long long)res.bytes, o.out);
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
	}
	json_object_put(given);
	buf_free(&canon);
	definition_free(&d);
	return rc;
}
