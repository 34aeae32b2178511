/*
 * The PostgreSQL driver of SQL sources (docs/sources.md), through libpq.
 *
 * A query runs in a READ ONLY, REPEATABLE READ transaction (a statement
 * that writes fails there with the server's own error), with
 * statement_timeout set from query_timeout.  It is declared as a cursor
 * with its parameters bound by type (never pasted: COPY takes no
 * parameters) and read FETCH_ROWS rows at a time, so memory stays flat
 * whatever the row count, at one round trip per batch instead of one
 * result per row (single-row mode).  Values come in PostgreSQL's text
 * form, what psql --csv prints.  While waiting for the server the job's
 * progress keeps being reported; a cancel or the end of query_timeout
 * sends the server a cancel request and closes the connection, so the
 * query is gone from the server at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "quarry/export.h"
#include "quarry/util.h"

/* How long to wait for the server once a cancel request is sent. */
#define CANCEL_WAIT_MS	5000
/* Rows per FETCH: memory per batch, round trips per million rows. */
#define FETCH_ROWS	10000
/* Seconds a connection attempt may take. */
#define CONNECT_TIMEOUT	"10"

/* Type oids (pg_type.h is not part of libpq's interface). */
#define OID_BOOL	16
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_TEXT	25
#define OID_OID		26
#define OID_FLOAT4	700
#define OID_FLOAT8	701
#define OID_DATE	1082
#define OID_TIMESTAMPTZ	1184
#define OID_NUMERIC	1700

struct sql_conn {
	PGconn			*pg;
	const struct db_conf	*conf;
	int			 cancelled;	/* a cancel request was sent */
	long long		 cancel_at;	/* when (mono_ms) */
	int			 timed_out;
	int			 stopped;
};

static void
clean_msg(char *dst, size_t len, const char *src)
{
	size_t n;

	snprintf(dst, len, "%s", src != NULL && *src ? src : "failed");
	n = strlen(dst);
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

/*
 * A connection that failed: transient unless the server said no to
 * who or what (a password, a role, a database): those will not pass.
 */
static int
connect_transient(const char *msg)
{
	static const char *const final[] = { "authentication", "password",
	    "does not exist", "permission denied", "no pg_hba.conf entry",
	    "invalid", NULL };
	size_t i;

	for (i = 0; final[i] != NULL; i++)
		if (strstr(msg, final[i]) != NULL)
			return 0;
	return 1;
}

static enum qerr
pg_connect(const struct db_conf *db, const char *password,
    struct sql_conn **out, struct sql_error *err)
{
	const char	*keys[8], *vals[8];
	struct sql_conn	*c;
	int		 k = 0;

	*out = NULL;
	/* "dbname" holds the whole conninfo (expand_dbname) */
	keys[k] = "dbname", vals[k++] = db->conninfo;
	keys[k] = "connect_timeout", vals[k++] = CONNECT_TIMEOUT;
	keys[k] = "application_name", vals[k++] = "quarry";
	keys[k] = "client_encoding", vals[k++] = "UTF8";
	if (password != NULL && *password != '\0')
		keys[k] = "password", vals[k++] = password;
	keys[k] = NULL, vals[k] = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return Q_NOMEM;
	c->conf = db;
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		clean_msg(err->msg, sizeof(err->msg), c->pg ?
		    PQerrorMessage(c->pg) : "out of memory");
		err->transient = connect_transient(err->msg);
		PQfinish(c->pg);
		free(c);
		return err->transient ? Q_TRANSIENT : Q_INVALID;
	}
	*out = c;
	return Q_OK;
}

