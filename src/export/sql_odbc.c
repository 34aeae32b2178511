/*
 * The ODBC driver of SQL sources (docs/sources.md), through unixODBC:
 * whatever database has an ODBC driver (SQL Server, Oracle, …).
 *
 * The connection asks the driver for read-only access
 * (SQL_ATTR_ACCESS_MODE), runs with autocommit off and always ends with
 * a rollback, and a statement that gives no result set fails the job:
 * what a driver that ignores read-only mode let through is undone.  The
 * password goes into the connection string as PWD={…} and is scrubbed
 * from any message.  Text travels as UTF-16 (SQL_C_WCHAR, whatever the
 * process's locale) and is written as UTF-8; numbers and dates as the
 * driver's text of them; binary values as \x and hex.  Values are bound
 * with SQLBindParameter by type.
 *
 * ODBC calls block, so a helper thread keeps the job's progress reported
 * while one does (taking turns with the main thread under a lock, never
 * both at once), and calls SQLCancel on cancel or at query_timeout
 * (which is also the statement's SQL_ATTR_QUERY_TIMEOUT).  Rows stream
 * from SQLFetch if the driver streams: configure it to (PostgreSQL's
 * psqlodbc: UseDeclareFetch=1).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sql.h>
#include <sqlext.h>

#include "quarry/export.h"
#include "quarry/util.h"

#define LOGIN_TIMEOUT	10
#define CHUNK		8192	/* SQLGetData piece, in bytes */

struct sql_conn {
	SQLHENV			 env;
	SQLHDBC			 dbc;
	SQLHSTMT		 st;
	const struct db_conf	*conf;
	char			*password;	/* scrubbed from messages */
	/* the helper thread */
	pthread_t		 ticker;
	int			 ticking;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 busy;		/* main is in an ODBC call */
	int			 done;
	const struct sql_sink	*sink;
	long long		 deadline;
	long long		 last_tick;
	int			 cancelled;
	int			 timed_out;
	int			 stopped;
};

