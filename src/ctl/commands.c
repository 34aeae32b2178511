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
#include "quarry/export.h"
#include "quarry/jsonutil.h"
#include "quarry/model.h"
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

/*
 * init: creates the directories and the store, or brings an existing
 * store of an older format up to date (idempotent).
 */
int
cmd_init(struct ctl *c, int argc, char **argv)
{
	struct store	*s;
	unsigned	 njobs;
	enum qerr	 e;

	(void)argv;
	if (argc != 1)
		return 2;
	if (mkdir_p(c->conf.db_dir) != 0 || mkdir_p(c->conf.files_dir) != 0) {
		fprintf(stderr, "quarryctl: creating directories: %s\n",
		    strerror(errno));
		return 1;
	}
	if ((e = store_open(&c->conf, STORE_CREATE | STORE_UPGRADE, &s)) !=
	    Q_OK)
		return fail("creating the store", e);
	if (store_version(s) != STORE_FORMAT_VERSION) {
		fprintf(stderr, "quarryctl: upgrading the store from format "
		    "version %d to %d\n", store_version(s),
		    STORE_FORMAT_VERSION);
		if ((e = model_upgrade(s, &njobs)) != Q_OK) {
			store_close(s);
			return fail("upgrading the store", e);
		}
		fprintf(stderr, "quarryctl: %u jobs indexed\n", njobs);
	}
	store_close(s);
	if ((e = link_key_ensure(&c->conf)) != Q_OK)
		return fail("making the key of the signed download links", e);
	fprintf(stderr, "quarryctl: store ready in %s\n", c->conf.db_dir);
	return 0;
}

/* quarryctl link-key rotate: signed download links made before stop. */
int
cmd_link_key(struct ctl *c, int argc, char **argv)
{
	enum qerr e;

	if (argc != 2 || strcmp(argv[1], "rotate") != 0)
		return 2;
	if ((e = link_key_create(&c->conf)) != Q_OK)
		return fail("making a new link key", e);
	printf("a new key signs the download links; the links made before "
	    "no longer work\n");
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

/* A token (arg NULL) or a web user (arg non-NULL) of a listing. */
static int
print_token(const struct token *t, void *arg)
{
	char	created[RFC3339_LEN], expires[RFC3339_LEN];
	const char *status;

	if (token_is_user(t) != (arg != NULL))
		return 0;
	if (arg != NULL) {
		print_time(t->created, created);
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", t->name, t->tenant,
		    role_name(t->role), t->id, created,
		    t->revoked ? "removed" : "active");
		return 0;
	}
	print_time(t->created, created);
	print_time(t->expires, expires);
	status = t->revoked ? "revoked" : (t->expires != 0 &&
	    t->expires <= q_seams.now()) ? "expired" : "active";
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t->id, t->tenant,
	    role_name(t->role), t->name, created, expires, status);
	return 0;
}

/*
 * The --tenant and --role of token create and user add, checked: 0, or
 * 2 (usage) with a message.
 */
