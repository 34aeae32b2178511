/*
 * The job store over a real Berkeley DB environment: transactions,
 * unique puts, scans, key order, reopening, the format version,
 * visibility across processes, and the stall guard (a process waiting on
 * a latch a killed process held ends itself), and the modes of the files
 * it makes.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include "testutil.h"

#include "quarry/buf.h"
#include "quarry/store.h"

struct kv {
	const char	*k;
	size_t		 kl;
	const char	*v;
};

static enum qerr
tx_put_kv(struct stx *tx, void *arg)
{
	const struct kv *kv = arg;

	return stx_put(tx, T_META, kv->k, kv->kl, kv->v, strlen(kv->v));
}

static enum qerr
tx_put_new_kv(struct stx *tx, void *arg)
{
	const struct kv *kv = arg;

	return stx_put_new(tx, T_META, kv->k, kv->kl, kv->v, strlen(kv->v));
}

struct getter {
	const char	*k;
	struct buf	 val;
};

static enum qerr
tx_get(struct stx *tx, void *arg)
{
	struct getter *g = arg;

	return stx_get(tx, T_META, g->k, strlen(g->k), &g->val);
}

/* Reads key k of T_META into a malloc'ed string, or NULL if absent. */
static char *
get_str(struct store *s, const char *k)
{
	struct getter	 g = { k, BUF_INIT };
	char		*r = NULL;

	if (store_txn(s, tx_get, &g) == Q_OK)
		r = strdup(buf_str(&g.val));
	buf_free(&g.val);
	return r;
}

static void
put_str(struct store *s, const char *k, const char *v)
{
	struct kv kv = { k, strlen(k), v };

	assert_int_equal(store_txn(s, tx_put_kv, &kv), Q_OK);
}