/* Removes every copy of secret from msg. */
static void
scrub(char *msg, const char *secret)
{
	size_t	 n = secret ? strlen(secret) : 0;
	char	*p;

	if (n == 0)
		return;
	while ((p = strstr(msg, secret)) != NULL) {
		memset(p, '*', 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/* The diagnostics of a handle into err; 1 if the state is transient. */
static int
diag(SQLSMALLINT type, SQLHANDLE h, struct sql_conn *c,
    struct sql_error *err)
{
	SQLCHAR		state[6], text[300];
	SQLINTEGER	native;
	SQLSMALLINT	len;
	int		transient = 0;

	state[0] = '\0';
	if (SQLGetDiagRec(type, h, 1, state, &native, text, sizeof(text),
	    &len) == SQL_SUCCESS || len > 0) {
		char *p;

		/* one line: drivers end their parts with ";\n" */
		for (p = (char *)text; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		for (p = (char *)text + strlen((char *)text); p > (char *)text
		    && (p[-1] == ' ' || p[-1] == ';'); p--)
			p[-1] = '\0';
		snprintf(err->msg, sizeof(err->msg), "%s (%s)", text, state);
		if (c != NULL)
			scrub(err->msg, c->password);
	} else
		snprintf(err->msg, sizeof(err->msg), "the ODBC driver failed");
	/*
	 * 08: the connection; 40: a rollback (deadlock, serialization);
	 * HYT01: the login timed out; 57P0x: the server shutting down or
	 * crashed (PostgreSQL's states, which its driver passes on).
	 */
	if (strncmp((char *)state, "08", 2) == 0 ||
	    strncmp((char *)state, "40", 2) == 0 ||
	    strcmp((char *)state, "HYT01") == 0 ||
	    strncmp((char *)state, "57P0", 4) == 0)
		transient = 1;
	if (strcmp((char *)state, "HYT00") == 0)
		err->timeout = 1;
	err->transient = transient;
	return transient;
}

/* The connection string with the password as PWD={…}. */
static int
conn_string(struct buf *b, const char *connection, const char *password)
{
	const char *p;

	buf_adds(b, connection);
	if (password != NULL && *password != '\0') {
		if (b->len > 0 && b->data[b->len - 1] != ';')
			buf_addc(b, ';');
		buf_adds(b, "PWD={");
		for (p = password; *p; p++) {
			if (*p == '}')
				buf_addc(b, '}');
			buf_addc(b, *p);
		}
		buf_addc(b, '}');
	}
	return b->oom ? -1 : 0;
}

static enum qerr
odbc_connect(const struct db_conf *db, const char *password,
    struct sql_conn **out, struct sql_error *err)
{
	struct sql_conn	*c;
	struct buf	 cs = BUF_INIT;
	SQLRETURN	 rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->password = strdup(password ? password : "")) == NULL) {
		free(c);
		return Q_NOMEM;
	}
	c->conf = db;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &c->env) !=
	    SQL_SUCCESS ||
	    SQLSetEnvAttr(c->env, SQL_ATTR_ODBC_VERSION,
	    (SQLPOINTER)SQL_OV_ODBC3, 0) != SQL_SUCCESS ||
	    SQLAllocHandle(SQL_HANDLE_DBC, c->env, &c->dbc) != SQL_SUCCESS) {
		snprintf(err->msg, sizeof(err->msg), "cannot start unixODBC");
		goto fail;
	}
	SQLSetConnectAttr(c->dbc, SQL_ATTR_LOGIN_TIMEOUT,
	    (SQLPOINTER)(intptr_t)LOGIN_TIMEOUT, 0);
	if (conn_string(&cs, db->connection, password) != 0) {
		buf_free(&cs);
		goto fail;
	}
	rc = SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)buf_str(&cs), SQL_NTS,
	    NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
	explicit_bzero(cs.data, cs.len);
	buf_free(&cs);
	if (!SQL_SUCCEEDED(rc)) {
		(void)diag(SQL_HANDLE_DBC, c->dbc, c, err);
		/* a refused login will not pass; no server may */
		if (strstr(err->msg, "password") != NULL ||
		    strstr(err->msg, "authentication") != NULL ||
		    strstr(err->msg, "(28000)") != NULL)
			err->transient = 0;
		goto fail;
	}
	SQLSetConnectAttr(c->dbc, SQL_ATTR_ACCESS_MODE,
	    (SQLPOINTER)SQL_MODE_READ_ONLY, 0);
	SQLSetConnectAttr(c->dbc, SQL_ATTR_AUTOCOMMIT,
	    (SQLPOINTER)SQL_AUTOCOMMIT_OFF, 0);
	*out = c;
	return Q_OK;
fail:
	if (c->dbc != NULL)
		SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
	if (c->env != NULL)
		SQLFreeHandle(SQL_HANDLE_ENV, c->env);
	explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	return err->transient ? Q_TRANSIENT : Q_INVALID;
}

/* ---- the helper thread ---- */