/* Sets err from a failed result (or the connection), classified. */
static enum qerr
fail_with(struct sql_conn *c, PGresult *res, struct sql_error *err)
{
	const char	*state = res ? PQresultErrorField(res,
			    PG_DIAG_SQLSTATE) : NULL;
	const char	*prim = res ? PQresultErrorField(res,
			    PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (c->timed_out) {
		err->timeout = 1;
		return Q_TIMEOUT;
	}
	if (c->stopped)
		return Q_CANCELLED;
	clean_msg(err->msg, sizeof(err->msg), prim ? prim :
	    PQerrorMessage(c->pg));
	if (PQstatus(c->pg) != CONNECTION_OK || state == NULL)
		err->transient = 1;	/* the server went away */
	else if (strncmp(state, "08", 2) == 0 ||	/* connection */
	    strcmp(state, "40001") == 0 ||	/* serialization failure */
	    strcmp(state, "40P01") == 0 ||	/* deadlock */
	    strncmp(state, "53", 2) == 0 ||	/* insufficient resources */
	    strcmp(state, "57P01") == 0 ||	/* admin shutdown */
	    strcmp(state, "57P02") == 0 ||	/* crash shutdown */
	    strcmp(state, "57P03") == 0)	/* cannot connect now */
		err->transient = 1;
	else if (strcmp(state, "57014") == 0) {
		/* statement_timeout: the server's side of query_timeout */
		err->timeout = 1;
		return Q_TIMEOUT;
	}
	return err->transient ? Q_TRANSIENT : Q_INVALID;
}

/* Asks the server to stop the running statement. */
static void
send_cancel(struct sql_conn *c)
{
	PGcancel	*cn;
	char		 buf[256];

	if (c->cancelled)
		return;
	c->cancelled = 1;
	c->cancel_at = mono_ms();
	if ((cn = PQgetCancel(c->pg)) != NULL) {
		(void)PQcancel(cn, buf, sizeof(buf));
		PQfreeCancel(cn);
	}
}

/*
 * Waits for the result of what was sent, reporting progress (which may
 * stop it) and watching the deadline; a cancel request goes to the
 * server when either ends it.  Returns the last result (the caller
 * clears it) or NULL with the connection's error.
 */
static PGresult *
wait_result(struct sql_conn *c, const struct sql_sink *sink, long long
    deadline)
{
	PGresult	*res, *last = NULL;
	struct pollfd	 pfd;
	long long	 now, last_tick = mono_ms();

	for (;;) {
		while (!PQisBusy(c->pg)) {
			if ((res = PQgetResult(c->pg)) == NULL)
				return last;
			PQclear(last);
			last = res;
		}
		pfd.fd = PQsocket(c->pg);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, PROGRESS_MS) < 0 && errno != EINTR)
			break;
		if (PQconsumeInput(c->pg) == 0)
			break;
		now = mono_ms();
		if (c->cancelled && now - c->cancel_at >= CANCEL_WAIT_MS)
			break;		/* the server does not answer: give up */
		if (!c->cancelled && now >= deadline) {
			c->timed_out = 1;
			send_cancel(c);
		}
		if (!c->cancelled && sink != NULL &&
		    now - last_tick >= PROGRESS_MS) {
			last_tick = now;
			if (sink->tick(sink->arg) != 0) {
				c->stopped = 1;
				send_cancel(c);
			}
		}
	}
	PQclear(last);
	return NULL;
}

/* Runs a command that returns no rows; Q_OK or the classified error. */
static enum qerr
command(struct sql_conn *c, const char *sql, long long deadline,
    struct sql_error *err)
{
	PGresult	*res;
	enum qerr	 e = Q_OK;

	if (!PQsendQuery(c->pg, sql))
		return fail_with(c, NULL, err);
	res = wait_result(c, NULL, deadline);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		e = fail_with(c, res, err);
	PQclear(res);
	return e;
}

static Oid
oid_of(enum ptype t)
{
	switch (t) {
	case PT_INT:		return OID_INT8;
	case PT_DECIMAL:	return OID_NUMERIC;
	case PT_DATE:		return OID_DATE;
	case PT_DATETIME:	return OID_TIMESTAMPTZ;
	case PT_STRING:		break;
	}
	return OID_TEXT;
}

