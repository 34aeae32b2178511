/*
 * The job store over Berkeley DB 5.3.  The only file that includes db.h.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "quarry/log.h"
#include "quarry/store.h"
#include "quarry/util.h"
#include "lib/stall.h"

#define DB_FILE		"quarry.db"
#define ROWS_FILE	"rows.db"	/* T_ROWS: long scans, large pages */
#define ROWS_PAGESIZE	65536
#define TXN_RETRIES	50
#define LOCK_TIMEOUT_US	(3 * 1000 * 1000)	/* see open_handles */
#define LOG_FILE_MAX	(4 << 20)	/* bytes a log file holds at most */
#define NOSPACE_LOG_S	60		/* between two log lines about it */
#define BULK_BUF	(1024 * 1024)	/* store_scan's buffer */
#define REGION_FILE	"__db.001"	/* see the stall guard (stall.c) */

static const char *const table_names[T_NTABLES] = {
	"meta", "tokens", "token_hash", "datasets", "rows", "defs",
	"defs_by_tenant", "jobs", "jobs_by_def", "jobs_by_tenant", "queue",
	"active", "jobs_by_owner", "jobs_by_state", "ready", "delayed",
	"audit", "rows"
};

struct store {
	DB_ENV		*env;
	DB		*db[T_NTABLES];
	struct conf	 conf;
	int		 flags;
	int		 need_recovery;	/* DB_RUNRECOVERY seen: reopen */
	unsigned	 abandoned;	/* environments dropped unclosed */
	int		 failchk;	/* thread tracking is on */
	int		 region_fd;	/* REGION_FILE of env, or -1 */
	int		 open_raced;	/* a table's file was mid-write */
	int		 version;	/* its format version */
	unsigned long long txns;	/* transactions begun (store_txns) */
};

struct stx {
	struct store	*s;
	DB_TXN		*txn;
	int		 room;		/* space_check passed for its writes */
};

/* Transactions this handle has begun (see store.h). */
unsigned long long
store_txns(const struct store *s)
{
	return s->txns;
}

/* The store's format version (see store.h). */
int
store_version(const struct store *s)
{
	return s->version;
}

static enum qerr
tx_set_version(struct stx *tx, void *arg)
{
	unsigned char ver[8];

	be64_put(ver, (uint64_t)*(int *)arg);
	return stx_put(tx, T_META, "version", 7, ver, 8);
}

/* Records that the store is now of format version v (see store.h). */
enum qerr
store_set_version(struct store *s, int v)
{
	enum qerr e;

	if ((e = store_txn(s, tx_set_version, &v)) == Q_OK)
		s->version = v;
	return e;
}

/* The configuration s was opened with (see store.h). */
const struct conf *
store_conf(const struct store *s)
{
	return &s->conf;
}

void
be64_put(unsigned char out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)v;
		v >>= 8;
	}
}

uint64_t
be64_get(const unsigned char in[8])
{
	uint64_t v = 0;
	int	 i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

/* Marks the start and end of a Berkeley DB call for the stall guard. */
static inline void
guard_in(const struct store *s)
{
	stall_enter(s->region_fd, s->conf.stall_seconds);
}

static inline void
guard_out(void)
{
	stall_leave();
}

/*
 * Gives the environment's region files (__db.001 ...) all their blocks
 * now.  Berkeley DB makes them sparse and maps them: a page first touched
 * later, when the cache fills, takes a block then, and on a full file
 * system that is a SIGBUS in whichever process touches it.  Allocated
 * here, a full disk is an open that fails (Q_NOSPACE) instead.
 */
static enum qerr
regions_allocate(struct store *s)
{
	char		path[PATH_MAX + 16];
	struct stat	st;
	int		i, fd, rc;

	for (i = 1; i < 10; i++) {
		if (snprintf(path, sizeof(path), "%s/__db.%03d", s->conf.db_dir,
		    i) >= (int)sizeof(path) ||
		    (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		rc = 0;
		if (fstat(fd, &st) == 0 &&
		    (long long)st.st_blocks * 512 < (long long)st.st_size)
			rc = posix_fallocate(fd, 0, st.st_size);
		close(fd);
		if (rc == ENOSPC) {
			qlog(LOG_ERR, "store: no room in %s for the region file "
			    "%s (%lld bytes)", s->conf.db_dir, path + strlen(
			    s->conf.db_dir) + 1, (long long)st.st_size);
			return Q_NOSPACE;
		}
	}
	return Q_OK;
}

/* Keeps the region file of s's environment open, for the stall guard. */
static void
region_open(struct store *s)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", s->conf.db_dir, REGION_FILE);
	s->region_fd = open(path, O_RDONLY | O_CLOEXEC);
}

static void
region_close(struct store *s)
{
	if (s->region_fd >= 0)
		close(s->region_fd);
	s->region_fd = -1;
}

/*
 * Berkeley DB's question during failchk: is this process still alive?
 */
static int
is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	(void)env;
	(void)tid;
	(void)flags;
	return proc_alive(pid);
}

static void
errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	(void)env;
	(void)prefix;
	qlog(LOG_ERR, "store: %s", msg);
}