static int
tenant_role(const struct opts *o, enum role *role)
{
	if (strcmp(o->role, "admin") == 0)
		*role = ROLE_ADMIN;
	else if (strcmp(o->role, "user") == 0)
		*role = ROLE_USER;
	else {
		fprintf(stderr, "quarryctl: --role is admin or user\n");
		return 2;
	}
	if (!name_valid(o->tenant)) {
		fprintf(stderr, "quarryctl: a tenant is 1 to 32 of "
		    "a-z, 0-9, '_' and '-'\n");
		return 2;
	}
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
		if (o.tenant == NULL || o.role == NULL || o.npos != 0 ||
		    tenant_role(&o, &role) != 0)
			return 2;
		if (o.expires != NULL && (duration_parse(o.expires, &ttl) != 0 ||
		    ttl == 0)) {
			fprintf(stderr, "quarryctl: --expires takes a duration "
			    "such as 30d or 12h\n");
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

/* user add NAME --tenant T --role R | user list [--tenant T] |
 * user remove NAME: the web server's users (remote_user = on) */
int
cmd_user(struct ctl *c, int argc, char **argv)
{
	struct opts	o;
	struct token	t;
	enum role	role;
	enum qerr	e;
	int		users = 1;

	if (argc < 2 || parse_opts(argc - 1, argv + 1, &o) != 0)
		return 2;
	if (strcmp(argv[1], "add") == 0) {
		if (o.tenant == NULL || o.role == NULL || o.npos != 1 ||
		    tenant_role(&o, &role) != 0)
			return 2;
		if (!user_name_valid(o.pos[0])) {
			fprintf(stderr, "quarryctl: a user name is 1 to %d "
			    "bytes of UTF-8 text without control characters\n",
			    NAME_MAX_LEN);
			return 2;
		}
		e = user_add(ctl_store(c), o.pos[0], o.tenant, role, &t);
		if (e == Q_EXISTS) {
			fprintf(stderr, "quarryctl: %s is mapped already (user "
			    "remove it first to change it)\n", o.pos[0]);
			return 1;
		}
		if (e != Q_OK)
			return fail("adding the user", e);
		printf("%s\n", t.id);
		return 0;
	}
	if (strcmp(argv[1], "list") == 0) {
		if (o.npos != 0)
			return 2;
		e = token_list(ctl_store(c), o.tenant, print_token, &users);
		return e == Q_OK ? 0 : fail("listing users", e);
	}
	if (strcmp(argv[1], "remove") == 0) {
		if (o.npos != 1)
			return 2;
		e = user_remove(ctl_store(c), o.pos[0]);
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
	struct opts		 o;
	struct definition	 d;
	struct refusal		 why;
	struct caller		 who;
	struct json_object	*doc;
	struct buf		 b = BUF_INIT;
	char			 err[512], t1[RFC3339_LEN], t2[RFC3339_LEN];
	enum qerr		 e;

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
		e = json_parse_strict(buf_str(&b), b.len, &doc, err,
		    sizeof(err));
		buf_free(&b);
		if (e != Q_OK) {
			fprintf(stderr, "quarryctl: %s: %s\n", o.pos[0], err);
			return 1;
		}
		e = definition_create(ctl_store(c), &c->who, doc, &d, &why);
		json_object_put(doc);
		if (e == Q_INVALID) {
			fprintf(stderr, "quarryctl: %s: %s\n", o.pos[0],
			    why.msg);
			return 1;
		}
		if (e == Q_OK)
			printf("%s\n", d.id);
		definition_free(&d);
		return e == Q_OK ? 0 : fail("adding the definition", e);
	}
	if (strcmp(argv[1], "list") == 0) {
		if (o.npos != 0)
			return 2;
		caller_system(&who, o.tenant);
		e = definition_list(ctl_store(c), &who, print_definition, NULL);
		return e == Q_OK ? 0 : fail("listing definitions", e);
	}
	if (strcmp(argv[1], "check") == 0) {
		if (o.npos != 1)
			return 2;
		return ctl_definition_check(c, o.pos[0]);
	}
	if (strcmp(argv[1], "show") == 0) {
		if (o.npos != 1)
			return 2;
		if ((e = definition_get(ctl_store(c), &c->who, o.pos[0], &d)) !=
		    Q_OK)
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
		e = definition_delete(ctl_store(c), &c->who, o.pos[0]);
		if (e == Q_EXISTS) {
			fprintf(stderr, "quarryctl: %s has an active job\n",
			    o.pos[0]);
			return 1;
		}
		return e == Q_OK ? 0 : fail(o.pos[0], e);
	}
	return 2;
}

static int
print_job(const struct job *j, void *arg)
{
	char created[RFC3339_LEN];

	(void)arg;
	time_rfc3339(j->created, created);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%llu\t%s\n", j->id, j->tenant,
	    j->def_id, job_state_name(j->state), fmt_name(j->format), created,
	    (unsigned long long)j->rows, j->detail ? j->detail : "");
	return VISIT_NEXT;
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
	    "worker: %d\ndetail: %s\n", j->attempts,
	    (unsigned long long)j->rows, (unsigned long long)j->bytes,
	    j->file[0] ? j->file : "-",
	    j->state == JS_RUNNING ? (int)j->worker_pid : 0,
	    j->detail ? j->detail : "");
}

/*
 * job cancel|approve|reject|requeue ID: one action, printing the job's
 * new state (the model wakes the scheduler for a job that became
 * queued).
 */
static int
job_action(struct ctl *c, const char *what, const struct opts *o)
{
	struct job	 j;
	enum qerr	 e;

	if (o->npos != 1 || (o->reason != NULL && strcmp(what, "reject") != 0))
		return 2;
	if (strcmp(what, "cancel") == 0)
		e = job_cancel(ctl_store(c), &c->who, o->pos[0], &j, NULL);
	else if (strcmp(what, "approve") == 0)
		e = job_approve(ctl_store(c), &c->who, o->pos[0], &j);
	else if (strcmp(what, "reject") == 0)
		e = job_reject(ctl_store(c), &c->who, o->pos[0], o->reason,
		    &j);
	else if (strcmp(what, "requeue") == 0)
		e = job_requeue(ctl_store(c), &c->who, o->pos[0], &j);
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
	job_free(&j);
	return 0;
}