static void *
ticker(void *arg)
{
	struct sql_conn	*c = arg;
	struct timespec	 ts;
	long long	 now;

	pthread_mutex_lock(&c->mu);
	while (!c->done) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += PROGRESS_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		if (c->done || !c->busy || c->cancelled)
			continue;
		/* main is blocked in an ODBC call: the progress is ours */
		now = mono_ms();
		if (now >= c->deadline) {
			c->timed_out = 1;
			c->cancelled = 1;
			SQLCancel(c->st);
		} else if (now - c->last_tick >= PROGRESS_MS) {
			c->last_tick = now;
			if (c->sink->tick(c->sink->arg) != 0) {
				c->stopped = 1;
				c->cancelled = 1;
				SQLCancel(c->st);
			}
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void
enter(struct sql_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->busy = 1;
	pthread_mutex_unlock(&c->mu);
}

/* Back from an ODBC call: waits until the helper is not ticking. */
static void
leave(struct sql_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->busy = 0;
	pthread_mutex_unlock(&c->mu);
}

static void
stop_ticker(struct sql_conn *c)
{
	if (!c->ticking)
		return;
	pthread_mutex_lock(&c->mu);
	c->done = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->ticker, NULL);
	c->ticking = 0;
}

/* ---- values ---- */

/* UTF-8 to UTF-16 (SQLWCHAR) into b; -1 if s is not UTF-8. */
static int
to_utf16(const char *s, struct buf *b)
{
	size_t		n = strlen(s), i = 0, k;
	uint32_t	cp;
	SQLWCHAR	w[2];

	while (i < n) {
		if ((k = utf8_char(s + i, n - i)) == 0)
			return -1;
		cp = k == 1 ? (unsigned char)s[i] : k == 2 ?
		    (uint32_t)(s[i] & 0x1f) << 6 | (s[i + 1] & 0x3f) : k == 3 ?
		    (uint32_t)(s[i] & 0x0f) << 12 |
		    (uint32_t)(s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3f) :
		    (uint32_t)(s[i] & 0x07) << 18 |
		    (uint32_t)(s[i + 1] & 0x3f) << 12 |
		    (uint32_t)(s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			w[0] = (SQLWCHAR)(0xd800 | (cp >> 10));
			w[1] = (SQLWCHAR)(0xdc00 | (cp & 0x3ff));
			buf_add(b, w, sizeof(w));
		} else {
			w[0] = (SQLWCHAR)cp;
			buf_add(b, w, sizeof(w[0]));
		}
		i += k;
	}
	w[0] = 0;
	buf_add(b, w, sizeof(w[0]));
	return b->oom ? -1 : 0;
}

/* UTF-16 (n units) to UTF-8 appended to b; -1 on a lone surrogate. */
static int
from_utf16(const SQLWCHAR *w, size_t n, struct buf *b)
{
	size_t		i;
	uint32_t	cp;
	char		u[4];

	for (i = 0; i < n; i++) {
		cp = w[i];
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 1 >= n || w[i + 1] < 0xdc00 || w[i + 1] > 0xdfff)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (w[++i] - 0xdc00);
		} else if (cp >= 0xdc00 && cp <= 0xdfff)
			return -1;
		if (cp < 0x80) {
			buf_addc(b, (char)cp);
		} else if (cp < 0x800) {
			u[0] = (char)(0xc0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 0x3f));
			buf_add(b, u, 2);
		} else if (cp < 0x10000) {
			u[0] = (char)(0xe0 | cp >> 12);
			u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			u[2] = (char)(0x80 | (cp & 0x3f));
			buf_add(b, u, 3);
		} else {
			u[0] = (char)(0xf0 | cp >> 18);
			u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
			u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
			u[3] = (char)(0x80 | (cp & 0x3f));
			buf_add(b, u, 4);
		}
	}
	return b->oom ? -1 : 0;
}

/* What a column is, by its SQL type. */
enum colkind { K_TEXT, K_NUMBER, K_BOOL, K_BINARY };

static enum colkind
kind_of(SQLSMALLINT t)
{
	switch (t) {
	case SQL_INTEGER: case SQL_SMALLINT: case SQL_BIGINT: case SQL_TINYINT:
	case SQL_DECIMAL: case SQL_NUMERIC: case SQL_REAL: case SQL_FLOAT:
	case SQL_DOUBLE:
		return K_NUMBER;
	case SQL_BIT:
		return K_BOOL;
	case SQL_BINARY: case SQL_VARBINARY: case SQL_LONGVARBINARY:
		return K_BINARY;
	default:
		return K_TEXT;
	}
}

static const char hexd[] = "0123456789abcdef";

/*
 * One value of column col into b (reset): text as UTF-8 from UTF-16,
 * binary in hex, the rest as the driver's text.  *isnull for SQL NULL.
 */