/* Maps a Berkeley DB return to the library's error. */
static enum qerr
map(struct store *s, int rc)
{
	int f;

	switch (rc) {
	case 0:
		return Q_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return Q_NOTFOUND;
	case DB_KEYEXIST:
		return Q_EXISTS;
	case DB_LOCK_NOTGRANTED:
		/* A lock timed out: was its holder a process that died? */
		if (s->env != NULL && s->failchk) {
			guard_in(s);
			f = s->env->failchk(s->env, 0);
			guard_out();
			if (f == DB_RUNRECOVERY)
				s->need_recovery = 1;
		}
		return Q_RETRY;
	case DB_LOCK_DEADLOCK:
	case DB_REP_HANDLE_DEAD:
		return Q_RETRY;
	case DB_RUNRECOVERY:
		s->need_recovery = 1;
		return Q_RETRY;
	case ENOSPC:
		return Q_NOSPACE;
	case ENOMEM:
		return Q_NOMEM;
	default:
		qlog(LOG_ERR, "store: %s", db_strerror(rc));
		return Q_STORE;
	}
}

static void
close_handles(struct store *s)
{
	int i;

	/*
	 * No flush at close (DB_NOSYNC): every change is already durable in
	 * the log (each commit flushed it), and the pages stay in the shared
	 * cache for the checkpoints; twelve fdatasync calls were most of a
	 * CGI request's time in the store.
	 */
	guard_in(s);
	for (i = 0; i < T_NTABLES; i++)
		if (s->db[i] != NULL) {
			s->db[i]->close(s->db[i], DB_NOSYNC);
			s->db[i] = NULL;
		}
	if (s->env != NULL) {
		s->env->close(s->env, 0);
		s->env = NULL;
	}
	guard_out();
	region_close(s);
}

static void abandon_handles(struct store *s);

