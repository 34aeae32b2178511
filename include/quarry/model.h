/*
 * The model: tokens, datasets, definitions and jobs, and the operations
 * the programs perform on them.  Every operation is one store transaction;
 * none knows about HTTP.
 *
 * Every operation a request or a command can reach takes the caller (a
 * struct caller) and decides there, once, what that caller may see and
 * do: what it may not see answers Q_NOTFOUND, exactly as what does not
 * exist, so no program can forget a check.
 */
#ifndef QUARRY_MODEL_H
#define QUARRY_MODEL_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "quarry/buf.h"
#include "quarry/error.h"
#include "quarry/store.h"
#include "quarry/util.h"

struct json_object;

#define TENANT_MAX	33	/* 32 + NUL */
#define NAME_MAX_LEN	200	/* definition and token display names */

/* ---- tokens ---- */

enum role { ROLE_USER = 0, ROLE_ADMIN = 1 };

struct token {
	char	 id[ID_LEN + 1];	/* public handle, for list/revoke */
	char	 tenant[TENANT_MAX];
	enum role role;
	char	 name[NAME_MAX_LEN + 1];
	char	 hash[65];		/* SHA-256 hex of the secret */
	time_t	 created;
	time_t	 expires;		/* 0 = never */
	int	 revoked;
};

/* The secret is 32 random bytes, hex-encoded: 64 chars. */
#define TOKEN_SECRET_LEN 64

/* Creates a token; writes its secret (shown once) and record. */
enum qerr token_create(struct store *s, const char *tenant, enum role role,
	      const char *name, long long ttl_seconds,
	      char secret[TOKEN_SECRET_LEN + 1], struct token *out);
/* Finds the live token for a secret: Q_FORBIDDEN if unknown, expired
 * or revoked. */
enum qerr token_auth(struct store *s, const char *secret, struct token *out);
enum qerr token_revoke(struct store *s, const char *id);
typedef int (*token_cb)(const struct token *t, void *arg);
enum qerr token_list(struct store *s, const char *tenant, token_cb cb,
	      void *arg);
const char *role_name(enum role r);

/*
 * Web users (config remote_user = on): the names a web server signs
 * people in with, each mapped to a tenant and a role.  Kept as a token
 * record whose key is derived from the name (no secret can have it), so
 * everything a token's caller is and may do, a web user's is too; the
 * record's id is its principal.  token_is_user tells them apart (token
 * list shows tokens only, user list web users only).
 */
int	 token_is_user(const struct token *t);
/* True if name may be a web user's: 1-200 bytes of text, no control. */
int	 user_name_valid(const char *name);
/* Maps name; Q_EXISTS if it is mapped already, Q_INVALID for a bad name
 * or tenant.  A removed name may be mapped again (a new record). */
enum qerr user_add(struct store *s, const char *name, const char *tenant,
	      enum role role, struct token *out);
/* The live mapping of name; Q_FORBIDDEN if there is none. */
enum qerr user_auth(struct store *s, const char *name, struct token *out);
/* Removes (revokes) the mapping of name; Q_NOTFOUND if there is none. */
enum qerr user_remove(struct store *s, const char *name);

/* ---- callers ---- */

/*
 * Who asks.  A token caller acts in its tenant: an admin on everything
 * there, a user on its tenant's definitions (read only) and its own jobs.
 * The system caller (quarryctl, quarryd) acts as an admin of every
 * tenant, or of one tenant when its tenant is set.  A zeroed caller
 * (CALLER_NONE, one nobody authenticated) sees nothing.
 */
enum caller_kind { CALLER_NONE = 0, CALLER_TOKEN, CALLER_SYSTEM };

/* A principal: a token's id (other kinds of identity may come). */
#define PRINCIPAL_MAX	(ID_LEN + 1)

struct caller {
	enum caller_kind kind;
	char	 tenant[TENANT_MAX];	/* "" = every tenant (system only) */
	char	 principal[PRINCIPAL_MAX]; /* the token's id; "" for system */
	enum role role;
	/* for the audit trail: the token's name (the program's for the
	   system), and where the request came from ("" if not a request) */
	char	 name[NAME_MAX_LEN + 1];
	char	 addr[48];
};

