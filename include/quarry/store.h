/*
 * The job store: a Berkeley DB transactional environment shared by every
 * Quarry process.  This module is the only one that calls Berkeley DB.
 *
 * Everything else works through store_txn(): it runs a callback inside a
 * transaction, commits it durably (the commit is on disk when store_txn
 * returns Q_OK), retries with back-off when the callback reports a deadlock
 * (Q_RETRY), and reopens the environment with recovery after
 * DB_RUNRECOVERY.  Inside the callback the stx_* primitives read and write
 * key/value tables.  docs/store.md describes every table and record.
 */
#ifndef QUARRY_STORE_H
#define QUARRY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "quarry/buf.h"
#include "quarry/config.h"
#include "quarry/error.h"

/* The tables (Berkeley DB btree sub-databases of one file). */
enum table {
	T_META,			/* "version", "job_seq" */
	T_TOKENS,		/* token id -> token record */
	T_TOKEN_HASH,		/* sha256 hex -> token id */
	T_DATASETS,		/* tenant NUL name -> dataset record */
	T_ROWS,			/* dataset uid + be64 row -> row block, in
				   its own file with 64 KB pages */
	T_DEFS,			/* definition id -> definition record */
	T_DEFS_BY_TENANT,	/* tenant NUL definition id -> "" */
	T_JOBS,			/* job id -> job record */
	T_JOBS_BY_DEF,		/* def id + be64(~seq) -> job id (newest first) */
	T_JOBS_BY_TENANT,	/* tenant NUL be64(~seq) -> job id */
	T_QUEUE,		/* be64(seq) -> job id ...: the queue of stores
				   made before T_READY; a claim moves what it
				   holds to T_READY and T_DELAYED, never
				   written */
	T_ACTIVE,		/* active-job key -> job id (the 409 rule) */
	T_JOBS_BY_OWNER,	/* tenant NUL owner NUL be64(~seq) -> job id */
	T_JOBS_BY_STATE,	/* tenant NUL state be64(~seq) -> job id */
	T_READY,		/* tenant NUL be64(seq) -> job id: queued and
				   due, each tenant's oldest first */
	T_DELAYED,		/* be64(not_before) be64(seq) -> job id tenant:
				   queued, waiting out a back-off */
	T_AUDIT,		/* be64(µs) 4 random bytes -> audit record:
				   who did what, oldest first */
	T_ROWS_OLD,		/* rows imported before T_ROWS had its own
				   file: read and deleted, never written;
				   absent (empty) in newer stores */
	T_NTABLES
};

/*
 * The store's on-disk format version (T_META "version").  2 added the
 * listing indexes T_JOBS_BY_OWNER and T_JOBS_BY_STATE and the job counts;
 * 'quarryctl init' brings a version 1 store up to date (docs/store.md).
 */
#define STORE_FORMAT_VERSION 2

struct store;
struct stx;

#define STORE_CREATE	0x01	/* create the environment and tables */
/*
 * Leave the dataset rows' tables (T_ROWS, T_ROWS_OLD) closed: for the web
 * programs, which never read rows; a CGI request opens two files fewer.
 */
#define STORE_NO_ROWS	0x02
/*
 * Open a store of an older format version (quarryctl init, to bring it
 * up to date with store_set_version once it has); other programs refuse
 * one.
 */
#define STORE_UPGRADE	0x04
/*
 * Catastrophic recovery (DB_RECOVER_FATAL): replay every log file in
 * db_dir onto its database files, as a copy made by store_backup needs.
 * Only for a store no other process has open.
 */
#define STORE_RECOVER_FATAL 0x08

/*
 * Opens the environment in conf->db_dir (one handle per process; open it
 * after any fork).  Runs recovery if a process died inside it.
 */
enum qerr store_open(const struct conf *conf, int flags, struct store **out);
void	  store_close(struct store *s);
/*
 * How many times s had to drop an environment that needed recovery
 * without closing it (a process died inside it).  Each keeps some memory
 * mapped and a few descriptors open until the process exits; a process
 * that restarts itself anyway may use this to do so at a quiet moment.
 * (The FastCGI programs do not: exiting between requests makes the web
 * server fail a request already queued on the socket.)
 */
unsigned  store_abandoned(const struct store *s);
/* The store's format version (STORE_FORMAT_VERSION unless upgrading). */
int	  store_version(const struct store *s);
/* Records that the store is now of format version v. */
enum qerr store_set_version(struct store *s, int v);
/* The configuration s was opened with (its own copy). */
const struct conf *store_conf(const struct store *s);