/* Asserts that key k of T_META holds want. */
static void
assert_value(struct store *s, const char *k, const char *want)
{
	char *v = get_str(s, k);

	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void
test_create_and_get(void **state)
{
	struct tu	*t = *state;

	assert_null(get_str(t->s, "missing"));
	put_str(t->s, "greeting", "hello");
	assert_value(t->s, "greeting", "hello");
	put_str(t->s, "greeting", "replaced");
	assert_value(t->s, "greeting", "replaced");
}

static void
test_open_needs_init(void **state)
{
	struct tu	*t = *state;
	struct store	*s = NULL;
	struct conf	 c = t->conf;

	/* An empty directory without STORE_CREATE is not a store. */
	assert_int_equal(store_open(&t->conf, 0, &s), Q_STORE);
	assert_null(s);
	/* Neither is a directory that does not exist. */
	tu_path(c.db_dir, t->dir, "nowhere");
	assert_int_equal(store_open(&c, STORE_CREATE, &s), Q_STORE);
	assert_null(s);
	/* Created once, it opens without STORE_CREATE. */
	assert_int_equal(store_open(&t->conf, STORE_CREATE, &s), Q_OK);
	store_close(s);
	s = NULL;
	assert_int_equal(store_open(&t->conf, 0, &s), Q_OK);
	store_close(s);
}

static void
test_reopen_after_close(void **state)
{
	struct tu	*t = *state;

	put_str(t->s, "durable", "yes");
	store_close(t->s);
	t->s = NULL;
	assert_int_equal(store_open(&t->conf, 0, &t->s), Q_OK);
	assert_value(t->s, "durable", "yes");
}

static enum qerr
tx_put_then_fail(struct stx *tx, void *arg)
{
	enum qerr e;

	(void)arg;
	if ((e = stx_put(tx, T_META, "ghost", 5, "boo", 3)) != Q_OK)
		return e;
	return Q_INVALID;
}

static void
test_abort_leaves_nothing(void **state)
{
	struct tu *t = *state;

	assert_int_equal(store_txn(t->s, tx_put_then_fail, NULL), Q_INVALID);
	assert_null(get_str(t->s, "ghost"));
}

struct retry {
	int	calls;
	int	fail_times;
};

static enum qerr
tx_retry(struct stx *tx, void *arg)
{
	struct retry *r = arg;

	if (r->calls++ < r->fail_times) {
		stx_put(tx, T_META, "partial", 7, "x", 1);
		return Q_RETRY;
	}
	return stx_put(tx, T_META, "retried", 7, "done", 4);
}

static void
test_txn_retries(void **state)
{
	struct tu	*t = *state;
	struct retry	 r = { 0, 3 };

	assert_int_equal(store_txn(t->s, tx_retry, &r), Q_OK);
	assert_int_equal(r.calls, 4);
	assert_value(t->s, "retried", "done");
	/* The aborted attempts left nothing behind. */
	assert_null(get_str(t->s, "partial"));
}

static void
test_put_new_exists(void **state)
{
	struct tu	*t = *state;
	struct kv	 kv = { "unique", 6, "first" };

	assert_int_equal(store_txn(t->s, tx_put_new_kv, &kv), Q_OK);
	kv.v = "second";
	assert_int_equal(store_txn(t->s, tx_put_new_kv, &kv), Q_EXISTS);
	assert_value(t->s, "unique", "first");
}

static enum qerr
tx_del(struct stx *tx, void *arg)
{
	return stx_del(tx, T_META, arg, strlen(arg));
}

static void
test_del(void **state)
{
	struct tu *t = *state;

	assert_int_equal(store_txn(t->s, tx_del, "absent"), Q_NOTFOUND);
	put_str(t->s, "doomed", "x");
	assert_int_equal(store_txn(t->s, tx_del, "doomed"), Q_OK);
	assert_null(get_str(t->s, "doomed"));
}

/* ---- scans ---- */

struct seen {
	struct buf	 keys;	/* each key's bytes then '|' */
	int		 stop_after;
	int		 n;
	int		 ret;	/* returned once stop_after is reached */
};

static int
collect(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct seen *s = arg;
	size_t i;

	(void)v;
	(void)vl;
	for (i = 0; i < kl; i++)
		buf_addc(&s->keys, ((const char *)k)[i] == '\0' ? '0' :
		    ((const char *)k)[i]);
	buf_addc(&s->keys, '|');
	if (++s->n == s->stop_after)
		return s->ret;
	return 0;
}

struct scan_args {
	const char	*prefix;
	size_t		 pl;
	const char	*start;
	size_t		 sl;
	struct seen	*seen;
};

static enum qerr
tx_scan(struct stx *tx, void *arg)
{
	struct scan_args *a = arg;

	buf_reset(&a->seen->keys);
	a->seen->n = 0;
	return stx_scan(tx, T_TOKENS, a->prefix, a->pl, a->start, a->sl,
	    collect, a->seen);
}

static enum qerr
tx_fill(struct stx *tx, void *arg)
{
	static const struct kv keys[] = {
		{ "b", 1, "" }, { "a\0y", 3, "" }, { "ab", 2, "" },
		{ "a\0x", 3, "" }, { "a", 1, "" }, { "a\0z", 3, "" },
		{ "c\0a", 3, "" },
	};
	size_t		i;
	enum qerr	e;

	(void)arg;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((e = stx_put(tx, T_TOKENS, keys[i].k, keys[i].kl, "v",
		    1)) != Q_OK)
			return e;
	return Q_OK;
}

static void
test_scan_prefix_order(void **state)
{
	struct tu		*t = *state;
	struct seen		 seen = { BUF_INIT, 0, 0, 0 };
	struct scan_args	 a = { "a\0", 2, NULL, 0, &seen };

	assert_int_equal(store_txn(t->s, tx_fill, NULL), Q_OK);
	assert_int_equal(store_txn(t->s, tx_scan, &a), Q_OK);
	assert_string_equal(buf_str(&seen.keys), "a0x|a0y|a0z|");

	/* The empty prefix is every key in byte order. */
	a.prefix = "";
	a.pl = 0;
	assert_int_equal(store_txn(t->s, tx_scan, &a), Q_OK);
	assert_string_equal(buf_str(&seen.keys),
	    "a|a0x|a0y|a0z|ab|b|c0a|");

	/* "a" as a prefix includes "a" itself and "ab". */
	a.prefix = "a";
	a.pl = 1;
	assert_int_equal(store_txn(t->s, tx_scan, &a), Q_OK);
	assert_string_equal(buf_str(&seen.keys), "a|a0x|a0y|a0z|ab|");

	/* A start key inside the prefix skips what sorts before it. */
	a.prefix = "a\0";
	a.pl = 2;
	a.start = "a\0y";
	a.sl = 3;
	assert_int_equal(store_txn(t->s, tx_scan, &a), Q_OK);
	assert_string_equal(buf_str(&seen.keys), "a0y|a0z|");

	/* A prefix with no keys calls nothing. */
	a.prefix = "zz";
	a.start = NULL;
	a.sl = 0;
	assert_int_equal(store_txn(t->s, tx_scan, &a), Q_OK);
	assert_string_equal(buf_str(&seen.keys), "");
	buf_free(&seen.keys);
}

static void
test_scan_stop_and_error(void **state)
{
	struct tu		*t = *state;
	struct seen		 seen = { BUF_INIT, 2, 0, VISIT_STOP };
	struct scan_args	 a = { "", 0, NULL, 0, &seen };

	assert_int_equal(store_txn(t->s, tx_fill, NULL), Q_OK);
	assert_int_equal(store_txn(t->s, tx_scan, &a), Q_OK);
	assert_string_equal(buf_str(&seen.keys), "a|a0x|");
	seen.ret = Q_INVALID;
	assert_int_equal(store_txn(t->s, tx_scan, &a), Q_INVALID);
	assert_int_equal(seen.n, 2);
	/* Q_NOTFOUND is an error like any other, not a quiet stop. */
	seen.n = 0;
	seen.ret = Q_NOTFOUND;
	assert_int_equal(store_txn(t->s, tx_scan, &a), Q_NOTFOUND);
	assert_int_equal(seen.n, 2);
	buf_free(&seen.keys);
}

static void
test_be64(void **state)
{
	static const uint64_t vals[] = { 0, 1, 255, 256, 65535, 65536,
	    0x0102030405060708ULL, UINT64_MAX - 1, UINT64_MAX };
	unsigned char	a[8], b[8];
	size_t		i;

	(void)state;
	be64_put(a, 0x0102030405060708ULL);
	assert_memory_equal(a, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		be64_put(a, vals[i]);
		assert_true(be64_get(a) == vals[i]);
		if (i == 0)
			continue;
		/* Byte order is numeric order, and ~v reverses it. */
		be64_put(b, vals[i - 1]);
		assert_true(memcmp(b, a, 8) < 0);
		be64_put(a, ~vals[i]);
		be64_put(b, ~vals[i - 1]);
		assert_true(memcmp(b, a, 8) > 0);
	}
}

struct numbers {
	uint64_t	last;
	int		n;
	int		ordered;
};

static int
check_order(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct numbers	*nb = arg;
	uint64_t	 x;

	(void)v;
	(void)vl;
	if (kl != 8)
		return Q_INVALID;
	x = be64_get(k);
	if (nb->n > 0 && x <= nb->last)
		nb->ordered = 0;
	nb->last = x;
	nb->n++;
	return 0;
}

static enum qerr
tx_be64_fill(struct stx *tx, void *arg)
{
	unsigned char	k[8];
	uint64_t	x = 12345;
	int		i;
	enum qerr	e;

	(void)arg;
	/* A scrambled order of 500 distinct values spanning every byte. */
	for (i = 0; i < 500; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		be64_put(k, x >> (i % 57));
		if ((e = stx_put(tx, T_QUEUE, k, 8, "", 0)) != Q_OK)
			return e;
	}
	return Q_OK;
}

static enum qerr
tx_be64_scan(struct stx *tx, void *arg)
{
	return stx_scan(tx, T_QUEUE, "", 0, NULL, 0, check_order, arg);
}

static void
test_be64_key_order(void **state)
{
	struct tu	*t = *state;
	struct numbers	 nb = { 0, 0, 1 };

	assert_int_equal(store_txn(t->s, tx_be64_fill, NULL), Q_OK);
	assert_int_equal(store_txn(t->s, tx_be64_scan, &nb), Q_OK);
	assert_true(nb.n > 490);	/* distinct but for rare collisions */
	assert_true(nb.ordered);
}

static int
scan_count(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	++*(int *)arg;
	return 0;
}

static void
test_store_scan(void **state)
{
	struct tu	*t = *state;
	int		 n = 0;

	assert_int_equal(store_txn(t->s, tx_fill, NULL), Q_OK);
	assert_int_equal(store_scan(t->s, T_TOKENS, "a\0", 2, scan_count, &n),
	    Q_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_checkpoint(t->s), Q_OK);
}

static enum qerr
tx_set_version(struct stx *tx, void *arg)
{
	unsigned char v[8];

	be64_put(v, *(uint64_t *)arg);
	return stx_put(tx, T_META, "version", 7, v, 8);
}

static void
test_format_version(void **state)
{
	struct tu	*t = *state;
	uint64_t	 v = STORE_FORMAT_VERSION + 1;
	char		*cur;

	/* A new store records the current version. */
	cur = get_str(t->s, "version");
	assert_non_null(cur);
	free(cur);
	assert_int_equal(store_txn(t->s, tx_set_version, &v), Q_OK);
	store_close(t->s);
	t->s = NULL;
	/* A store of another format version is refused, also with create. */
	assert_int_equal(store_open(&t->conf, 0, &t->s), Q_STORE);
	assert_null(t->s);
	assert_int_equal(store_open(&t->conf, STORE_CREATE, &t->s), Q_STORE);
	assert_null(t->s);
}

/* ---- across processes ---- */

struct child {
	struct conf	*conf;
	const char	*key;
	const char	*value;	/* expected (read) or to write */
	int		 crash;	/* write, then die without closing */
};

static int
child_read(void *arg)
{
	struct child	*c = arg;
	struct store	*s;
	char		*v;
	int		 rc;

	if (store_open(c->conf, 0, &s) != Q_OK)
		return 10;
	v = get_str(s, c->key);
	rc = v == NULL ? 11 : strcmp(v, c->value) != 0 ? 12 : 0;
	free(v);
	store_close(s);
	return rc;
}

static int
child_write(void *arg)
{
	struct child	*c = arg;
	struct store	*s;
	struct kv	 kv = { c->key, strlen(c->key), c->value };

	if (store_open(c->conf, 0, &s) != Q_OK)
		return 10;
	if (store_txn(s, tx_put_kv, &kv) != Q_OK)
		return 11;
	if (c->crash)
		_exit(0);	/* committed; never closes the environment */
	store_close(s);
	return 0;
}

static void
test_commit_visible_to_other_process(void **state)
{
	struct tu	*t = *state;
	struct child	 c = { &t->conf, "shared", "from parent", 0 };

	/* The parent commits; a child with its own handle sees it. */
	put_str(t->s, "shared", "from parent");
	assert_int_equal(tu_in_child(child_read, &c), 0);

	/* A child commits; the parent's open handle sees it. */
	c.key = "child";
	c.value = "from child";
	assert_int_equal(tu_in_child(child_write, &c), 0);
	assert_value(t->s, "child", "from child");
}

/*
 * What valgrind cannot run: a process killed inside Berkeley DB (its
 * latches are process-shared mutexes valgrind does not model across a
 * kill) and waits measured in real seconds.
 */
#define NOT_UNDER_VALGRIND "a process is killed inside Berkeley DB, and " \
    "real-time limits"

static void
test_commit_survives_crash(void **state)
{
	struct tu	*t = *state;
	struct child	 c = { &t->conf, "crash", "committed", 1 };

	TU_SKIP_UNDER_VALGRIND(NOT_UNDER_VALGRIND);
	store_close(t->s);
	t->s = NULL;
	/* The child commits and dies holding the environment open. */
	assert_int_equal(tu_in_child(child_write, &c), 0);
	/* The next open recovers and the commit is there. */
	assert_int_equal(store_open(&t->conf, 0, &t->s), Q_OK);
	assert_value(t->s, "crash", "committed");
	assert_int_equal(tu_in_child(child_read, &c), 0);
}

/*
 * The stall guard.  A holder process locks a latch of the environment and
 * is killed with SIGKILL while holding it; a waiter process waits for the
 * same latch inside a Berkeley DB call, as any store operation would wait
 * for a latch a killed process held.  The waiter must end itself with
 * status 75, and the store must work afterwards.
 */
static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Forks the holder; returns its pid and the latch's id, or -1. */
static pid_t
spawn_holder(const struct conf *conf, unsigned *id)
{
	struct store	*s;
	int		 p[2];
	pid_t		 pid;

	if (pipe(p) != 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (store_open(conf, 0, &s) != Q_OK ||
		    store_test_mutex(s, 1, id) != Q_OK)
			_exit(1);
		if (write(p[1], id, sizeof(*id)) != (ssize_t)sizeof(*id))
			_exit(1);
		for (;;)
			pause();	/* until killed, holding the latch */
	}
	close(p[1]);
	if (pid > 0 && read(p[0], id, sizeof(*id)) != (ssize_t)sizeof(*id)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* The system call a process's main thread is in (-1 if unknown). */
static long
in_syscall(pid_t pid)
{
	char	 path[64];
	FILE	*f;
	long	 nr = -1;

	snprintf(path, sizeof(path), "/proc/%ld/syscall", (long)pid);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
	}
	return nr;
}

/*
 * Forks the waiter and returns once it waits for the latch (its main
 * thread is in futex(2)); -1 if it did not get there within 20 s.
 */
static pid_t
spawn_waiter(const struct conf *conf, unsigned id)
{
	struct store	*s;
	pid_t		 pid;
	int		 i;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (store_open(conf, 0, &s) != Q_OK)
			_exit(1);
		store_test_mutex(s, 0, &id);
		_exit(2);	/* the wait ended by itself */
	}
	for (i = 0; pid > 0 && i < 2000; i++) {
		if (in_syscall(pid) == 202)	/* SYS_futex on x86-64 */
			return pid;
		sleep_ms(10);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/*
 * Waits up to limit_s for pid to end and returns its exit status, or
 * -1 (having killed it) if it has not ended; 128 + signal if killed.
 */
static int
reap_within(pid_t pid, int limit_s)
{
	int	st, i;

	for (i = 0; i < limit_s * 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* After a stall: the parent's handle and a new process both work. */
static void
store_still_works(struct tu *t)
{
	struct child	 c = { &t->conf, "after", "stall", 0 };

	put_str(t->s, "after", "stall");
	assert_value(t->s, "after", "stall");
	assert_int_equal(tu_in_child(child_read, &c), 0);
}

/*
 * A waiter (with stall_seconds) waiting for a latch whose holder has
 * just been killed with SIGKILL; returns the waiter's pid.
 */
static pid_t
stalled_waiter(struct tu *t, int stall_seconds)
{
	struct conf	 wc = t->conf;
	unsigned	 id = 0;
	pid_t		 holder, waiter;

	wc.stall_seconds = stall_seconds;
	assert_true((holder = spawn_holder(&t->conf, &id)) > 0);
	waiter = spawn_waiter(&wc, id);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	if (waiter < 0)
		fail_msg("the waiter never waited for the latch");
	return waiter;
}

static void
test_stall_ends_after_stall_seconds(void **state)
{
	struct tu	*t = *state;
	pid_t		 waiter;

	TU_SKIP_UNDER_VALGRIND(NOT_UNDER_VALGRIND);
	waiter = stalled_waiter(t, 2);
	/* Nobody recovers the store: stall_seconds ends the wait. */
	assert_int_equal(reap_within(waiter, 30), 75);
	store_still_works(t);
}

static int
child_open(void *arg)
{
	struct store *s;

	if (store_open(arg, 0, &s) != Q_OK)
		return 10;
	store_close(s);
	return 0;
}

static void
test_stall_ends_after_recovery(void **state)
{
	struct tu	*t = *state;
	pid_t		 waiter;
	int		 st;

	TU_SKIP_UNDER_VALGRIND(NOT_UNDER_VALGRIND);
	waiter = stalled_waiter(t, 0);	/* no stall limit */
	/* A new process's open sees the dead holder and recovers the store. */
	if (tu_in_child(child_open, &t->conf) != 0) {
		kill(waiter, SIGKILL);
		waitpid(waiter, NULL, 0);
		fail_msg("the store did not open after the holder died");
	}
	st = reap_within(waiter, 30);
	assert_int_equal(st, 75);
	store_still_works(t);
}

/*
 * Lock waits: a holder keeps a write lock in an open transaction; a
 * waiter's transaction waits for it.  Past the lock timeout the wait goes
 * on until a deadlock detector runs; store_expire_locks (quarryd's
 * housekeeping) ends it, and the waiter's transaction is tried again.
 */
static int	 lk_pipe[2];

static enum qerr
tx_hold(struct stx *tx, void *arg)
{
	(void)arg;
	/* Not in T_META: opening the store reads a key there. */
	if (stx_put(tx, T_DEFS, "held", 4, "1", 1) != Q_OK ||
	    write(lk_pipe[1], "h", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static enum qerr
tx_wait(struct stx *tx, void *arg)
{
	struct buf *b = arg;

	if (write(lk_pipe[1], "a", 1) != 1)	/* an attempt begins */
		_exit(1);
	return stx_get(tx, T_DEFS, "held", 4, b);
}

/* Forks a child that opens the store and runs fn in a transaction. */
static pid_t
spawn_txn(const struct conf *conf, store_fn fn)
{
	struct store	*s;
	struct buf	 b = BUF_INIT;
	pid_t		 pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (store_open(conf, 0, &s) != Q_OK)
			_exit(1);
		store_txn(s, fn, &b);
		_exit(0);
	}
	return pid;
}

/* Reads one byte from lk_pipe within ms; the byte, or 0. */
static char
lk_next(int ms)
{
	struct pollfd	 p = { lk_pipe[0], POLLIN, 0 };
	char		 c;

	if (poll(&p, 1, ms) != 1 || read(lk_pipe[0], &c, 1) != 1)
		return 0;
	return c;
}

static void
test_expire_locks_ends_waits(void **state)
{
	struct tu	*t = *state;
	pid_t		 holder, waiter = -1;
	char		 first = 0, early = 0, late = 0;

	TU_SKIP_UNDER_VALGRIND(NOT_UNDER_VALGRIND);
	assert_int_equal(pipe(lk_pipe), 0);
	holder = spawn_txn(&t->conf, tx_hold);
	if (holder > 0 && lk_next(20000) == 'h') {
		waiter = spawn_txn(&t->conf, tx_wait);
		first = lk_next(20000);
		/* Past the 3 s lock timeout, the wait has not ended... */
		early = lk_next(4500);
		/* ...until the expired waits are ended. */
		if (store_expire_locks(t->s) == Q_OK)
			late = lk_next(10000);
	}
	if (waiter > 0)
		kill(waiter, SIGKILL);
	if (holder > 0)
		kill(holder, SIGKILL);
	if (waiter > 0)
		waitpid(waiter, NULL, 0);
	if (holder > 0)
		waitpid(holder, NULL, 0);
	close(lk_pipe[0]);
	close(lk_pipe[1]);
	assert_true(holder > 0 && waiter > 0);
	assert_int_equal(first, 'a');
	assert_int_equal(early, 0);
	assert_int_equal(late, 'a');	/* the transaction's next attempt */
}

/*
 * A table file caught mid-append: another process writing a 64 KB page
 * of rows.db can be seen with a size that is not a whole number of
 * pages, which Berkeley DB refuses to open.  The open waits and tries
 * again; a file that stays that way fails the open, and nothing changes.
 */
static void
test_open_waits_out_a_partial_page(void **state)
{
	struct tu	*t = *state;
	char		 path[PATH_MAX], zeros[4096];
	struct stat	 st;
	pid_t		 pid;
	int		 fd;

	TU_SKIP_UNDER_VALGRIND(NOT_UNDER_VALGRIND);
	put_str(t->s, "before", "append");
	store_close(t->s);
	t->s = NULL;
	tu_path(path, t->conf.db_dir, "rows.db");
	assert_int_equal(stat(path, &st), 0);
	memset(zeros, 0, sizeof(zeros));
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, zeros, sizeof(zeros)), sizeof(zeros));
	close(fd);

	/* It stays a partial page: the open fails. */
	assert_int_equal(store_open(&t->conf, 0, &t->s), Q_STORE);
	assert_null(t->s);

	/* The append completes 100 ms into the open: the open succeeds. */
	fflush(NULL);
	if ((pid = fork()) == 0) {
		sleep_ms(100);
		_exit(truncate(path, st.st_size) == 0 ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(store_open(&t->conf, 0, &t->s), Q_OK);
	assert_int_equal(reap_within(pid, 10), 0);
	assert_value(t->s, "before", "append");
}

/* Asserts that file name of directory dir is its group's to write. */
static void
assert_group_rw(const char *dir, const char *name)
{
	char		path[PATH_MAX];
	struct stat	st;

	tu_path(path, dir, name);
	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 0660) != 0660)
		fail_msg("%s has mode %o", name, (unsigned)(st.st_mode & 07777));
}

/*
 * The web server's user and quarryd's share a store by group: whatever
 * the umask, the files the store makes (region files, tables, the log
 * files, the one made when the last fills up too) are the group's to
 * read and write, and the caller's umask is its own again after the open.
 */
static void
test_files_are_the_groups_whatever_the_umask(void **state)
{
	struct tu	*t = *state;
	struct store	*s = NULL;
	char		 key[16], *big;
	mode_t		 old;
	int		 i;

	old = umask(077);
	assert_int_equal(store_open(&t->conf, STORE_CREATE, &s), Q_OK);
	assert_int_equal(umask(077), 077);
	assert_group_rw(t->conf.db_dir, "__db.001");
	assert_group_rw(t->conf.db_dir, "quarry.db");
	assert_group_rw(t->conf.db_dir, "rows.db");
	assert_group_rw(t->conf.db_dir, "log.0000000001");
	/* Past the first log file (4 MiB). */
	big = malloc(256 << 10);
	assert_non_null(big);
	memset(big, 'x', (256 << 10) - 1);
	big[(256 << 10) - 1] = '\0';
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "big%d", i);
		put_str(s, key, big);
	}
	free(big);
	assert_group_rw(t->conf.db_dir, "log.0000000002");
	store_close(s);
	umask(old);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_create_and_get),
		TU_TEST(test_open_needs_init),
		TU_STORE_TEST(test_reopen_after_close),
		TU_STORE_TEST(test_abort_leaves_nothing),
		TU_STORE_TEST(test_txn_retries),
		TU_STORE_TEST(test_put_new_exists),
		TU_STORE_TEST(test_del),
		TU_STORE_TEST(test_scan_prefix_order),
		TU_STORE_TEST(test_scan_stop_and_error),
		cmocka_unit_test(test_be64),
		TU_STORE_TEST(test_be64_key_order),
		TU_STORE_TEST(test_store_scan),
		TU_STORE_TEST(test_format_version),
		TU_STORE_TEST(test_commit_visible_to_other_process),
		TU_STORE_TEST(test_commit_survives_crash),
		TU_STORE_TEST(test_stall_ends_after_stall_seconds),
		TU_STORE_TEST(test_stall_ends_after_recovery),
		TU_STORE_TEST(test_expire_locks_ends_waits),
		TU_STORE_TEST(test_open_waits_out_a_partial_page),
		TU_TEST(test_files_are_the_groups_whatever_the_umask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