static enum qerr
open_env(struct store *s)
{
	u_int32_t	 eflags, dflags;
	int		 rc, i;
	DB_TXN		*txn = NULL;
	char		 dbpath[PATH_MAX + 16];
	struct stat	 st;

	if (stat(s->conf.db_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		qlog(LOG_ERR, "store: %s is not a directory; run "
		    "'quarryctl init'", s->conf.db_dir);
		return Q_STORE;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/%s", s->conf.db_dir, DB_FILE);
	if (!(s->flags & STORE_CREATE) && stat(dbpath, &st) != 0) {
		qlog(LOG_ERR, "store: no store in %s; run 'quarryctl init'",
		    s->conf.db_dir);
		return Q_STORE;
	}
	/*
	 * Catastrophic recovery takes the environment alone: no process
	 * registry (DB_REGISTER refuses DB_RECOVER_FATAL), no thread table.
	 */
	s->failchk = !(s->flags & STORE_RECOVER_FATAL);
again:
	if ((rc = db_env_create(&s->env, 0)) != 0)
		return map(s, rc);
	s->env->set_errcall(s->env, errcall);
	s->env->set_cachesize(s->env, 0, (u_int32_t)s->conf.cache_mb << 20, 1);
	s->env->set_lk_detect(s->env, DB_LOCK_DEFAULT);
	/*
	 * A lock wait longer than this means its holder may have died:
	 * the wait fails, failchk releases a dead process's locks (or says
	 * recovery is needed), and the transaction is tried again.
	 */
	s->env->set_timeout(s->env, LOCK_TIMEOUT_US, DB_SET_LOCK_TIMEOUT);
	if (s->failchk) {
		s->env->set_thread_count(s->env, 1000);
		s->env->set_isalive(s->env, is_alive);
	}
	s->env->set_lk_max_locks(s->env, 100000);
	s->env->set_lk_max_objects(s->env, 100000);
	s->env->set_lk_max_lockers(s->env, 10000);
	s->env->set_tx_max(s->env, 1000);
	s->env->set_lg_bsize(s->env, 1 << 20);
	s->env->set_lg_max(s->env, LOG_FILE_MAX);
	/* Log files made later, by whichever process fills the last one. */
	s->env->set_lg_filemode(s->env, 0660);
	s->env->log_set_config(s->env, DB_LOG_AUTO_REMOVE, 1);
	eflags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | ((s->flags & STORE_RECOVER_FATAL) ?
	    DB_RECOVER_FATAL : DB_REGISTER | DB_RECOVER);
	if ((rc = s->env->open(s->env, s->conf.db_dir, eflags, 0660)) ==
	    EINVAL && s->failchk) {
		/*
		 * An environment made by a Quarry without thread tracking:
		 * open it as it is; failchk waits until it is made anew.
		 */
		qlog(LOG_WARN, "store: %s was created without thread "
		    "tracking; dead processes' locks are released only by "
		    "recovery until every Quarry process has stopped and "
		    "its __db.* files are removed", s->conf.db_dir);
		s->env->close(s->env, 0);
		s->env = NULL;
		s->failchk = 0;
		goto again;
	}
	if (rc != 0) {
		qlog(LOG_ERR, "store: opening %s: %s", s->conf.db_dir,
		    db_strerror(rc));
		goto fail;
	}
	/*
	 * Opening existing tables writes only handle registrations to the
	 * log: that commit need not wait for the disk.  Creating them must.
	 */
	if ((rc = s->env->txn_begin(s->env, NULL, &txn,
	    (s->flags & STORE_CREATE) ? 0 : DB_TXN_NOSYNC)) != 0)
		goto fail;
	dflags = (s->flags & STORE_CREATE) ? DB_CREATE : 0;
	for (i = 0; i < T_NTABLES; i++) {
		if (i == T_ROWS_OLD || (i == T_ROWS &&
		    (s->flags & STORE_NO_ROWS)))
			continue;
		if ((rc = db_create(&s->db[i], s->env, 0)) != 0)
			goto fail;
		/*
		 * Dataset rows have a file of their own with 64 KB pages: an
		 * export reads them in long scans, and each page costs a read
		 * and a cache eviction whatever its size.  Created on first
		 * open also in stores made before it existed.
		 */
		if (i == T_ROWS)
			s->db[i]->set_pagesize(s->db[i], ROWS_PAGESIZE);
		/* Tables added since, created on the first open of a store. */
		rc = s->db[i]->open(s->db[i], txn, i == T_ROWS ? ROWS_FILE :
		    DB_FILE, table_names[i], DB_BTREE, i == T_ROWS ||
		    i == T_READY || i == T_DELAYED || i == T_JOBS_BY_OWNER ||
		    i == T_JOBS_BY_STATE || i == T_AUDIT ? DB_CREATE : dflags,
		    0660);
		if (rc == EINVAL && i == T_ROWS) {
			/*
			 * "File size not a multiple of the pagesize": another
			 * process is appending a 64 KB page, and the size is
			 * seen half way.  open_handles tries again.
			 */
			s->open_raced = 1;
			goto fail;
		}
		if (rc != 0) {
			qlog(LOG_ERR, "store: opening table %s: %s",
			    table_names[i], db_strerror(rc));
			goto fail;
		}
	}
	rc = txn->commit(txn, 0);
	txn = NULL;
	if (rc != 0)
		goto fail;
	/* Rows of older stores, in quarry.db, if there are any. */
	if (s->flags & STORE_NO_ROWS)
		goto done;
	if ((rc = db_create(&s->db[T_ROWS_OLD], s->env, 0)) != 0)
		goto fail;
	rc = s->db[T_ROWS_OLD]->open(s->db[T_ROWS_OLD], NULL, DB_FILE,
	    table_names[T_ROWS_OLD], DB_BTREE, DB_AUTO_COMMIT, 0660);
	if (rc == ENOENT) {
		s->db[T_ROWS_OLD]->close(s->db[T_ROWS_OLD], 0);
		s->db[T_ROWS_OLD] = NULL;
	} else if (rc != 0) {
		qlog(LOG_ERR, "store: opening table %s: %s",
		    table_names[T_ROWS_OLD], db_strerror(rc));
		goto fail;
	}
done:
	s->need_recovery = 0;
	return Q_OK;
fail:
	if (rc == DB_RUNRECOVERY) {
		/* Another process is recovering it: nothing here can close. */
		s->need_recovery = 1;
		abandon_handles(s);
		return Q_STORE;
	}
	if (txn != NULL)
		txn->abort(txn);
	close_handles(s);
	return rc == ENOSPC ? Q_NOSPACE : Q_STORE;
}

static void backoff(int attempt);

/*
 * Opens the environment and its tables, under the stall guard; again,
 * after a short wait, while a table's file is caught mid-append.
 *
 * The store is often shared by two users of one group (the web server's,
 * whose children run the web programs, and the one quarryd runs as), so
 * every file it makes is its group's to read and write, whatever the
 * process's umask: what open makes here (the region files, again after
 * each recovery; a table added since) is made with the group's bits of the
 * umask cleared, and the log files made later get 0660 (set_lg_filemode in
 * open_env).  The umask is the caller's again on return.
 */
static enum qerr
open_handles(struct store *s)
{
	enum qerr	e;
	int		attempt;
	mode_t		mask;

	mask = umask(0);
	umask(mask & ~(mode_t)S_IRWXG);
	stall_watch_start();
	region_close(s);
	for (attempt = 0; attempt < 10; attempt++) {
		s->open_raced = 0;
		guard_in(s);
		e = open_env(s);
		guard_out();
		if (!s->open_raced)
			break;
		backoff(attempt);
	}
	if (s->open_raced)
		qlog(LOG_ERR, "store: %s stays a partial page long",
		    ROWS_FILE);
	if (e == Q_OK)
		e = regions_allocate(s);
	if (e == Q_OK)
		region_open(s);
	umask(mask);
	return e;
}

/*
 * Reads the store's format version into s->version: a new store (with
 * STORE_CREATE) gets the current one; an older one opens only with
 * STORE_UPGRADE; a newer one never.
 */
static enum qerr
check_version(struct stx *tx, void *arg)
{
	struct store	*s = arg;
	struct buf	 v = BUF_INIT;
	unsigned char	 ver[8];
	uint64_t	 n;
	enum qerr	 e;

	e = stx_get(tx, T_META, "version", 7, &v);
	if (e == Q_NOTFOUND && (s->flags & STORE_CREATE)) {
		be64_put(ver, STORE_FORMAT_VERSION);
		e = stx_put(tx, T_META, "version", 7, ver, 8);
		s->version = STORE_FORMAT_VERSION;
	} else if (e == Q_OK) {
		n = v.len == 8 ? be64_get((unsigned char *)v.data) : 0;
		s->version = (int)n;
		if (n == STORE_FORMAT_VERSION ||
		    (n >= 1 && n < STORE_FORMAT_VERSION &&
		    (s->flags & STORE_UPGRADE)))
			;
		else if (n >= 1 && n < STORE_FORMAT_VERSION) {
			qlog(LOG_ERR, "store: format version %d is older than "
			    "this program's %d; run 'quarryctl init' to bring "
			    "it up to date", (int)n, STORE_FORMAT_VERSION);
			e = Q_STORE;
		} else {
			qlog(LOG_ERR, "store: format version is not %d",
			    STORE_FORMAT_VERSION);
			e = Q_STORE;
		}
	} else if (e == Q_NOTFOUND) {
		qlog(LOG_ERR, "store: not initialised; run 'quarryctl init'");
		e = Q_STORE;
	}
	buf_free(&v);
	return e;
}

/* Opens the environment in conf->db_dir (see store.h). */
enum qerr
store_open(const struct conf *conf, int flags, struct store **out)
{
	struct store	*s;
	enum qerr	 e;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return Q_NOMEM;
	s->conf = *conf;
	s->flags = flags;
	s->region_fd = -1;
	if ((e = open_handles(s)) != Q_OK) {
		free(s);
		return e;
	}
	if ((e = store_txn(s, check_version, s)) != Q_OK) {
		store_close(s);
		return e;
	}
	*out = s;
	return Q_OK;
}

/*
 * Drops handles of an environment that needs recovery without closing
 * them: a process that died inside Berkeley DB may hold a mutex those
 * closes would wait on forever.  Their memory and descriptors are lost
 * until the process exits; store_abandoned() tells long-lived processes
 * to exit at a convenient point and start afresh.
 */
static void
abandon_handles(struct store *s)
{
	/*
	 * Dropped handles stay reachable from here: they are kept on
	 * purpose (closing them could block), not forgotten, and a leak
	 * checker should not report them.
	 */
	static void	*volatile kept[8 * (T_NTABLES + 1)];
	static size_t	 nkept;
	int		 i;

	for (i = 0; i < T_NTABLES; i++) {
		if (s->db[i] != NULL && nkept < sizeof(kept) / sizeof(kept[0]))
			kept[nkept++] = s->db[i];
		s->db[i] = NULL;
	}
	if (s->env != NULL && nkept < sizeof(kept) / sizeof(kept[0]))
		kept[nkept++] = s->env;
	if (s->env != NULL)
		s->abandoned++;
	s->env = NULL;
	region_close(s);
}

/*
 * True if another process's recovery has panicked this environment since
 * our last call (no call of ours has seen DB_RUNRECOVERY yet).
 */
static int
env_panicked(struct store *s)
{
	u_int32_t	id;
	int		rc;

	if (s->env == NULL)
		return 0;
	guard_in(s);
	if ((rc = s->env->lock_id(s->env, &id)) == 0)
		s->env->lock_id_free(s->env, id);
	guard_out();
	return rc == DB_RUNRECOVERY;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->need_recovery || env_panicked(s))
		abandon_handles(s);
	else
		close_handles(s);
	free(s);
}

/* How many environments this handle had to abandon (see store.h). */
unsigned
store_abandoned(const struct store *s)
{
	return s == NULL ? 0 : s->abandoned;
}

static void
backoff(int attempt)
{
	struct timespec	 ts;
	unsigned	 r = 0;
	long		 us;

	random_bytes(&r, sizeof(r));
	us = 1000L << (attempt < 8 ? attempt : 8);	/* 1 ms .. 256 ms */
	us = us / 2 + (long)(r % (unsigned)us);
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

/* Runs fn in a durable transaction, retrying on deadlock (see store.h). */
enum qerr
store_txn(struct store *s, store_fn fn, void *arg)
{
	struct stx	 tx;
	enum qerr	 e = Q_STORE;
	int		 attempt, rc;

	for (attempt = 0; attempt < TXN_RETRIES; attempt++) {
		if (s->need_recovery || s->env == NULL) {
			qlog(LOG_WARN, "store: reopening with recovery");
			abandon_handles(s);
			if ((e = open_handles(s)) != Q_OK) {
				backoff(attempt);
				continue;
			}
		}
		tx.s = s;
		tx.txn = NULL;
		tx.room = 0;
		guard_in(s);
		rc = s->env->txn_begin(s->env, NULL, &tx.txn, 0);
		guard_out();
		s->txns++;
		if (rc != 0) {
			e = map(s, rc);
			if (e == Q_RETRY) {
				backoff(attempt);
				continue;
			}
			return e;
		}
		e = fn(&tx, arg);
		if (e != Q_OK) {
			guard_in(s);
			tx.txn->abort(tx.txn);
			guard_out();
			if (e == Q_RETRY) {
				backoff(attempt);
				continue;
			}
			return e;
		}
		guard_in(s);
		rc = tx.txn->commit(tx.txn, 0);
		guard_out();
		if (rc == 0)
			return Q_OK;
		e = map(s, rc);
		if (e != Q_RETRY)
			return e;
		backoff(attempt);
	}
	qlog(LOG_ERR, "store: transaction gave up after %d attempts",
	    TXN_RETRIES);
	return Q_BUSY;
}

static void
dbt_in(DBT *d, const void *p, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)p;
	d->size = (u_int32_t)n;
}

/* Reads a value into val; Q_NOTFOUND if absent. */
enum qerr
stx_get(struct stx *tx, enum table t, const void *k, size_t kl,
    struct buf *val)
{
	DBT	 key, data;
	int	 rc;

	if (tx->s->db[t] == NULL)
		return Q_NOTFOUND;	/* an absent T_ROWS_OLD is empty */
	dbt_in(&key, k, kl);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	guard_in(tx->s);
	rc = tx->s->db[t]->get(tx->s->db[t], tx->txn, &key, &data, 0);
	guard_out();
	if (rc != 0)
		return map(tx->s, rc);
	buf_reset(val);
	buf_add(val, data.data, data.size);
	free(data.data);
	return val->oom ? Q_NOMEM : Q_OK;
}

/*
 * The space guard: Berkeley DB panics the whole environment when a log
 * write or a page write meets a full disk, and recovering it then needs
 * more room than there is.  So a transaction's first write first checks
 * that db_dir's file system keeps store_reserve bytes free (by default
 * two log files and a margin); below that the write is refused with
 * Q_NOSPACE before Berkeley DB is asked, the transaction is aborted
 * with nothing written, and reads go on.  Writes come back by themselves
 * once there is room again.
 */
static enum qerr
space_check(struct store *s)
{
	static time_t		 logged;
	struct statvfs		 v;
	unsigned long long	 avail, reserve;
	time_t			 now;

	/*
	 * auto: what may still reach the disk after a write was let
	 * through: the cache's dirty pages (written at a checkpoint or an
	 * eviction, by any process, readers too), two log files, a margin.
	 */
	reserve = s->conf.store_reserve >= 0 ?
	    (unsigned long long)s->conf.store_reserve :
	    ((unsigned long long)s->conf.cache_mb << 20) +
	    2ULL * LOG_FILE_MAX + (8ULL << 20);
	if (reserve == 0 || statvfs(s->conf.db_dir, &v) != 0)
		return Q_OK;
	avail = (unsigned long long)v.f_bavail * v.f_frsize;
	if (avail >= reserve)
		return Q_OK;
	now = (time_t)(mono_ms() / 1000) + 1;
	if (logged == 0 || now - logged >= NOSPACE_LOG_S) {
		logged = now;
		qlog(LOG_ERR, "store: %llu KB free in %s, less than the "
		    "reserve of %llu KB (store_reserve): writes are refused "
		    "until there is more", avail >> 10, s->conf.db_dir,
		    reserve >> 10);
	}
	return Q_NOSPACE;
}

/* The space guard for a transaction's writes (once per transaction). */
static enum qerr
room_for_writes(struct stx *tx)
{
	enum qerr e;

	if (tx->room)
		return Q_OK;
	if ((e = space_check(tx->s)) == Q_OK)
		tx->room = 1;
	return e;
}

static enum qerr
put(struct stx *tx, enum table t, const void *k, size_t kl, const void *v,
    size_t vl, u_int32_t flags)
{
	DBT		 key, data;
	int		 rc;
	enum qerr	 e;

	if (tx->s->db[t] == NULL)
		return Q_STORE;
	if ((e = room_for_writes(tx)) != Q_OK)
		return e;
	dbt_in(&key, k, kl);
	dbt_in(&data, v, vl);
	guard_in(tx->s);
	rc = tx->s->db[t]->put(tx->s->db[t], tx->txn, &key, &data, flags);
	guard_out();
	return map(tx->s, rc);
}

enum qerr
stx_put(struct stx *tx, enum table t, const void *k, size_t kl,
    const void *v, size_t vl)
{
	return put(tx, t, k, kl, v, vl, 0);
}

enum qerr
stx_put_new(struct stx *tx, enum table t, const void *k, size_t kl,
    const void *v, size_t vl)
{
	return put(tx, t, k, kl, v, vl, DB_NOOVERWRITE);
}

enum qerr
stx_del(struct stx *tx, enum table t, const void *k, size_t kl)
{
	DBT		 key;
	int		 rc;
	enum qerr	 e;

	if (tx->s->db[t] == NULL)
		return Q_NOTFOUND;
	if ((e = room_for_writes(tx)) != Q_OK)
		return e;
	dbt_in(&key, k, kl);
	guard_in(tx->s);
	rc = tx->s->db[t]->del(tx->s->db[t], tx->txn, &key, 0);
	guard_out();
	return map(tx->s, rc);
}

/* Closes a scan's cursor; the scan's own error e comes first. */
static enum qerr
cursor_close(struct store *s, DBC *c, enum qerr e)
{
	int rc;

	guard_in(s);
	rc = c->close(c);
	guard_out();
	return e == Q_OK && rc != 0 ? map(s, rc) : e;
}

static enum qerr
scan(struct store *s, DB_TXN *txn, enum table t, const void *prefix,
    size_t pl, const void *start, size_t sl, scan_fn fn, void *arg,
    u_int32_t cflags)
{
	DBC		*c = NULL;
	DBT		 key, data;
	int		 rc, r;
	enum qerr	 e = Q_OK;

	if (s->db[t] == NULL)
		return Q_OK;
	guard_in(s);
	rc = s->db[t]->cursor(s->db[t], txn, &c, cflags);
	guard_out();
	if (rc != 0)
		return map(s, rc);
	if (start == NULL) {
		start = prefix;
		sl = pl;
	}
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)start;
	key.size = (u_int32_t)sl;
	guard_in(s);
	rc = c->get(c, &key, &data, sl > 0 ? DB_SET_RANGE : DB_FIRST);
	guard_out();
	while (rc == 0) {
		if (key.size < pl || memcmp(key.data, prefix, pl) != 0)
			break;
		r = fn(key.data, key.size, data.data, data.size, arg);
		if (r == VISIT_STOP)
			break;
		if (r != 0) {
			e = (enum qerr)r;
			break;
		}
		guard_in(s);
		rc = c->get(c, &key, &data, DB_NEXT);
		guard_out();
	}
	if (rc != 0 && rc != DB_NOTFOUND)
		e = map(s, rc);
	return cursor_close(s, c, e);
}

