/*
 * Inside the model: the job record and its transitions, shared by the
 * files that act on jobs (jobs.c: what callers do; queue.c: the
 * scheduler's claims and leases; sweep.c: expiry and purge).  Not part
 * of the library's interface: programs use quarry/model.h.
 *
 * Record 'J' (key: id) version 1: id, tenant, def_id, owner, state,
 * format, params, seq, created, updated, started, finished, expires,
 * lease_until, attempts, rows, bytes, detail, file, file_size,
 * worker_pid.  Version 2 appends name and approved (a version 1 record
 * reads as an unnamed, never approved job); version 3 not_before (the
 * back-off of a requeued job; older records read 0, due at once);
 * version 4 keyed_by_owner (older records read 0: their active key is
 * the tenant-wide one, which is the key they were written with); version
 * 5 read_pm (a running build's share of its source read; older records
 * read 0, unknown).
 *
 * Indexes kept in the same transaction as the record:
 *	T_JOBS_BY_DEF	 def_id + be64(~seq)			newest first
 *	T_JOBS_BY_TENANT tenant NUL be64(~seq)			newest first
 *	T_JOBS_BY_OWNER	 tenant NUL owner NUL be64(~seq)	newest first
 *	T_JOBS_BY_STATE	 tenant NUL state be64(~seq)	newest first, moved
 *			 at each transition
 *	T_META		 "n" NUL tenant [NUL owner] -> be64 count of jobs
 *	T_READY		 tenant NUL be64(seq) -> id	queued and due, each
 *			 tenant's oldest first
 *	T_DELAYED	 be64(not_before) be64(seq) -> id tenant	queued,
 *			 waiting out a back-off, the first due first
 *	T_QUEUE		 be64(seq) -> id [be64(not_before) tenant]	the
 *			 queue of older stores: a claim moves its entries
 *			 to T_READY and T_DELAYED
 *	T_ACTIVE	 tenant NUL def NUL fmt NUL params [NUL owner]
 *			 -> id, while active; the owner part only for a
 *			 user's job (keyed_by_owner)
 */
#ifndef QUARRY_LIB_JOB_H
#define QUARRY_LIB_JOB_H

#include "quarry/buf.h"
#include "quarry/model.h"
#include "quarry/rec.h"
#include "quarry/store.h"

#define JOB_INDEX_KEY_MAX	(TENANT_MAX + PRINCIPAL_MAX + 9)

/* The record codec. */
void	  job_encode(struct buf *b, const struct job *j);
enum qerr job_decode(const void *p, size_t n, struct job *j);

/* Reads job id in tx; Q_NOTFOUND if absent. */
enum qerr job_read(struct stx *tx, const char *id, struct job *j);
/* Reads job id in tx if who may see it; Q_NOTFOUND otherwise. */
enum qerr job_read_visible(struct stx *tx, const struct caller *who,
	      const char *id, struct job *j);
/* Writes j's record (not its indexes). */
enum qerr job_write(struct stx *tx, const struct job *j);

/*
 * Adds j (new, with its seq) to the listing indexes (T_JOBS_BY_DEF,
 * _BY_TENANT, _BY_OWNER, _BY_STATE) and to the job counts of its tenant
 * and its owner; job_index_del takes it out of them all (a purge).
 */
enum qerr job_index_add(struct stx *tx, const struct job *j);
enum qerr job_index_del(struct stx *tx, const struct job *j);

/*
 * Writes j's entries in T_JOBS_BY_OWNER and T_JOBS_BY_STATE (an upgrade
 * of an older store; idempotent).
 */
enum qerr job_index_fill(struct stx *tx, const struct job *j);
/* Sets the job count under T_META key k. */
enum qerr job_count_set(struct stx *tx, const unsigned char *k, size_t kl,
	      uint64_t n);

/* The prefixes of the listing indexes (see store.h); their lengths. */
size_t	 job_owner_prefix(const char *tenant, const char *owner,
	     unsigned char k[JOB_INDEX_KEY_MAX]);
size_t	 job_state_prefix(const char *tenant, enum job_state st,
	     unsigned char k[JOB_INDEX_KEY_MAX]);
/*
 * The T_META key of the job count of a tenant (owner NULL) or of one
 * owner in it; its length.
 */
size_t	 job_count_key(const char *tenant, const char *owner,
	     unsigned char k[JOB_INDEX_KEY_MAX + 2]);

/*
 * Takes j's active key, under the duplicate rule of job_create: Q_EXISTS
 * (with the active job's id in existing, if not NULL) if an equal job is
 * active that j's key conflicts with.
 */
enum qerr job_active_take(struct stx *tx, const struct job *j,
	      char existing[ID_LEN + 1]);
/*
 * Puts j in the queue: T_READY if it is due, else T_DELAYED until its
 * not_before.
 */
enum qerr job_queue_put(struct stx *tx, const struct job *j);

/*
 * Moves j to state `to` with the index changes that go with it (the
 * queue entry exists exactly while queued, the active key while active),
 * and writes it.  Q_STATE if the state machine has no such transition.
 */
enum qerr job_transition(struct stx *tx, struct job *j, enum job_state to);
/* Replaces j's detail. */
enum qerr job_set_detail(struct job *j, const char *detail);

/*
 * The index entries j must have, each a table and a key (the value
 * starts with j's id): the listing indexes, the queue while queued (in
 * T_READY, T_DELAYED or an older store's T_QUEUE: one of the entries
 * marked alt and the one after it), the active key while active.
 * Returns how many; free them with job_keys_free.  For quarryctl verify.
 */
#define JOB_KEYS_MAX	8
struct job_key {
	enum table	 t;
	struct buf	 k;
	int		 alt;	/* this one or the next one */
};
size_t	 job_index_keys(const struct job *j,
	     struct job_key out[JOB_KEYS_MAX]);
void	 job_keys_free(struct job_key *k, size_t n);

/* Deletes file from files_dir, if it names a file there. */
void	 job_unlink_file(const char *files_dir, const char *file);

#endif