/* job list | show, and the actions */
int
cmd_job(struct ctl *c, int argc, char **argv)
{
	struct opts		o;
	struct job_query	q;
	struct caller		who;
	struct job		j;
	enum job_state		st;
	enum qerr		e;

	if (argc < 2 || parse_opts(argc - 1, argv + 1, &o) != 0)
		return 2;
	if (strcmp(argv[1], "list") == 0) {
		if (o.npos != 0)
			return 2;
		memset(&q, 0, sizeof(q));
		if (o.state != NULL) {
			if (job_state_parse(o.state, &st) != 0) {
				fprintf(stderr, "quarryctl: unknown state "
				    "'%s'\n", o.state);
				return 2;
			}
			q.states = 1u << st;
		}
		caller_system(&who, o.tenant);
		e = job_list(ctl_store(c), &who, &q, print_job, NULL);
		return e == Q_OK ? 0 : fail("listing jobs", e);
	}
	if (strcmp(argv[1], "show") == 0) {
		if (o.npos != 1)
			return 2;
		if ((e = job_get(ctl_store(c), &c->who, o.pos[0], &j)) != Q_OK)
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
	long long	 start, last;	/* mono_ms() */
};

static volatile sig_atomic_t export_stop;

static void
on_stop_signal(int sig)
{
	export_stop = sig;
}

static int
progress(void *arg, uint64_t rows, uint64_t bytes, int permille)
{
	struct bar	*b = arg;
	long long	 now;
	double		 t;

	(void)permille;		/* the bar shows rows and bytes */
	if (export_stop)
		return 1;
	if (!b->tty)
		return 0;
	now = mono_ms();
	if (now - b->last < 200)
		return 0;
	b->last = now;
	t = (double)(now - b->start) / 1000;
	fprintf(stderr, "\r\033[K%llu rows, %.1f MB, %.1f s, %.0f rows/s",
	    (unsigned long long)rows, (double)bytes / 1e6, t,
	    t > 0 ? (double)rows / t : 0.0);
	return 0;
}

/*
 * The directory of path into dir: "." for a bare name.  -1 if too long.
 */
static int
dir_of(const char *path, char *dir, size_t len)
{
	const char	*slash = strrchr(path, '/');
	int		 n;

	if (slash == NULL)
		n = snprintf(dir, len, ".");
	else if (slash == path)
		n = snprintf(dir, len, "/");
	else
		n = snprintf(dir, len, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * export DEF [--param k=v]... [--format F] --out FILE: builds the export
 * synchronously through build_file, the code the workers run, with the
 * parameters and format checked by the model as for a job.  FILE appears
 * whole or not at all: the build goes to temporary files beside it
 * (named after a random id), fsync'ed and renamed over FILE, and the
 * directory fsync'ed.  With the definition's rows_per_file, FILE is the
 * zip of parts a job would get.  Progress is shown only when stderr is a
 * terminal.
 */
int
cmd_export(struct ctl *c, int argc, char **argv)
{
	struct opts		 o;
	struct definition	 d;
	struct json_object	*given = NULL;
	struct buf		 canon = BUF_INIT;
	struct export_request	 rq;
	struct export_spec	 x;
	struct build_result	 res;
	struct refusal		 why;
	enum fmt		 f;
	struct bar		 bar;
	struct sigaction	 sa, old_int, old_term, old_hup;
	char			 dir[PATH_MAX], stem[ID_LEN + 1], *eq;
	size_t			 i;
	int			 rc = 1, handlers = 0;
	enum qerr		 e;

	memset(&d, 0, sizeof(d));
	memset(&rq, 0, sizeof(rq));
	if (parse_opts(argc, argv, &o) != 0 || o.npos != 1 || o.out == NULL ||
	    o.out[0] == '\0')
		return 2;
	if ((given = json_object_new_object()) == NULL)
		return fail("export", Q_NOMEM);
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
	rq.def_id = o.pos[0];
	rq.params = given;
	rq.format = o.format;
	e = export_request_check(ctl_store(c), &c->who, &rq, &d, &canon, &f,
	    &why);
	if (e == Q_NOTFOUND && why.input == IN_DEFINITION) {
		fail(o.pos[0], e);
		goto out;
	}
	if (e != Q_OK) {
		fprintf(stderr, "quarryctl: %s\n", why.msg[0] ? why.msg :
		    qerr_str(e));
		goto out;
	}
	x.d = &d;
	x.params = buf_str(&canon);
	x.format = f;
	if (dir_of(o.out, dir, sizeof(dir)) != 0 ||
	    (e = id_new(stem)) != Q_OK) {
		fprintf(stderr, "quarryctl: %s: name too long\n", o.out);
		goto out;
	}
	/* From here a signal stops the build, so the temporaries go. */
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
	bar.start = bar.last = mono_ms();
	e = build_file(ctl_store(c), &c->conf, &x, dir, stem, o.out, 0666,
	    progress, &bar, &res);
	if (bar.tty)
		fputs("\r\033[K", stderr);
	if (e != Q_OK) {
		if (export_stop)
			fprintf(stderr, "quarryctl: export interrupted; %s "
			    "left as it was\n", o.out);
		else
			fprintf(stderr, "quarryctl: export failed: %s\n",
			    res.detail[0] ? res.detail : qerr_str(e));
		rc = export_stop ? 128 + export_stop : 1;
		goto out;
	}
	if (bar.tty)
		fprintf(stderr, "%llu rows, %llu bytes written to %s\n",
		    (unsigned long long)res.rows,
		    (unsigned long long)res.bytes, o.out);
	rc = 0;
out:
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