/* Calls fn for each key starting with prefix (see store.h). */
enum qerr
stx_scan(struct stx *tx, enum table t, const void *prefix, size_t pl,
    const void *start, size_t sl, scan_fn fn, void *arg)
{
	return scan(tx->s, tx->txn, t, prefix, pl, start, sl, fn, arg, 0);
}

/*
 * The scan of store_scan: the same walk as scan(), but each cursor call
 * copies as many records as fit in a buffer of BULK_BUF bytes
 * (DB_MULTIPLE_KEY), so the cursor, lock and page overhead is paid once
 * per buffer instead of once per record.  The cursor reads with low cache
 * priority: a long scan evicts its own pages first, not the store's hot
 * ones.  The buffer grows only for a record larger than it.
 */
static enum qerr
scan_bulk(struct store *s, enum table t, const void *prefix, size_t pl,
    const void *start, size_t sl, scan_fn fn, void *arg)
{
	DBC		*c = NULL;
	DBT		 key, data;
	void		*p, *k, *v, *nb;
	u_int32_t	 kl, vl, size = BULK_BUF, flags;
	int		 rc, r, done = 0;
	enum qerr	 e = Q_OK;

	if (s->db[t] == NULL)
		return Q_OK;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	if ((data.data = malloc(size)) == NULL)
		return Q_NOMEM;
	data.ulen = size;
	data.flags = DB_DBT_USERMEM;
	guard_in(s);
	rc = s->db[t]->cursor(s->db[t], NULL, &c, DB_READ_COMMITTED);
	guard_out();
	if (rc != 0) {
		free(data.data);
		return map(s, rc);
	}
	c->set_priority(c, DB_PRIORITY_VERY_LOW);
	key.data = (void *)(start != NULL ? start : prefix);
	key.size = (u_int32_t)(start != NULL ? sl : pl);
	flags = (key.size > 0 ? DB_SET_RANGE : DB_FIRST) | DB_MULTIPLE_KEY;
	while (!done) {
		guard_in(s);
		rc = c->get(c, &key, &data, flags);
		guard_out();
		if (rc == DB_BUFFER_SMALL) {
			/* One record is larger than the buffer. */
			size = (data.size + 1023) / 1024 * 1024 * 2;
			if ((nb = realloc(data.data, size)) == NULL) {
				e = Q_NOMEM;
				break;
			}
			data.data = nb;
			data.ulen = size;
			continue;
		}
		if (rc != 0)
			break;
		flags = DB_NEXT | DB_MULTIPLE_KEY;
		DB_MULTIPLE_INIT(p, &data);
		for (;;) {
			DB_MULTIPLE_KEY_NEXT(p, &data, k, kl, v, vl);
			if (p == NULL)
				break;
			if (kl < pl || memcmp(k, prefix, pl) != 0) {
				done = 1;
				break;
			}
			r = fn(k, kl, v, vl, arg);
			if (r == VISIT_STOP) {
				done = 1;
				break;
			}
			if (r != 0) {
				e = (enum qerr)r;
				done = 1;
				break;
			}
		}
	}
	if (!done && e == Q_OK && rc != DB_NOTFOUND)
		e = map(s, rc);
	free(data.data);
	return cursor_close(s, c, e);
}