static SQLRETURN
get_value(SQLHSTMT st, SQLUSMALLINT col, enum colkind k, struct buf *b,
    int *isnull, int *bad)
{
	unsigned char	piece[CHUNK + 4];
	SQLLEN		ind;
	SQLRETURN	rc;
	SQLSMALLINT	ctype = k == K_BINARY ? SQL_C_BINARY : k == K_TEXT ?
			    SQL_C_WCHAR : SQL_C_CHAR;
	size_t		got, unit = ctype == SQL_C_WCHAR ? sizeof(SQLWCHAR) :
			    ctype == SQL_C_CHAR ? 1 : 0, i;
	struct buf	w = BUF_INIT;

	buf_reset(b);
	*isnull = 0;
	if (k == K_BINARY)
		buf_adds(b, "\\x");
	for (;;) {
		rc = SQLGetData(st, col, ctype, piece, CHUNK, &ind);
		if (rc == SQL_NO_DATA)
			break;
		if (!SQL_SUCCEEDED(rc))
			goto out;
		if (ind == SQL_NULL_DATA) {
			*isnull = 1;
			break;
		}
		/* a piece is full (less its terminator) unless it is the last */
		if (ind == SQL_NO_TOTAL || (size_t)ind > CHUNK - unit)
			got = CHUNK - unit;
		else
			got = (size_t)ind;
		if (ctype == SQL_C_BINARY)
			for (i = 0; i < got; i++) {
				buf_addc(b, hexd[piece[i] >> 4]);
				buf_addc(b, hexd[piece[i] & 15]);
			}
		else if (ctype == SQL_C_WCHAR)
			buf_add(&w, piece, got - got % sizeof(SQLWCHAR));
		else
			buf_add(b, piece, got);
		if (rc == SQL_SUCCESS)
			break;		/* no more pieces */
	}
	if (ctype == SQL_C_WCHAR && !*isnull &&
	    from_utf16((const SQLWCHAR *)w.data, w.len / sizeof(SQLWCHAR),
	    b) != 0)
		*bad = 1;
	rc = SQL_SUCCESS;
out:
	buf_free(&w);
	return rc;
}

/* RFC 3339 to an ODBC timestamp, in UTC. */
static int
utc_ts(const char *rfc3339, SQL_TIMESTAMP_STRUCT *ts)
{
	time_t		t;
	struct tm	tm;

	if (time_parse_rfc3339(rfc3339, &t) != 0 || gmtime_r(&t, &tm) == NULL)
		return -1;
	memset(ts, 0, sizeof(*ts));
	ts->year = (SQLSMALLINT)(tm.tm_year + 1900);
	ts->month = (SQLUSMALLINT)(tm.tm_mon + 1);
	ts->day = (SQLUSMALLINT)tm.tm_mday;
	ts->hour = (SQLUSMALLINT)tm.tm_hour;
	ts->minute = (SQLUSMALLINT)tm.tm_min;
	ts->second = (SQLUSMALLINT)tm.tm_sec;
	return 0;
}

struct binds {
	struct buf		*text;
	long long		*ints;
	SQL_TIMESTAMP_STRUCT	*ts;
	SQLLEN			*ind;
};

static enum qerr
bind_params(struct sql_conn *c, const struct sql_value *v, size_t nv,
    struct binds *bd, struct sql_error *err)
{
	size_t		i;
	SQLRETURN	rc;