/* The system caller: of every tenant (tenant NULL or ""), or of one. */
void	 caller_system(struct caller *c, const char *tenant);
/* The caller a live token authenticates. */
void	 caller_of_token(struct caller *c, const struct token *t);
/* True if c acts as an admin (a token of role admin, or the system). */
int	 caller_is_admin(const struct caller *c);
/* True if c may see what belongs to tenant. */
int	 caller_sees_tenant(const struct caller *c, const char *tenant);

/*
 * Why the model refused a request's input: which input, the member
 * within it (a parameter's name, a definition document's "columns[2]"),
 * and a message.  Each dialect names the input in its own words.
 */
enum input {
	IN_NONE,	/* the request as a whole */
	IN_DEFINITION,	/* the definition a job is asked of */
	IN_FORMAT,	/* the output format */
	IN_PARAMETERS,	/* a job's parameters; member names one */
	IN_DOCUMENT	/* a definition document; member is the path */
};

struct refusal {
	enum input	 input;
	char		 member[128];
	char		 msg[300];
};

/* ---- datasets ---- */

#define DATASET_MAX_COLUMNS 1024

struct dataset {
	char	 tenant[TENANT_MAX];
	char	 name[TENANT_MAX];
	char	 uid[ID_LEN + 1];	/* key prefix of its rows */
	char	**columns;
	size_t	 ncolumns;
	uint64_t nrows;
	time_t	 created;
};

void	 dataset_free(struct dataset *d);
/*
 * Imports CSV (header row first) as dataset tenant/name.  Nothing is
 * visible until the whole file is read: a malformed file imports nothing
 * and err says the line.  Q_EXISTS if the name is taken and !replace.
 */
enum qerr dataset_import(struct store *s, const char *tenant,
	      const char *name, FILE *in, int replace, char *err,
	      size_t errlen);
enum qerr dataset_get(struct store *s, const char *tenant, const char *name,
	      struct dataset *out);
enum qerr dataset_rm(struct store *s, const char *tenant, const char *name);
typedef int (*dataset_cb)(const struct dataset *d, void *arg);
enum qerr dataset_list(struct store *s, const char *tenant, dataset_cb cb,
	      void *arg);
/* Calls fn with each row's fields in order; fn returns a VISIT_ value
 * or a qerr (see error.h). */
typedef int (*row_cb)(const char *const *fields, const size_t *lens,
	      size_t n, void *arg);
enum qerr dataset_scan(struct store *s, const struct dataset *d, row_cb fn,
	      void *arg);

/* ---- definitions ---- */

enum ptype { PT_STRING, PT_INT, PT_DECIMAL, PT_DATE, PT_DATETIME };
enum fop { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_PREFIX };
enum fmt { FMT_CSV, FMT_TSV, FMT_JSON, FMT_XML, FMT_COUNT };

struct param_decl {
	char	*name;
	enum ptype type;
	int	 required;
};

struct filter {
	char	*column;
	enum fop op;
	char	*param;
};

struct definition {
	char	 id[ID_LEN + 1];
	char	 tenant[TENANT_MAX];
	char	*name;
	char	*description;
	char	*dataset;		/* source: a dataset, or */
	char	*command;		/* source: an extractor program, or */
	char	*database;		/* source: a configured SQL database */
	char	*query;			/*   and its query (docs/sources.md) */
	char	**args;
	size_t	 nargs;
	char	**columns;		/* empty = every column of the source */
	size_t	 ncolumns;
	struct param_decl *params;
	size_t	 nparams;
	struct filter *filters;
	size_t	 nfilters;
	enum fmt formats[FMT_COUNT];	/* allowed, the first is the default */
	size_t	 nformats;
	int	 approval;
	int	 formula_guard;
	int	 expire_after_download;	/* OSDI: a whole download expires */
	long long retention;		/* seconds */
	uint64_t rows_per_file;		/* 0 = one file */
	time_t	 created;
	time_t	 modified;
	char	*doc;			/* the stored JSON document */
};

void	 definition_free(struct definition *d);
/*
 * True if s may name an extractor program: a plain file name in the
 * extractors directory (1-64 of letters, digits, '_', '-' and '.', not
 * starting with '.'), so never a path.
 */