/*
 * A scan outside any transaction, for immutable data (see store.h).  It is
 * not retried: records already passed to fn cannot be taken back, so a
 * conflict is the caller's to handle (a build fails and is tried again).
 */
enum qerr
store_scan(struct store *s, enum table t, const void *prefix, size_t pl,
    scan_fn fn, void *arg)
{
	if (s->need_recovery || s->env == NULL) {
		abandon_handles(s);
		if (open_handles(s) != Q_OK)
			return Q_STORE;
	}
	return scan_bulk(s, t, prefix, pl, NULL, 0, fn, arg);
}

/* The same from the first key >= start (see store.h). */
enum qerr
store_scan_from(struct store *s, enum table t, const void *start, size_t sl,
    scan_fn fn, void *arg)
{
	if (s->need_recovery || s->env == NULL) {
		abandon_handles(s);
		if (open_handles(s) != Q_OK)
			return Q_STORE;
	}
	return scan_bulk(s, t, "", 0, start, sl, fn, arg);
}

/* Ends lock waits that have passed the lock timeout (see store.h). */
enum qerr
store_expire_locks(struct store *s)
{
	int rc, rejected = 0;

	if (s->env == NULL)
		return Q_STORE;
	guard_in(s);
	rc = s->env->lock_detect(s->env, 0, DB_LOCK_EXPIRE, &rejected);
	guard_out();
	return map(s, rc);
}