	bd->text = calloc(nv ? nv : 1, sizeof(*bd->text));
	bd->ints = calloc(nv ? nv : 1, sizeof(*bd->ints));
	bd->ts = calloc(nv ? nv : 1, sizeof(*bd->ts));
	bd->ind = calloc(nv ? nv : 1, sizeof(*bd->ind));
	if (bd->text == NULL || bd->ints == NULL || bd->ts == NULL ||
	    bd->ind == NULL)
		return Q_NOMEM;
	for (i = 0; i < nv; i++) {
		SQLUSMALLINT at = (SQLUSMALLINT)(i + 1);

		if (v[i].s == NULL) {
			/* NULL, of the parameter's type (a server may need it) */
			static const SQLSMALLINT sqltype[] = { SQL_WVARCHAR,
			    SQL_BIGINT, SQL_NUMERIC, SQL_TYPE_DATE,
			    SQL_TYPE_TIMESTAMP };

			bd->ind[i] = SQL_NULL_DATA;
			rc = SQLBindParameter(c->st, at, SQL_PARAM_INPUT,
			    SQL_C_CHAR, sqltype[v[i].type], 1, 0, NULL, 0,
			    &bd->ind[i]);
		} else if (v[i].type == PT_INT) {
			bd->ints[i] = strtoll(v[i].s, NULL, 10);
			rc = SQLBindParameter(c->st, at, SQL_PARAM_INPUT,
			    SQL_C_SBIGINT, SQL_BIGINT, 0, 0, &bd->ints[i], 0,
			    NULL);
		} else if (v[i].type == PT_DATETIME &&
		    utc_ts(v[i].s, &bd->ts[i]) == 0) {
			rc = SQLBindParameter(c->st, at, SQL_PARAM_INPUT,
			    SQL_C_TYPE_TIMESTAMP, SQL_TYPE_TIMESTAMP, 19, 0,
			    &bd->ts[i], 0, NULL);
		} else if (v[i].type == PT_DECIMAL || v[i].type == PT_DATE) {
			bd->ind[i] = SQL_NTS;
			rc = SQLBindParameter(c->st, at, SQL_PARAM_INPUT,
			    SQL_C_CHAR, v[i].type == PT_DATE ? SQL_TYPE_DATE :
			    SQL_NUMERIC, strlen(v[i].s), v[i].type == PT_DATE ?
			    0 : 10, (SQLPOINTER)v[i].s, 0, &bd->ind[i]);
		} else {
			if (to_utf16(v[i].s, &bd->text[i]) != 0)
				return Q_NOMEM;
			bd->ind[i] = SQL_NTS;
			rc = SQLBindParameter(c->st, at, SQL_PARAM_INPUT,
			    SQL_C_WCHAR, SQL_WVARCHAR, (bd->text[i].len /
			    sizeof(SQLWCHAR)) + 1, 0, bd->text[i].data, 0,
			    &bd->ind[i]);
		}
		if (!SQL_SUCCEEDED(rc)) {
			(void)diag(SQL_HANDLE_STMT, c->st, c, err);
			return Q_INVALID;
		}
	}
	return Q_OK;
}

static void
binds_free(struct binds *bd, size_t nv)
{
	size_t i;

	if (bd->text != NULL)
		for (i = 0; i < nv; i++)
			buf_free(&bd->text[i]);
	free(bd->text);
	free(bd->ints);
	free(bd->ts);
	free(bd->ind);
}

/* A failed call's error, classified (cancel and timeout first). */
static enum qerr
stmt_fail(struct sql_conn *c, struct sql_error *err)
{
	if (c->timed_out) {
		err->timeout = 1;
		return Q_TIMEOUT;
	}
	if (c->stopped)
		return Q_CANCELLED;
	(void)diag(SQL_HANDLE_STMT, c->st, c, err);
	if (err->timeout)
		return Q_TIMEOUT;
	return err->transient ? Q_TRANSIENT : Q_INVALID;
}

