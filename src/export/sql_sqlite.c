/*
 * The SQLite driver of SQL sources (docs/sources.md), through
 * libsqlite3.  The database file is opened read-only and with
 * query_only set; a statement that would write is refused before it
 * runs.  Rows stream from sqlite3_step; a progress handler keeps the
 * job's progress reported while SQLite works between rows, and stops
 * the statement on cancel or at query_timeout.  Values are SQLite's own
 * text of them (what sqlite3 -csv prints); a BLOB is written as \x and
 * its bytes in hex, the form PostgreSQL gives bytea.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "quarry/export.h"
#include "quarry/util.h"

/* SQLite virtual machine steps between two looks at the clock. */
#define SQLITE_PROGRESS_STEPS	10000
/* How long a query waits for a writer's lock before it is transient. */
#define SQLITE_BUSY_MS		10000

struct sql_conn {
	sqlite3			*db;
	const struct db_conf	*conf;
	const struct sql_sink	*sink;
	long long		 deadline;	/* mono_ms */
	long long		 last_tick;
	int			 timed_out;
	int			 stopped;
};

static void
set_err(struct sql_error *err, sqlite3 *db, int rc)
{
	snprintf(err->msg, sizeof(err->msg), "%s", db != NULL ?
	    sqlite3_errmsg(db) : sqlite3_errstr(rc));
	rc &= 0xff;
	err->transient = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static enum qerr
lite_connect(const struct db_conf *db, const char *password,
    struct sql_conn **out, struct sql_error *err)
{
	struct sql_conn	*c;
	int		 rc;

	(void)password;
	*out = NULL;
	/*
	 * A build uses SQLite from one thread: no mutexes at all (refused,
	 * harmlessly, once SQLite is initialized).
	 */
	(void)sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return Q_NOMEM;
	c->conf = db;
	rc = sqlite3_open_v2(db->path, &c->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err->msg, sizeof(err->msg), "cannot open %.200s: %.180s",
		    db->path, c->db ? sqlite3_errmsg(c->db) :
		    sqlite3_errstr(rc));
		sqlite3_close(c->db);
		free(c);
		return Q_INVALID;
	}
	sqlite3_busy_timeout(c->db, SQLITE_BUSY_MS);
	rc = sqlite3_exec(c->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		set_err(err, c->db, rc);
		sqlite3_close(c->db);
		free(c);
		return Q_INVALID;
	}
	*out = c;
	return Q_OK;
}

/* Between steps: the deadline, and the job's progress (cancel). */
static int
on_progress(void *arg)
{
	struct sql_conn	*c = arg;
	long long	 now = mono_ms();

	if (now >= c->deadline) {
		c->timed_out = 1;
		return 1;
	}
	if (c->sink != NULL && now - c->last_tick >= PROGRESS_MS) {
		c->last_tick = now;
		if (c->sink->tick(c->sink->arg) != 0) {
			c->stopped = 1;
			return 1;
		}
	}
	return 0;
}

/* Prepares sql: one statement, and one that only reads. */
static enum qerr
prepare(struct sql_conn *c, const char *sql, sqlite3_stmt **st,
    struct sql_error *err)
{
	const char	*tail = NULL;
	int		 rc;

	rc = sqlite3_prepare_v2(c->db, sql, -1, st, &tail);
	if (rc != SQLITE_OK) {
		set_err(err, c->db, rc);
		return Q_INVALID;
	}
	if (*st == NULL) {
		snprintf(err->msg, sizeof(err->msg), "the query is empty");
		return Q_INVALID;
	}
	while (tail != NULL && (*tail == ' ' || *tail == '\t' ||
	    *tail == '\n' || *tail == '\r' || *tail == ';'))
		tail++;
	if (tail != NULL && *tail != '\0') {
		snprintf(err->msg, sizeof(err->msg), "the query is more than "
		    "one statement");
		return Q_INVALID;
	}
	if (!sqlite3_stmt_readonly(*st)) {
		snprintf(err->msg, sizeof(err->msg), "the query would write: "
		    "a SQL source only reads");
		return Q_INVALID;
	}
	return Q_OK;
}