/* For tests of the stall guard (see store.h). */
enum qerr
store_test_mutex(struct store *s, int hold, unsigned *id)
{
	db_mutex_t	 m;
	int		 rc;

	if (s->env == NULL)
		return Q_STORE;
	if (hold) {
		if ((rc = s->env->mutex_alloc(s->env, 0, &m)) != 0)
			return map(s, rc);
		*id = (unsigned)m;
	} else
		m = (db_mutex_t)*id;
	guard_in(s);
	rc = s->env->mutex_lock(s->env, m);
	guard_out();
	return map(s, rc);
}

/* Writes a checkpoint and removes log files no longer needed. */
/* A hot backup of the store into dir (see store.h). */
enum qerr
store_backup(struct store *s, const char *dir)
{
	enum qerr	e;
	int		rc;

	if (s->env == NULL)
		return Q_STORE;
	if ((e = store_checkpoint(s)) != Q_OK)
		return e;
	guard_in(s);
	/*
	 * While it copies, Berkeley DB keeps the log files it still needs
	 * from automatic removal (the environment's hot-backup count).
	 */
	rc = s->env->backup(s->env, dir, DB_CREATE | DB_EXCL);
	guard_out();
	if (rc > 0) {
		errno = rc;
		qlog(LOG_ERR, "store: backup to %s: %s", dir, db_strerror(rc));
		return Q_IO;
	}
	return map(s, rc);
}