typedef enum qerr (*store_fn)(struct stx *tx, void *arg);

/*
 * Runs fn in a transaction and commits it durably.  fn returns Q_OK to
 * commit; any other value aborts and is returned (Q_RETRY is retried).
 * fn may run several times: it must not keep effects outside the store
 * from an earlier run.
 */
enum qerr store_txn(struct store *s, store_fn fn, void *arg);
/* How many transactions this handle has begun (retries included). */
unsigned long long store_txns(const struct store *s);

/* Reads a value into val (replacing its contents); Q_NOTFOUND if absent. */
enum qerr stx_get(struct stx *tx, enum table t, const void *k, size_t kl,
	      struct buf *val);
/* Writes a value, replacing any. */
enum qerr stx_put(struct stx *tx, enum table t, const void *k, size_t kl,
	      const void *v, size_t vl);
/* Writes a value only if the key is new; Q_EXISTS otherwise. */
enum qerr stx_put_new(struct stx *tx, enum table t, const void *k,
	      size_t kl, const void *v, size_t vl);
/* Deletes a key; Q_NOTFOUND if absent. */
enum qerr stx_del(struct stx *tx, enum table t, const void *k, size_t kl);

/*
 * Calls fn for each key starting with prefix, in key order, beginning at
 * the first key >= start (NULL = the prefix).  fn returns VISIT_NEXT to
 * go on, VISIT_STOP to stop, or a qerr to stop with that error.
 */
typedef int (*scan_fn)(const void *k, size_t kl, const void *v, size_t vl,
	      void *arg);
enum qerr stx_scan(struct stx *tx, enum table t, const void *prefix,
	      size_t pl, const void *start, size_t sl, scan_fn fn, void *arg);

/*
 * The same scan outside any transaction, for large immutable data (a
 * published dataset's rows): no locks are held between records.
 */
enum qerr store_scan(struct store *s, enum table t, const void *prefix,
	      size_t pl, scan_fn fn, void *arg);
/* The same over the whole table, from the first key >= start. */
enum qerr store_scan_from(struct store *s, enum table t, const void *start,
	      size_t sl, scan_fn fn, void *arg);

/* Writes a checkpoint and removes log files no longer needed. */
enum qerr store_checkpoint(struct store *s);
/*
 * A hot backup of the open store into dir (created; it must not exist):
 * a checkpoint, then Berkeley DB's own copy of the database files and of
 * the log files written while it copied, which catastrophic recovery
 * (STORE_RECOVER_FATAL) turns into the store as it was at one moment.
 * Other processes keep reading and writing meanwhile.  Q_IO (errno set)
 * if writing failed.
 */
enum qerr store_backup(struct store *s, const char *dir);
/*
 * Berkeley DB's structural verification of the store's database files
 * (quarryctl verify --deep).  It must not run on files in use, so it
 * runs on a hot backup made for it beside db_dir ("<db_dir>.verify-PID",
 * removed afterwards; it needs the store's size in free space there).
 * Each problem is said as a line and counted in *problems.
 */
typedef void (*store_say)(void *arg, const char *line);

/* What the store's files and cache hold (quarryctl stats). */
struct store_sizes {
	unsigned long long	 db_bytes;	/* the database files */
	unsigned long long	 log_bytes;	/* the log files */
	unsigned long long	 cache_hits, cache_misses;	/* since the
						   environment was made */
};
enum qerr store_sizes(struct store *s, struct store_sizes *out);
enum qerr store_verify_deep(struct store *s, store_say say, void *arg,
	      unsigned *problems);

/*
 * Ends every lock wait older than the lock timeout (3 s): the waiter's
 * call fails and its transaction is tried again.  Berkeley DB checks the
 * timeout only when its deadlock detector runs, which is on a new lock
 * conflict; quarryd's housekeeping calls this periodically, so that a
 * wait on a lock whose holder is stuck or dead ends even when nothing
 * else conflicts.
 */
enum qerr store_expire_locks(struct store *s);

/*
 * For tests of the stall guard (docs/store.md) only: with hold, allocates
 * a mutex in the environment, locks it and sets *id; without, waits for
 * mutex *id the way any Berkeley DB call waits for a latch.
 */
enum qerr store_test_mutex(struct store *s, int hold, unsigned *id);

/* Big-endian 64-bit keys, so byte order is numeric order. */
void	 be64_put(unsigned char out[8], uint64_t v);
uint64_t be64_get(const unsigned char in[8]);

#endif