static enum qerr
odbc_query(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, const struct sql_sink *sink, struct sql_error *err)
{
	struct binds	 bd;
	SQLSMALLINT	 ncols = 0, i, nlen, type, dec, nullable;
	SQLULEN		 size;
	SQLWCHAR	 wname[256];
	SQLRETURN	 rc;
	struct buf	 wsql = BUF_INIT;
	struct buf	*vals = NULL, *nb = NULL;
	const char	**f = NULL;
	size_t		*len = NULL;
	enum vtype	*ty = NULL;
	enum colkind	*kinds = NULL;
	char		**names = NULL;
	int		 isnull, bad = 0, r;
	enum qerr	 e;

	memset(&bd, 0, sizeof(bd));
	c->sink = sink;
	c->last_tick = mono_ms();
	c->deadline = c->last_tick + c->conf->query_timeout * 1000;
	if (SQLAllocHandle(SQL_HANDLE_STMT, c->dbc, &c->st) != SQL_SUCCESS) {
		(void)diag(SQL_HANDLE_DBC, c->dbc, c, err);
		return err->transient ? Q_TRANSIENT : Q_INVALID;
	}
	/* the driver's own limit, a backstop just past ours */
	SQLSetStmtAttr(c->st, SQL_ATTR_QUERY_TIMEOUT,
	    (SQLPOINTER)(intptr_t)(c->conf->query_timeout + 5), 0);
	if ((e = bind_params(c, v, nv, &bd, err)) != Q_OK)
		goto out;
	if (to_utf16(sql, &wsql) != 0) {
		e = Q_NOMEM;
		goto out;
	}
	if (pthread_create(&c->ticker, NULL, ticker, c) != 0) {
		e = Q_NOMEM;
		goto out;
	}
	c->ticking = 1;
	enter(c);
	rc = SQLExecDirectW(c->st, (SQLWCHAR *)wsql.data, SQL_NTS);
	leave(c);
	if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) {
		e = stmt_fail(c, err);
		goto out;
	}
	if (!SQL_SUCCEEDED(SQLNumResultCols(c->st, &ncols)) || ncols <= 0) {
		snprintf(err->msg, sizeof(err->msg), "the query gives no rows: "
		    "a SQL source only reads");
		e = Q_INVALID;
		goto out;
	}
	vals = calloc((size_t)ncols, sizeof(*vals));
	nb = calloc((size_t)ncols, sizeof(*nb));
	f = calloc((size_t)ncols, sizeof(*f));
	len = calloc((size_t)ncols, sizeof(*len));
	ty = calloc((size_t)ncols, sizeof(*ty));
	kinds = calloc((size_t)ncols, sizeof(*kinds));
	names = calloc((size_t)ncols, sizeof(*names));
	if (vals == NULL || nb == NULL || f == NULL || len == NULL ||
	    ty == NULL || kinds == NULL || names == NULL) {
		e = Q_NOMEM;
		goto out;
	}
	for (i = 0; i < ncols; i++) {
		rc = SQLDescribeColW(c->st, (SQLUSMALLINT)(i + 1), wname,
		    sizeof(wname) / sizeof(wname[0]), &nlen, &type, &size,
		    &dec, &nullable);
		if (!SQL_SUCCEEDED(rc)) {
			e = stmt_fail(c, err);
			goto out;
		}
		if (nlen > (SQLSMALLINT)(sizeof(wname) / sizeof(wname[0])) - 1)
			nlen = (SQLSMALLINT)(sizeof(wname) / sizeof(wname[0])) -
			    1;
		if (from_utf16(wname, (size_t)nlen, &nb[i]) != 0) {
			snprintf(err->msg, sizeof(err->msg), "column %d has a "
			    "name that is not text", i + 1);
			e = Q_INVALID;
			goto out;
		}
		names[i] = (char *)buf_str(&nb[i]);
		kinds[i] = kind_of(type);
		ty[i] = kinds[i] == K_NUMBER ? VT_NUMBER : kinds[i] == K_BOOL ?
		    VT_BOOL : VT_TEXT;
	}
	if ((e = sink->begin(sink->arg, names, (size_t)ncols)) != Q_OK)
		goto out;
	for (;;) {
		enter(c);
		rc = SQLFetch(c->st);
		if (rc != SQL_NO_DATA && SQL_SUCCEEDED(rc))
			for (i = 0; i < ncols && SQL_SUCCEEDED(rc); i++) {
				rc = get_value(c->st, (SQLUSMALLINT)(i + 1),
				    kinds[i], &vals[i], &isnull, &bad);
				f[i] = isnull ? NULL : vals[i].data ?
				    vals[i].data : "";
				len[i] = isnull ? 0 : vals[i].len;
			}
		leave(c);
		if (rc == SQL_NO_DATA)
			break;
		if (!SQL_SUCCEEDED(rc)) {
			e = stmt_fail(c, err);
			goto out;
		}
		if (bad) {
			snprintf(err->msg, sizeof(err->msg), "a value is not "
			    "text (a lone UTF-16 surrogate)");
			e = Q_INVALID;
			goto out;
		}
		for (i = 0; i < ncols; i++)
			if (vals[i].oom) {
				e = Q_NOMEM;
				goto out;
			}
		r = sink->row(sink->arg, f, len, ty, (size_t)ncols);
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
	e = c->stopped ? Q_CANCELLED : Q_OK;
out:
	stop_ticker(c);
	/* nothing a query did stays: the transaction is always undone */
	SQLEndTran(SQL_HANDLE_DBC, c->dbc, SQL_ROLLBACK);
	SQLFreeHandle(SQL_HANDLE_STMT, c->st);
	c->st = NULL;
	binds_free(&bd, nv);
	buf_free(&wsql);
	if (vals != NULL)
		for (i = 0; i < ncols; i++)
			buf_free(&vals[i]);
	if (nb != NULL)
		for (i = 0; i < ncols; i++)
			buf_free(&nb[i]);
	free(vals);
	free(nb);
	free(f);
	free(len);
	free(ty);
	free(kinds);
	free(names);
	return e;
}

