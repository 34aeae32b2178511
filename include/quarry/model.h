/*
 * The model: tokens, datasets, definitions and jobs, and the operations
 * the programs perform on them.  Every operation is one store transaction;
 * none knows about HTTP.
 */
#ifndef QUARRY_MODEL_H
#define QUARRY_MODEL_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "quarry/error.h"
#include "quarry/store.h"
#include "quarry/util.h"

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
/* Calls fn with each row's fields in order; fn returns 0 to go on. */
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
	char	*command;		/* source: an extractor program */
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
	long long retention;		/* seconds */
	uint64_t rows_per_file;		/* 0 = one file */
	time_t	 created;
	time_t	 modified;
	char	*doc;			/* the stored JSON document */
};

void	 definition_free(struct definition *d);
/*
 * Parses and validates a definition document.  On Q_INVALID, field names
 * the offending member ("columns[2]") and err says why.
 */
enum qerr definition_parse(const char *json, size_t len,
	      struct definition *out, char *field, size_t fieldlen, char *err,
	      size_t errlen);
/* Stores a parsed definition under a new id (written into d->id). */
enum qerr definition_add(struct store *s, struct definition *d);
enum qerr definition_get(struct store *s, const char *id,
	      struct definition *out);
/*
 * Replaces definition id with the parsed d (same tenant; jobs keep
 * pointing at it; created is kept, modified set).  Q_NOTFOUND if no
 * definition of d's tenant has that id.
 */
enum qerr definition_update(struct store *s, const char *id,
	      struct definition *d);
/* Q_EXISTS if the definition has an active job. */
enum qerr definition_rm(struct store *s, const char *id);
typedef int (*definition_cb)(const struct definition *d, void *arg);
enum qerr definition_list(struct store *s, const char *tenant,
	      definition_cb cb, void *arg);
const char *fmt_name(enum fmt f);
int	 fmt_parse(const char *s, enum fmt *out);

/* ---- jobs ---- */

enum job_state {
	JS_PENDING_APPROVAL, JS_QUEUED, JS_RUNNING, JS_COMPLETED, JS_FAILED,
	JS_REJECTED, JS_CANCELLED, JS_EXPIRED, JS_NSTATES
};

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
	char	 file[64];		/* name in files_dir, "" if none */
	uint64_t file_size;
	int32_t	 worker_pid;
};

void	 job_free(struct job *j);
const char *job_state_name(enum job_state s);
int	 job_state_parse(const char *s, enum job_state *out);
/* True while a job holds its active key (the 409 rule). */
int	 job_state_active(enum job_state s);
int	 job_state_finished(enum job_state s);
/* The state machine of SPEC section 2. */
int	 job_transition_allowed(enum job_state from, enum job_state to);

/*
 * Creates a job of d (params: canonical JSON object, "{}" for none).  On
 * Q_EXISTS the active job's id is in existing.  Durable on Q_OK.
 */
enum qerr job_create(struct store *s, const struct definition *d,
	      const char *owner, const char *params, enum fmt format,
	      struct job *out, char existing[ID_LEN + 1]);
/* The same, with a display name (NULL = the definition's name). */
enum qerr job_create_named(struct store *s, const struct definition *d,
	      const char *owner, const char *name, const char *params,
	      enum fmt format, struct job *out, char existing[ID_LEN + 1]);
enum qerr job_get(struct store *s, const char *id, struct job *out);
typedef int (*job_cb)(const struct job *j, void *arg);
/* Jobs of a definition, newest first, at most limit (0 = all). */
enum qerr job_list_by_def(struct store *s, const char *def_id, size_t limit,
	      job_cb cb, void *arg);
/* Jobs of a tenant (NULL = all tenants), newest first. */
enum qerr job_list(struct store *s, const char *tenant, job_cb cb,
	      void *arg);

/*
 * Claims a queued job for worker pid: running, lease set, attempts
 * raised.  Fair across tenants: the tenants with a job due (not_before
 * passed) take turns in name order, each giving its oldest due job.
 * Q_NOTFOUND when no queued job is due; then out->not_before is the
 * time the first waiting one will be (0 if the queue is empty).
 */
enum qerr job_claim(struct store *s, int32_t pid, int lease_seconds,
	      struct job *out);
/* Renews a running job's lease and stores progress; Q_STATE if the job
 * is no longer running (cancelled). */
enum qerr job_progress(struct store *s, const char *id, int32_t pid,
	      int lease_seconds, uint64_t rows, uint64_t bytes);
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
 * Cancels a pending, queued or running job (a running build notices at
 * its next progress report and stops).  Q_STATE if it is finished; before
 * says the state it was in.
 */
enum qerr job_cancel(struct store *s, const char *id, struct job *out,
	      enum job_state *before);
/* pending_approval -> queued; Q_STATE in any other state. */
enum qerr job_approve(struct store *s, const char *id, struct job *out);
/* pending_approval -> rejected with reason as detail. */
enum qerr job_reject(struct store *s, const char *id, const char *reason,
	      struct job *out);
/*
 * failed or cancelled -> queued with its attempts reset (an admin's
 * retry).  Q_EXISTS if an equal job is active meanwhile.
 */
enum qerr job_requeue(struct store *s, const char *id, struct job *out);
/* completed -> expired, and its file in files_dir is deleted. */
enum qerr job_remove_file(struct store *s, const char *files_dir,
	      const char *id, struct job *out);

/*
 * Puts back every running job whose lease ran out (all running jobs if
 * all), failing those that used their attempts; the requeued wait
 * job_backoff(backoff, attempts).  Jobs held by one of the nlive pids in
 * live (the caller's own workers, which it watches itself) are left
 * alone.  Counts the jobs moved in *n.
 */
enum qerr job_requeue_stale(struct store *s, int all, int max_attempts,
	      int backoff, const int32_t *live, size_t nlive, unsigned *n);

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