int	 command_name_valid(const char *s);
/*
 * Parses and validates a definition document (its "tenant" required).
 * On Q_INVALID, field names the offending member ("columns[2]") and err
 * says why.
 */
enum qerr definition_parse(const char *json, size_t len,
	      struct definition *out, char *field, size_t fieldlen, char *err,
	      size_t errlen);
/*
 * The same from a parsed document; a missing "tenant" is tenant (NULL:
 * required).  A member "id" is ignored (a document read back from the
 * model may be sent again).  On Q_INVALID, why says what and where.
 */
enum qerr definition_from_json(struct json_object *doc, const char *tenant,
	      struct definition *out, struct refusal *why);
struct sql_text;
struct db_conf;
struct conf;
/*
 * A SQL source's query checked against the configuration: its database
 * is configured (*db), the query is one statement in that database's
 * dialect (scanned into t), and every placeholder names a declared
 * parameter.  Q_INVALID with why (member "source.database" or
 * "source.query") otherwise.  Definitions are checked so when created
 * or replaced, and again by every build.
 */
enum qerr definition_sql(const struct conf *c, const struct definition *d,
	      const struct db_conf **db, struct sql_text *t,
	      struct refusal *why);
/*
 * Loads definition id if who may see it (its tenant's); Q_NOTFOUND for
 * a malformed id, a missing definition or another tenant's, alike.
 */
enum qerr definition_get(struct store *s, const struct caller *who,
	      const char *id, struct definition *out);
typedef int (*definition_cb)(const struct definition *d, void *arg);
/* Calls cb with each definition who may see (a VISIT_ value or a qerr). */
enum qerr definition_list(struct store *s, const struct caller *who,
	      definition_cb cb, void *arg);
/*
 * Creates a definition from doc (a missing "tenant" is who's) under a new
 * id; out is the stored definition.  Q_FORBIDDEN unless who is an admin;
 * Q_INVALID with why for a bad document or another tenant.
 */
enum qerr definition_create(struct store *s, const struct caller *who,
	      struct json_object *doc, struct definition *out,
	      struct refusal *why);
/*
 * Replaces definition id by doc (jobs keep pointing at it; created is
 * kept, modified set).  Q_FORBIDDEN unless who is an admin, Q_NOTFOUND
 * if who may not see it, Q_INVALID with why for a bad document.
 */
enum qerr definition_replace(struct store *s, const struct caller *who,
	      const char *id, struct json_object *doc, struct definition *out,
	      struct refusal *why);
/*
 * Deletes definition id: Q_FORBIDDEN unless who is an admin, Q_NOTFOUND
 * if who may not see it, Q_EXISTS while it has an active job.
 */
enum qerr definition_delete(struct store *s, const struct caller *who,
	      const char *id);
/*
 * The format of d called name (NULL: d's default, its first); -1 if d
 * does not offer it.
 */
int	 definition_format(const struct definition *d, const char *name,
	     enum fmt *out);
const char *fmt_name(enum fmt f);
int	 fmt_parse(const char *s, enum fmt *out);

/* ---- jobs ---- */

enum job_state {
	JS_PENDING_APPROVAL, JS_QUEUED, JS_RUNNING, JS_COMPLETED, JS_FAILED,
	JS_REJECTED, JS_CANCELLED, JS_EXPIRED, JS_NSTATES
};

/* The longest name of a job's file in files_dir, with its NUL. */
#define JOB_FILE_MAX	64

struct job {
	char	 id[ID_LEN + 1];
	char	 tenant[TENANT_MAX];
	char	 def_id[ID_LEN + 1];
	char	 owner[ID_LEN + 1];	/* token id of the creator */
	enum job_state state;
	enum fmt format;
	char	*params;		/* canonical JSON object */
	uint64_t seq;			/* creation order */
	time_t	 created;
	time_t	 updated;		/* last state change */
	time_t	 started;		/* 0 until claimed */
	time_t	 finished;		/* 0 until finished */
	time_t	 expires;		/* file expiry; 0 until completed */
	time_t	 lease_until;		/* while running */
	uint32_t attempts;
	uint64_t rows;
	uint64_t bytes;
	char	*detail;		/* reason of a failure, rejection */
	char	*name;			/* given at creation, else the def's */
	time_t	 approved;		/* 0 unless approved by an admin */
	time_t	 not_before;		/* queued: not claimed before (back-off) */
	char	 file[JOB_FILE_MAX];	/* name in files_dir, "" if none */
	uint64_t file_size;
	int32_t	 worker_pid;
	int	 keyed_by_owner;	/* its active key holds its owner: a
					   user's job (see job_create) */
	int	 read_pm;		/* running: 1 + the share of the
					   source read in 1/1000 (1..1001);
					   0 unknown */
};