static enum vtype
vtype_of(Oid o)
{
	switch (o) {
	case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
	case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC:
		return VT_NUMBER;
	case OID_BOOL:
		return VT_BOOL;
	}
	return VT_TEXT;
}

/* Queues a FETCH in the pipeline and sends it on its way. */
static int
send_fetch(struct sql_conn *c, const char *fetch)
{
	if (!PQsendQueryParams(c->pg, fetch, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendFlushRequest(c->pg) || PQflush(c->pg) < 0)
		return -1;
	return 0;
}

/* Hands one FETCH batch to the sink; the columns before the first. */
static int
deliver(PGresult *res, const struct sql_sink *sink, int *begun,
    const char **f, size_t *len, enum vtype *ty, size_t n)
{
	char	*names[1];
	char	**nm = names;
	int	 r, i, j, rows = PQntuples(res);
	enum qerr e;

	if (!*begun) {
		if (n > 0 && (nm = calloc(n, sizeof(char *))) == NULL)
			return Q_NOMEM;
		for (j = 0; j < (int)n; j++)
			nm[j] = PQfname(res, j);
		e = sink->begin(sink->arg, nm, n);
		if (nm != names)
			free(nm);
		if (e != Q_OK)
			return e;
		*begun = 1;
	}
	for (j = 0; j < (int)n; j++)
		ty[j] = vtype_of(PQftype(res, j));
	for (i = 0; i < rows; i++) {
		for (j = 0; j < (int)n; j++) {
			if (PQgetisnull(res, i, j)) {
				f[j] = NULL;
				len[j] = 0;
			} else {
				f[j] = PQgetvalue(res, i, j);
				len[j] = (size_t)PQgetlength(res, i, j);
			}
		}
		r = sink->row(sink->arg, f, len, ty, n);
		if (r != VISIT_NEXT)
			return r;
	}
	return VISIT_NEXT;
}

static enum qerr
pg_query(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, const struct sql_sink *sink, struct sql_error *err)
{
	char		 set[96], fetch[64];
	struct buf	 decl = BUF_INIT;
	const char	*vals[SQL_PLACEHOLDERS_MAX];
	Oid		 types[SQL_PLACEHOLDERS_MAX];
	const char	**f = NULL;
	size_t		*len = NULL, n = 0, i;
	enum vtype	*ty = NULL;
	PGresult	*res = NULL;
	long long	 deadline = mono_ms() + c->conf->query_timeout * 1000;
	int		 begun = 0, last, r;
	enum qerr	 e;

	snprintf(set, sizeof(set), "SET LOCAL statement_timeout = %lld",
	    c->conf->query_timeout * 1000);
	if ((e = command(c, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE "
	    "READ READ ONLY", deadline, err)) != Q_OK ||
	    (e = command(c, set, deadline, err)) != Q_OK)
		return e;
	for (i = 0; i < nv; i++) {
		vals[i] = v[i].s;
		types[i] = oid_of(v[i].type);
	}
	buf_adds(&decl, "DECLARE quarry_rows NO SCROLL CURSOR FOR ");
	buf_adds(&decl, sql);
	if (decl.oom) {
		buf_free(&decl);
		return Q_NOMEM;
	}
	r = PQsendQueryParams(c->pg, buf_str(&decl), (int)nv, types, vals,
	    NULL, NULL, 0);
	buf_free(&decl);
	if (!r)
		return fail_with(c, NULL, err);
	res = wait_result(c, sink, deadline);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		e = fail_with(c, res, err);
		goto out;
	}
	snprintf(fetch, sizeof(fetch), "FETCH FORWARD %d FROM quarry_rows",
	    FETCH_ROWS);
	/*
	 * Pipelined: the next FETCH is on its way before this batch is
	 * written, so the server reads rows while the build writes them.
	 */
	PQclear(res);
	res = NULL;
	if (!PQenterPipelineMode(c->pg) || send_fetch(c, fetch) != 0) {
		e = fail_with(c, NULL, err);
		goto out;
	}
	for (;;) {
		PQclear(res);
		res = wait_result(c, sink, deadline);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
			e = fail_with(c, res, err);
			goto out;
		}
		last = PQntuples(res) < FETCH_ROWS;
		if (!last && send_fetch(c, fetch) != 0) {
			e = fail_with(c, NULL, err);
			goto out;
		}
		if (f == NULL) {
			n = (size_t)PQnfields(res);
			f = calloc(n ? n : 1, sizeof(*f));
			len = calloc(n ? n : 1, sizeof(*len));
			ty = calloc(n ? n : 1, sizeof(*ty));
			if (f == NULL || len == NULL || ty == NULL) {
				e = Q_NOMEM;
				goto out;
			}
		}
		r = deliver(res, sink, &begun, f, len, ty, n);
		if (r == VISIT_STOP) {
			c->stopped = 1;
			e = Q_CANCELLED;
			goto out;
		}
		if (r != VISIT_NEXT) {
			e = (enum qerr)r;
			goto out;
		}
		if (last)
			break;
	}
	/* end the pipeline: a sync, its result, back to plain mode */
	PQclear(res);
	res = NULL;
	if (!PQpipelineSync(c->pg) ||
	    (res = wait_result(c, NULL, deadline)) == NULL ||
	    PQresultStatus(res) != PGRES_PIPELINE_SYNC ||
	    !PQexitPipelineMode(c->pg)) {
		e = fail_with(c, res, err);
		goto out;
	}
	PQclear(res);
	res = NULL;
	e = command(c, "COMMIT", deadline, err);