/* The store's file sizes and cache counters (see store.h). */
enum qerr
store_sizes(struct store *s, struct store_sizes *out)
{
	DB_MPOOL_STAT	*ms = NULL;
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		 p[PATH_MAX + 256];
	size_t		 n;

	memset(out, 0, sizeof(*out));
	if (s->env == NULL)
		return Q_STORE;
	if ((d = opendir(s->conf.db_dir)) == NULL)
		return Q_IO;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		snprintf(p, sizeof(p), "%s/%s", s->conf.db_dir, e->d_name);
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (strncmp(e->d_name, "log.", 4) == 0)
			out->log_bytes += (unsigned long long)st.st_size;
		else if (n > 3 && strcmp(e->d_name + n - 3, ".db") == 0)
			out->db_bytes += (unsigned long long)st.st_size;
	}
	closedir(d);
	if (s->env->memp_stat(s->env, &ms, NULL, 0) == 0 && ms != NULL) {
		out->cache_hits = ms->st_cache_hit;
		out->cache_misses = ms->st_cache_miss;
		free(ms);
	}
	return Q_OK;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Berkeley DB's verification of every database file of a copy. */
static void
verify_files(const char *dir, store_say say, void *arg, unsigned *problems)
{
	DIR		*d;
	struct dirent	*e;
	DB		*db;
	char		 path[PATH_MAX + 256], line[PATH_MAX + 512];
	size_t		 n;
	int		 rc;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 3, ".db") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((rc = db_create(&db, NULL, 0)) == 0)
			/* the handle is gone afterwards, whatever it says */
			rc = db->verify(db, path, NULL, NULL, 0);
		if (rc != 0) {
			snprintf(line, sizeof(line), "%s: Berkeley DB's "
			    "verification failed: %s (restore the store from a "
			    "backup)", e->d_name, db_strerror(rc));
			say(arg, line);
			(*problems)++;
		}
	}
	closedir(d);
}