void	 job_free(struct job *j);
const char *job_state_name(enum job_state s);
int	 job_state_parse(const char *s, enum job_state *out);
/* True while a job holds its active key (the 409 rule). */
int	 job_state_active(enum job_state s);
int	 job_state_finished(enum job_state s);
/* The state machine of SPEC section 2. */
int	 job_transition_allowed(enum job_state from, enum job_state to);

/* True if who may see job j: its tenant's admin, or its owner. */
int	 caller_sees_job(const struct caller *who, const struct job *j);

/* What a job is made of: a definition, parameters, a format, a name. */
struct export_request {
	const char		*def_id;
	struct json_object	*params;	/* as given; NULL for none */
	const char		*format;	/* NULL: the definition's first */
	const char		*name;		/* NULL: the definition's name */
};

/*
 * Checks an export request for who: loads its definition into d
 * (Q_NOTFOUND, why->input IN_DEFINITION, if who may not see it), picks
 * the format (Q_INVALID, IN_FORMAT, if d does not offer it) and writes
 * the parameters' canonical form into canon (Q_INVALID, IN_PARAMETERS,
 * with the parameter in why->member).  What job_create and 'quarryctl
 * export' do before anything else.
 */
enum qerr export_request_check(struct store *s, const struct caller *who,
	      const struct export_request *rq, struct definition *d,
	      struct buf *canon, enum fmt *format, struct refusal *why);

/*
 * Creates a job of rq for who (its owner), checked as
 * export_request_check does; pending approval if the definition asks for
 * it, else queued (and the scheduler is woken).  Durable on Q_OK.
 *
 * The duplicate rule: a job is refused (Q_EXISTS, existing = the active
 * job) while an equal job (same definition, canonical parameters and
 * format) is active that the caller can see: a user's own, or for an
 * admin (or the system) any of the tenant's.  So a 409 always points at
 * a job its caller can see; two users of a tenant may each have one.
 */
enum qerr job_create(struct store *s, const struct caller *who,
	      const struct export_request *rq, struct job *out,
	      char existing[ID_LEN + 1], struct refusal *why);
/* Loads job id if who may see it; Q_NOTFOUND otherwise, as if missing. */
enum qerr job_get(struct store *s, const struct caller *who, const char *id,
	      struct job *out);
/*
 * The poll's read: authenticates the token secret and loads job id as
 * that caller, both in one read transaction (one snapshot, one begin and
 * commit).  Q_FORBIDDEN if the token is unknown, expired or revoked
 * (*who left CALLER_NONE); otherwise *who is the token's caller and the
 * result is job_get's.
 */
enum qerr job_get_by_token(struct store *s, const char *secret,
	      const char *id, struct caller *who, struct job *out);

typedef int (*job_cb)(const struct job *j, void *arg);

/* Which jobs a listing gives (all zero: every job the caller may see). */
struct job_query {
	const char	*def_id;	/* of this definition only */
	unsigned	 states;	/* bit 1 << state; 0 = every state */
	uint64_t	 before;	/* only jobs created before seq; 0 = all */
	size_t		 offset;	/* skip this many first */
	size_t		 limit;		/* at most this many; 0 = no limit */
};

/*
 * Calls cb with each job who may see that q selects, newest first.  With
 * q->def_id, Q_NOTFOUND if who may not see that definition.  A page of
 * an admin's listing of the tenant, of one definition or of some states,
 * and of a user's own jobs, costs the same however many jobs are kept
 * (indexes by tenant, definition, state and owner); a user's listing by
 * definition or state reads the user's own jobs.
 */