out:
	PQclear(res);
	free(f);
	free(len);
	free(ty);
	return e;
}

static enum qerr
pg_version(struct sql_conn *c, char *out, size_t len, struct sql_error *err)
{
	PGresult	*res;
	enum qerr	 e = Q_OK;

	res = PQexec(c->pg, "SELECT version()");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
	else
		e = fail_with(c, res, err);
	PQclear(res);
	return e;
}

static enum qerr
pg_describe(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, struct buf *cols, struct sql_error *err)
{
	Oid		 types[SQL_PLACEHOLDERS_MAX];
	PGresult	*res, *tn;
	char		 oid[16], mod[16];
	const char	*p[2];
	size_t		 i;
	int		 j;
	enum qerr	 e = Q_OK;

	for (i = 0; i < nv; i++)
		types[i] = oid_of(v[i].type);
	res = PQprepare(c->pg, "", sql, (int)nv, types);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		e = fail_with(c, res, err);
		PQclear(res);
		return e;
	}
	PQclear(res);
	res = PQdescribePrepared(c->pg, "");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		e = fail_with(c, res, err);
		PQclear(res);
		return e;
	}
	for (j = 0; j < PQnfields(res); j++) {
		snprintf(oid, sizeof(oid), "%u", PQftype(res, j));
		snprintf(mod, sizeof(mod), "%d", PQfmod(res, j));
		p[0] = oid;
		p[1] = mod;
		tn = PQexecParams(c->pg, "SELECT format_type($1::oid, "
		    "NULLIF($2::int, -1))", 2, NULL, p, NULL, NULL, 0);
		buf_printf(cols, "%s\t%s\n", PQfname(res, j),
		    PQresultStatus(tn) == PGRES_TUPLES_OK &&
		    PQntuples(tn) == 1 ? PQgetvalue(tn, 0, 0) : oid);
		PQclear(tn);
	}
	PQclear(res);
	return Q_OK;
}

static void
pg_close(struct sql_conn *c)
{
	PQfinish(c->pg);
	free(c);
}

const struct sql_driver sql_driver_pg = {
	DB_POSTGRESQL,
	pg_connect,
	pg_query,
	pg_version,
	pg_describe,
	pg_close,
};