/* Berkeley DB's structural verification, on a copy (see store.h). */
enum qerr
store_verify_deep(struct store *s, store_say say, void *arg,
    unsigned *problems)
{
	struct store	*copy = NULL;
	struct conf	 c = s->conf;
	char		 dir[PATH_MAX];
	enum qerr	 e;

	*problems = 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s.verify-%ld",
	    s->conf.db_dir, (long)getpid()) >= sizeof(dir))
		return Q_INVALID;
	if ((e = store_backup(s, dir)) == Q_OK) {
		snprintf(c.db_dir, sizeof(c.db_dir), "%s", dir);
		c.store_reserve = 0;
		if ((e = store_open(&c, STORE_RECOVER_FATAL, &copy)) == Q_OK) {
			store_close(copy);
			verify_files(dir, say, arg, problems);
		}
	}
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return e;
}

enum qerr
store_checkpoint(struct store *s)
{
	enum qerr	e;
	int		rc;

	if (s->env == NULL)
		return Q_STORE;
	/* A checkpoint writes pages and a log record: not on a full disk. */
	if ((e = space_check(s)) != Q_OK)
		return e;
	guard_in(s);
	if ((rc = s->env->txn_checkpoint(s->env, 0, 0, 0)) == 0)
		rc = s->env->log_archive(s->env, NULL, DB_ARCH_REMOVE);
	guard_out();
	return map(s, rc);
}