enum qerr job_list(struct store *s, const struct caller *who,
	      const struct job_query *q, job_cb cb, void *arg);
/*
 * How many jobs who may see: an admin's tenant's, a user's own (counts
 * kept with the jobs, so without reading them); 0 for the system caller
 * of every tenant.
 */
enum qerr job_count(struct store *s, const struct caller *who, uint64_t *n);

/*
 * The actions on one job.  Each answers Q_NOTFOUND for a job who may not
 * see, and Q_STATE when the job's state does not allow it; out is the
 * job afterwards (empty when the action was refused).
 *
 * job_cancel: a pending, queued or running job is cancelled (a running
 * build notices at its next progress report and stops); before says the
 * state it was in.
 */
enum qerr job_cancel(struct store *s, const struct caller *who,
	      const char *id, struct job *out, enum job_state *before);
/* pending_approval -> queued (admins only: else Q_FORBIDDEN). */
enum qerr job_approve(struct store *s, const struct caller *who,
	      const char *id, struct job *out);
/* pending_approval -> rejected with reason as detail (admins only). */
enum qerr job_reject(struct store *s, const struct caller *who,
	      const char *id, const char *reason, struct job *out);
/*
 * failed or cancelled -> queued with its attempts reset, an admin's
 * retry (admins only).  Q_EXISTS if an equal job is active meanwhile.
 */
enum qerr job_requeue(struct store *s, const struct caller *who,
	      const char *id, struct job *out);

/* What deleting a job did (see job_delete). */
enum job_deleted {
	JOB_STOPPING,		/* it was running: cancelled, stops within a s */
	JOB_CANCELLED,		/* it was waiting: cancelled */
	JOB_FILE_DELETED,	/* it was completed: expired, file deleted */
	JOB_UNCHANGED		/* it was finished without a file: nothing */
};

/*
 * The one delete rule of every dialect: an active job is cancelled, a
 * completed one's file is deleted (the job expires), any other is left
 * as it is; how says which.
 */
enum qerr job_delete(struct store *s, const struct caller *who,
	      const char *id, struct job *out, enum job_deleted *how);

/* A job's file, opened for download. */
struct job_file {
	int		 fd;		/* -1 when not opened */
	char		 path[PATH_MAX];
	int		 zip;		/* a split build: a zip of parts */
	enum fmt	 format;
	char		 name[200];	/* a safe name for the download */
	char		 def_id[ID_LEN + 1];	/* of the job, once seen */
	char		 id[ID_LEN + 1];
	char		 file[JOB_FILE_MAX];	/* its name in files_dir */
	char		 why[200];	/* why there is no file */
	/* the definition expires the job once its file is served whole */
	int		 expire_after_download;
};

/*
 * Opens the file of job id for who: Q_NOTFOUND if who may not see the
 * job or it has no file yet (why says its state), Q_GONE once it expired
 * or its file is missing.  The download name is the definition's name
 * made safe, the finish date and the extension.  def_id is set whenever
 * who may see the job.  Close with job_file_close.
 */
enum qerr job_file_open(struct store *s, const struct caller *who,
	      const char *id, struct job_file *out);
void	 job_file_close(struct job_file *f);
/*
 * Expires the job of f once its file was served whole, when its
 * definition says expire_after_download: the job becomes expired (its
 * file is deleted, later downloads answer 410), as the retention sweep
 * would expire it.  A job no longer completed with that file is left as
 * it is.
 */
enum qerr job_downloaded(struct store *s, const struct caller *who,
	      const struct job_file *f);
/*
 * Expires a completed job now, with detail as its reason (its file, if
 * any is left, is deleted); an admin's.  A job in any other state is
 * left as it is.  For a backup whose copy knows a file that expired
 * while it was made.
 */
enum qerr job_expire(struct store *s, const struct caller *who,
	      const char *id, const char *detail);

/* ---- the queue: the scheduler's side (queue.c) ---- */

/*
 * Claims a queued job for worker pid: running, lease set, attempts
 * raised.  Fair across tenants: the tenants with a job due (not_before
 * passed) take turns in name order, each giving its oldest due job.
 * Q_NOTFOUND when no queued job is due; then out->not_before is the
 * time the first waiting one will be (0 if the queue is empty).
 */