static enum qerr
bind(struct sql_conn *c, sqlite3_stmt *st, const struct sql_value *v,
    size_t nv, struct sql_error *err)
{
	char	dt[32];
	size_t	i;
	int	rc = SQLITE_OK;

	for (i = 0; i < nv && rc == SQLITE_OK; i++) {
		int at = (int)i + 1;

		if (v[i].s == NULL)
			rc = sqlite3_bind_null(st, at);
		else if (v[i].type == PT_INT)
			rc = sqlite3_bind_int64(st, at, strtoll(v[i].s, NULL,
			    10));
		else if (v[i].type == PT_DATETIME && sql_utc_text(v[i].s, dt) == 0)
			rc = sqlite3_bind_text(st, at, dt, -1,
			    SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_text(st, at, v[i].s, -1,
			    SQLITE_TRANSIENT);
	}
	if (rc != SQLITE_OK) {
		set_err(err, c->db, rc);
		return Q_INVALID;
	}
	return Q_OK;
}

static const char hexd[] = "0123456789abcdef";

/* An integer's decimal text into out (room for 21 bytes); its length. */
static size_t
int_text(sqlite3_int64 v, char *out)
{
	char			 tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;
	size_t			 n;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(out, p, n);
	return n;
}

/*
 * A REAL with at most four decimals, as SQLite writes it (see export.h).
 * SQLite prints a REAL with "%!.15g": fifteen significant digits, no
 * trailing zeros, ".0" when whole.  When d is the nearest double to
 * k / 10^4 for an integer |k| < 10^15, those digits are k / 10^4's own:
 * the decimal has at most fifteen significant digits, and d lies within
 * 2^-53 of it (relative), far less than half a unit of its fifteenth
 * digit.  Writing the digits here spares SQLite's general printf, a
 * fifth of an export's time on a table of amounts.  Compared with
 * SQLite's own conversion in tests/unit/test_sql.c.
 */
int
sqlite_real_text(double d, char *out)
{
	double			 s;
	long long		 k;
	unsigned long long	 u, ip, fp;
	char			 tmp[24], *p = tmp + sizeof(tmp);
	int			 i, n;

	if (!(d > -1e11 && d < 1e11))		/* NaN too */
		return -1;
	s = d * 10000.0;
	k = (long long)(s < 0 ? s - 0.5 : s + 0.5);
	if (k == 0 || (double)k / 10000.0 != d)	/* 0: SQLite's "-0.0" */
		return -1;
	u = k < 0 ? 0ULL - (unsigned long long)k : (unsigned long long)k;
	ip = u / 10000;
	fp = u % 10000;
	if (fp == 0)
		*--p = '0';
	else {
		for (i = 0; i < 4 && fp % 10 == 0; i++)
			fp /= 10;
		for (; i < 4; i++) {
			*--p = (char)('0' + fp % 10);
			fp /= 10;
		}
	}
	*--p = '.';
	do {
		*--p = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip != 0);
	if (k < 0)
		*--p = '-';
	n = (int)(tmp + sizeof(tmp) - p);
	memcpy(out, p, (size_t)n);
	return n;
}

static enum qerr
lite_query(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, const struct sql_sink *sink, struct sql_error *err)
{
	sqlite3_stmt	*st = NULL;
	const char	**f = NULL;
	size_t		*len = NULL;
	enum vtype	*ty = NULL;
	char		**names = NULL;
	struct buf	*blob = NULL;
	char		(*num)[24] = NULL;
	size_t		 n = 0, i, k;
	int		 rc, r;
	enum qerr	 e;

	c->sink = sink;
	c->last_tick = mono_ms();
	c->deadline = c->last_tick + c->conf->query_timeout * 1000;
	sqlite3_progress_handler(c->db, SQLITE_PROGRESS_STEPS, on_progress, c);
	if ((e = prepare(c, sql, &st, err)) != Q_OK ||
	    (e = bind(c, st, v, nv, err)) != Q_OK)
		goto out;
	n = (size_t)sqlite3_column_count(st);
	f = calloc(n ? n : 1, sizeof(*f));
	len = calloc(n ? n : 1, sizeof(*len));
	ty = calloc(n ? n : 1, sizeof(*ty));
	names = calloc(n ? n : 1, sizeof(*names));
	blob = calloc(n ? n : 1, sizeof(*blob));
	num = calloc(n ? n : 1, sizeof(*num));
	if (f == NULL || len == NULL || ty == NULL || names == NULL ||
	    blob == NULL || num == NULL) {
		e = Q_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		names[i] = (char *)sqlite3_column_name(st, (int)i);
	if ((e = sink->begin(sink->arg, names, n)) != Q_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			int t = sqlite3_column_type(st, (int)i);

			ty[i] = t == SQLITE_INTEGER || t == SQLITE_FLOAT ?
			    VT_NUMBER : VT_TEXT;
			if (t == SQLITE_NULL) {
				f[i] = NULL;
				len[i] = 0;
			} else if (t == SQLITE_INTEGER) {
				/* the same text as SQLite's, without its copy */
				len[i] = int_text(sqlite3_column_int64(st,
				    (int)i), num[i]);
				f[i] = num[i];
			} else if (t == SQLITE_FLOAT &&
			    (r = sqlite_real_text(sqlite3_column_double(st,
			    (int)i), num[i])) >= 0) {
				len[i] = (size_t)r;
				f[i] = num[i];
			} else if (t == SQLITE_BLOB) {
				const unsigned char *b = sqlite3_column_blob(st,
				    (int)i);
				size_t bl = (size_t)sqlite3_column_bytes(st,
				    (int)i);

				buf_reset(&blob[i]);
				buf_adds(&blob[i], "\\x");
				for (k = 0; k < bl; k++) {
					buf_addc(&blob[i], hexd[b[k] >> 4]);
					buf_addc(&blob[i], hexd[b[k] & 15]);
				}
				if (blob[i].oom) {
					e = Q_NOMEM;
					goto out;
				}
				f[i] = blob[i].data;
				len[i] = blob[i].len;
			} else {
				f[i] = (const char *)sqlite3_column_text(st,
				    (int)i);
				len[i] = (size_t)sqlite3_column_bytes(st,
				    (int)i);
				if (f[i] == NULL) {
					e = Q_NOMEM;
					goto out;
				}
			}
		}
		r = sink->row(sink->arg, f, len, ty, n);
		if (r == VISIT_STOP) {
			c->stopped = 1;
			e = Q_CANCELLED;
			goto out;
		}
		if (r != VISIT_NEXT) {
			e = (enum qerr)r;
			goto out;
		}
	}
	if (rc == SQLITE_DONE)
		e = Q_OK;
	else if (c->stopped)
		e = Q_CANCELLED;
	else if (c->timed_out) {
		err->timeout = 1;
		e = Q_TIMEOUT;
	} else {
		set_err(err, c->db, rc);
		e = err->transient ? Q_TRANSIENT : Q_INVALID;
	}
out:
	sqlite3_progress_handler(c->db, 0, NULL, NULL);
	sqlite3_finalize(st);
	if (blob != NULL)
		for (i = 0; i < n; i++)
			buf_free(&blob[i]);
	free(blob);
	free(num);
	free(f);
	free(len);
	free(ty);
	free(names);
	return e;
}

static enum qerr
lite_version(struct sql_conn *c, char *out, size_t len,
    struct sql_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	/* a trivial read of the file: its schema */
	rc = sqlite3_prepare_v2(c->db, "SELECT count(*) FROM sqlite_schema",
	    -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		set_err(err, c->db, rc);
		sqlite3_finalize(st);
		return Q_INVALID;
	}
	sqlite3_finalize(st);
	snprintf(out, len, "SQLite %s", sqlite3_libversion());
	return Q_OK;
}

static enum qerr
lite_describe(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, struct buf *cols, struct sql_error *err)
{
	sqlite3_stmt	*st = NULL;
	const char	*t;
	int		 i, n;
	enum qerr	 e;

	(void)v;
	(void)nv;
	c->deadline = mono_ms() + c->conf->query_timeout * 1000;
	if ((e = prepare(c, sql, &st, err)) == Q_OK) {
		n = sqlite3_column_count(st);
		for (i = 0; i < n; i++) {
			t = sqlite3_column_decltype(st, i);
			buf_printf(cols, "%s\t%s\n", sqlite3_column_name(st, i),
			    t != NULL && *t != '\0' ? t : "(any)");
		}
	}
	sqlite3_finalize(st);
	return e;
}

static void
lite_close(struct sql_conn *c)
{
	sqlite3_close(c->db);
	free(c);
}

const struct sql_driver sql_driver_sqlite = {
	DB_SQLITE,
	lite_connect,
	lite_query,
	lite_version,
	lite_describe,
	lite_close,
};