static enum qerr
odbc_version(struct sql_conn *c, char *out, size_t len,
    struct sql_error *err)
{
	SQLCHAR		name[128], ver[128], drv[128];
	SQLSMALLINT	n;

	if (!SQL_SUCCEEDED(SQLGetInfo(c->dbc, SQL_DBMS_NAME, name,
	    sizeof(name), &n)) ||
	    !SQL_SUCCEEDED(SQLGetInfo(c->dbc, SQL_DBMS_VER, ver, sizeof(ver),
	    &n)) ||
	    !SQL_SUCCEEDED(SQLGetInfo(c->dbc, SQL_DRIVER_NAME, drv,
	    sizeof(drv), &n))) {
		(void)diag(SQL_HANDLE_DBC, c->dbc, c, err);
		return Q_INVALID;
	}
	snprintf(out, len, "%s %s (ODBC driver %s)", name, ver, drv);
	return Q_OK;
}

static enum qerr
odbc_describe(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, struct buf *cols, struct sql_error *err)
{
	SQLSMALLINT	 ncols = 0, i, nlen, type, dec, nullable;
	SQLULEN		 size;
	SQLCHAR		 name[256];
	struct binds	 bd;
	struct buf	 wsql = BUF_INIT;
	enum qerr	 e = Q_OK;

	memset(&bd, 0, sizeof(bd));
	if (SQLAllocHandle(SQL_HANDLE_STMT, c->dbc, &c->st) != SQL_SUCCESS) {
		(void)diag(SQL_HANDLE_DBC, c->dbc, c, err);
		return Q_INVALID;
	}
	if ((e = bind_params(c, v, nv, &bd, err)) != Q_OK)
		goto out;
	if (to_utf16(sql, &wsql) != 0) {
		e = Q_NOMEM;
		goto out;
	}
	if (!SQL_SUCCEEDED(SQLPrepareW(c->st, (SQLWCHAR *)wsql.data,
	    SQL_NTS)) ||
	    !SQL_SUCCEEDED(SQLNumResultCols(c->st, &ncols))) {
		e = stmt_fail(c, err);
		goto out;
	}
	for (i = 0; i < ncols; i++) {
		if (!SQL_SUCCEEDED(SQLDescribeCol(c->st, (SQLUSMALLINT)(i + 1),
		    name, sizeof(name), &nlen, &type, &size, &dec,
		    &nullable))) {
			e = stmt_fail(c, err);
			goto out;
		}
		buf_printf(cols, "%s\tSQL type %d\n", name, type);
	}
out:
	SQLEndTran(SQL_HANDLE_DBC, c->dbc, SQL_ROLLBACK);
	SQLFreeHandle(SQL_HANDLE_STMT, c->st);
	c->st = NULL;
	binds_free(&bd, nv);
	buf_free(&wsql);
	return e;
}

static void
odbc_close(struct sql_conn *c)
{
	SQLDisconnect(c->dbc);
	SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
	SQLFreeHandle(SQL_HANDLE_ENV, c->env);
	explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

const struct sql_driver sql_driver_odbc = {
	DB_ODBC,
	odbc_connect,
	odbc_query,
	odbc_version,
	odbc_describe,
	odbc_close,
};