enum qerr job_claim(struct store *s, int32_t pid, int lease_seconds,
	      struct job *out);
/* Renews a running job's lease and stores progress (permille: the share
 * of the source read, -1 unknown); Q_STATE if the job is no longer
 * running (cancelled). */
enum qerr job_progress(struct store *s, const char *id, int32_t pid,
	      int lease_seconds, uint64_t rows, uint64_t bytes, int permille);
/* A running job's build ended well: completed with its file. */
enum qerr job_complete(struct store *s, const char *id, int32_t pid,
	      const char *file, uint64_t size, uint64_t rows,
	      long long retention);
/*
 * A running job's build failed.  If retry and attempts < max_attempts
 * it goes back to queued, not to be claimed before job_backoff(backoff,
 * attempts) seconds from now (its detail says why and when); else it
 * fails with detail.
 */
enum qerr job_fail(struct store *s, const char *id, int32_t pid,
	      const char *detail, int retry, int max_attempts, int backoff);
/*
 * The wait before the next attempt of a job that has made `attempts`
 * attempts: base * 2^(attempts-1) seconds, at most JOB_BACKOFF_MAX (or
 * base, if larger); 0 if base is 0.
 */
#define JOB_BACKOFF_MAX 3600
long long job_backoff(int base, uint32_t attempts);
/*
 * Puts back every running job whose lease ran out (all running jobs if
 * all), failing those that used their attempts; the requeued wait
 * job_backoff(backoff, attempts).  Jobs held by one of the nlive pids in
 * live (the caller's own workers, which it watches itself) are left
 * alone.  Counts the jobs moved in *n.
 */
enum qerr job_requeue_stale(struct store *s, int all, int max_attempts,
	      int backoff, const int32_t *live, size_t nlive, unsigned *n);

/* ---- checking the store (verify.c) ---- */

struct verify_result {
	unsigned long long	 records, entries, files;
	unsigned		 problems, mended;
};
typedef void (*verify_say)(void *arg, const char *line);
/*
 * Checks a store while it is in use (quarryctl verify): every record
 * decodes; the indexes (listing, queue, active keys, job counts) agree
 * with the job records; every completed, unexpired job's file exists
 * with its recorded size; no file without a job; no temporary file of a
 * build that is not running.  Each problem is said once, as a line,
 * after a transaction of its own confirmed it; with repair it is mended
 * there (stray entries deleted, missing ones written, counts set, jobs
 * whose file is gone expired, orphan and stale files removed).
 */
enum qerr store_verify(struct store *s, int repair, verify_say say,
	      void *arg, struct verify_result *res);

/* ---- signed download links (links.c) ---- */

#define LINK_SIG_LEN	64	/* hex of HMAC-SHA256 */
/* Makes the key of the signed links (replacing any: quarryctl rotate). */
enum qerr link_key_create(const struct conf *c);
/* Makes the key if there is none (quarryctl init). */
enum qerr link_key_ensure(const struct conf *c);
/*
 * The signature of a link to job's file for the token principal, valid
 * until expires; Q_NOTFOUND if the store has no key.
 */
enum qerr link_sign(const struct conf *c, const char *job,
	      const char *principal, long long expires,
	      char sig[LINK_SIG_LEN + 1]);
/*
 * Checks a link: Q_FORBIDDEN if sig is not the link's signature (under
 * the current key), Q_TIMEOUT if it has expired, else Q_OK.
 */
enum qerr link_check(const struct conf *c, const char *job,
	      const char *principal, long long expires, const char *sig);
/* A live token by its id (not revoked, not expired); Q_NOTFOUND. */
enum qerr token_get_live(struct store *s, const char *id, struct token *out);
/*
 * The name of token id ("" if it has none) into name, if who may see
 * the token: its tenant's admin, or the token itself.  A revoked or
 * expired token keeps its name.  Q_NOTFOUND for a token who may not
 * see, or that is not in the store, alike.
 */
enum qerr token_name(struct store *s, const struct caller *who,
	      const char *id, char name[NAME_MAX_LEN + 1]);

/* ---- the audit trail (audit.c) ---- */

struct audit_entry {
	uint64_t	 time_us;		/* microseconds since 1970 */
	char		 tenant[TENANT_MAX];
	char		 principal[PRINCIPAL_MAX];
	char		 name[NAME_MAX_LEN + 1];
	char		 role[8];		/* admin, user, system, "" */
	char		 addr[48];
	char		 action[32];		/* "job.create", … */
	char		 kind[16];		/* job, definition, token */
	char		 id[ID_LEN + 1];
	char		 detail[256];
};
typedef int (*audit_fn)(const struct audit_entry *a, void *arg);
/*
 * Writes who did action to the resource kind/id (detail: anything more)
 * in tx: the record commits exactly when the change does.
 */
enum qerr audit_write(struct stx *tx, const struct caller *who,
	      const char *action, const char *kind, const char *id,
	      const char *detail);
/*
 * The same in a transaction of its own, for what changes nothing in the
 * store (a download, a refused authentication); a failure is logged.
 */
enum qerr audit_record(struct store *s, const struct caller *who,
	      const char *action, const char *kind, const char *id,
	      const char *detail);
/* Calls fn for each record since `since` (of tenant, if not NULL). */
enum qerr audit_list(struct store *s, const char *tenant, time_t since,
	      audit_fn fn, void *arg);
/* Deletes the records older than before; how many in *n. */
enum qerr audit_purge(struct store *s, time_t before, unsigned *n);

/* ---- figures (stats.c) ---- */

struct stats_tenant {
	char		 tenant[TENANT_MAX];
	uint64_t	 by_state[JS_NSTATES];
};
struct stats_running {
	char		 id[ID_LEN + 1];
	char		 tenant[TENANT_MAX];
	uint64_t	 rows, bytes;
	time_t		 started;
	double		 rows_per_s;	/* since it started */
};
/* What the builds that finished in the last `seconds` did. */
struct stats_window {
	long		 seconds;
	uint64_t	 finished, failed, rows, bytes;
	size_t		 builds_timed;
	double		 build_median, build_p95;	/* seconds */
};
struct stats {
	time_t			 now;
	int			 tenant_only;	/* one tenant's: no store,
						   cache or files figures */
	struct stats_tenant	*tenants;
	size_t			 ntenants;
	uint64_t		 queued;
	time_t			 oldest_queued;	/* its creation; 0: none */
	struct stats_running	*running;
	size_t			 nrunning;
	struct stats_window	 hour, day;
	struct store_sizes	 store;
	uint64_t		 files;
	unsigned long long	 files_bytes;
};
/*
 * The figures of quarryctl stats and of the metrics, from the job records
 * the store keeps and the sizes of its files (one pass, no locks held):
 * of every tenant (tenant NULL), or of one tenant's jobs alone (then
 * without the installation's store, cache and files figures).
 * stats_free releases them.
 */
enum qerr stats_collect(struct store *s, const char *tenant,
	      struct stats *st);
void	 stats_free(struct stats *st);
/*
 * The figures in Prometheus' text exposition format (HELP and TYPE lines,
 * quarry_ names, tenant and state labels), appended to b.
 */
void	 stats_prometheus(const struct stats *st, struct buf *b);

/* ---- upgrades (upgrade.c) ---- */

/*
 * Brings a store of an older format version, opened with STORE_UPGRADE,
 * up to date (quarryctl init): 1 -> 2 builds the listing indexes by
 * owner and by state and the job counts from the job records (*jobs:
 * how many).  Every step is idempotent; the store keeps its old version
 * until all are done.
 */
enum qerr model_upgrade(struct store *s, unsigned *jobs);

/* ---- the sweeps (sweep.c) ---- */

/*
 * The retention sweep: every completed job whose expires time has
 * passed becomes expired and its file in files_dir is deleted.  Counts
 * them in *n.
 */
enum qerr job_expire_due(struct store *s, const char *files_dir,
	      unsigned *n);

/*
 * The history sweep: deletes, with their index entries and files, the
 * finished jobs of each definition beyond its newest keep jobs (of any
 * state) that finished more than history seconds ago.  Counts them in
 * *n.
 */
enum qerr job_purge(struct store *s, const char *files_dir, size_t keep,
	      long long history, unsigned *n);

#endif
