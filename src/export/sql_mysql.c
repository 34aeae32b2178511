/*
 * The MariaDB / MySQL driver of SQL sources (docs/sources.md), through
 * libmariadb.
 *
 * Values are bound, never pasted, and the rows still come in the
 * server's own text form (what mariadb --batch prints): the job's values
 * and the query text are bound through one binary-protocol statement
 * "SET @quarry_sql = ?, @quarry_p1 = ?, …", then "PREPARE quarry_q FROM
 * @quarry_sql" and "EXECUTE quarry_q USING @quarry_p1, …" run in a READ
 * ONLY transaction.  An EXECUTE result comes in the text protocol, read
 * row by row with mysql_use_result, so memory stays flat.  The
 * non-blocking API keeps the job's progress reported while the server
 * works; a cancel or the end of query_timeout (also set on the server
 * as max_statement_time) sends KILL QUERY from a second connection.
 * Binary strings are written as \x and hex, as the other drivers do.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include "quarry/export.h"
#include "quarry/util.h"

#define CONNECT_TIMEOUT	10
#define CANCEL_WAIT_MS	5000
#define BINARY_CHARSET	63

struct sql_conn {
	MYSQL			*m;
	const struct db_conf	*conf;
	char			*password;	/* for the KILL connection */
	int			 killed;	/* KILL QUERY was sent */
	long long		 killed_at;
	int			 timed_out;
	int			 stopped;
};

static int
transient_errno(unsigned e)
{
	switch (e) {
	case CR_CONNECTION_ERROR:	/* 2002: no socket */
	case CR_CONN_HOST_ERROR:	/* 2003 */
	case CR_SERVER_GONE_ERROR:	/* 2006 */
	case CR_SERVER_LOST:		/* 2013 */
	case ER_SERVER_SHUTDOWN:	/* 1053 */
	case ER_CON_COUNT_ERROR:	/* 1040: too many connections */
	case ER_LOCK_WAIT_TIMEOUT:	/* 1205 */
	case ER_LOCK_DEADLOCK:		/* 1213 */
	case 1927:			/* ER_CONNECTION_KILLED */
		return 1;
	}
	return 0;
}

static MYSQL *
open_conn(const struct db_conf *db, const char *password, int nonblock,
    struct sql_error *err)
{
	MYSQL		*m;
	unsigned int	 timeout = CONNECT_TIMEOUT;
	my_bool		 no = 0;

	if ((m = mysql_init(NULL)) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &no);
	if (nonblock)
		mysql_options(m, MYSQL_OPT_NONBLOCK, 0);
	if (mysql_real_connect(m, db->socket[0] ? NULL : db->host,
	    db->user[0] ? db->user : NULL, password && *password ? password :
	    NULL, db->dbname, (unsigned)db->port,
	    db->socket[0] ? db->socket : NULL, 0) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "%s", mysql_error(m));
		err->transient = transient_errno(mysql_errno(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* Runs a statement without a result, blocking (short ones only). */
static int
simple(MYSQL *m, const char *sql)
{
	MYSQL_RES *r;

	if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0)
		return -1;
	if ((r = mysql_store_result(m)) != NULL)
		mysql_free_result(r);
	return 0;
}

static enum qerr
my_connect(const struct db_conf *db, const char *password,
    struct sql_conn **out, struct sql_error *err)
{
	struct sql_conn	*c;
	char		 set[96];

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->password = strdup(password ? password : "")) == NULL) {
		free(c);
		return Q_NOMEM;
	}
	c->conf = db;
	if ((c->m = open_conn(db, password, 1, err)) == NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
		free(c);
		return err->transient ? Q_TRANSIENT : Q_INVALID;
	}
	/*
	 * The server's side of query_timeout: MariaDB's max_statement_time
	 * (MySQL has none such for every statement; our deadline stands).
	 */
	snprintf(set, sizeof(set), "SET SESSION max_statement_time = %lld",
	    db->query_timeout);
	(void)simple(c->m, set);
	*out = c;
	return Q_OK;
}

/* Stops the running statement from a second connection. */
static void
kill_query(struct sql_conn *c)
{
	struct sql_error	 e;
	MYSQL			*k;
	char			 sql[64];

	if (c->killed)
		return;
	c->killed = 1;
	c->killed_at = mono_ms();
	memset(&e, 0, sizeof(e));
	if ((k = open_conn(c->conf, c->password, 0, &e)) == NULL)
		return;
	snprintf(sql, sizeof(sql), "KILL QUERY %lu", mysql_thread_id(c->m));
	(void)simple(k, sql);
	mysql_close(k);
}

/*
 * Waits for the socket as status asks, reporting progress and watching
 * the deadline (both may kill the query); returns the status for the
 * _cont call, or -1 when the server no longer answers after a kill.
 */
static int
wait_io(struct sql_conn *c, int status, const struct sql_sink *sink,
    long long deadline, long long *last_tick)
{
	struct pollfd	pfd;
	long long	now;
	int		timeout = PROGRESS_MS, rc, out = 0;

	pfd.fd = mysql_get_socket(c->m);
	pfd.events = (status & MYSQL_WAIT_READ ? POLLIN : 0) |
	    (status & MYSQL_WAIT_WRITE ? POLLOUT : 0) |
	    (status & MYSQL_WAIT_EXCEPT ? POLLPRI : 0);
	pfd.revents = 0;
	if (status & MYSQL_WAIT_TIMEOUT) {
		unsigned int t = mysql_get_timeout_value_ms(c->m);

		if (t < (unsigned)timeout)
			timeout = (int)t;
	}
	rc = poll(&pfd, 1, timeout);
	if (rc > 0) {
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			out |= MYSQL_WAIT_READ;
		if (pfd.revents & POLLOUT)
			out |= MYSQL_WAIT_WRITE;
		if (pfd.revents & POLLPRI)
			out |= MYSQL_WAIT_EXCEPT;
	} else if (rc == 0 && (status & MYSQL_WAIT_TIMEOUT))
		out |= MYSQL_WAIT_TIMEOUT;
	now = mono_ms();
	if (c->killed && now - c->killed_at >= CANCEL_WAIT_MS)
		return -1;
	if (!c->killed && now >= deadline) {
		c->timed_out = 1;
		kill_query(c);
	}
	if (!c->killed && sink != NULL && now - *last_tick >= PROGRESS_MS) {
		*last_tick = now;
		if (sink->tick(sink->arg) != 0) {
			c->stopped = 1;
			kill_query(c);
		}
	}
	return out;
}

static enum qerr
fail_with(struct sql_conn *c, struct sql_error *err)
{
	unsigned e = mysql_errno(c->m);

	if (c->timed_out || e == 1969) {	/* ER_STATEMENT_TIMEOUT */
		err->timeout = 1;
		return Q_TIMEOUT;
	}
	if (c->stopped)
		return Q_CANCELLED;
	snprintf(err->msg, sizeof(err->msg), "%s", *mysql_error(c->m) ?
	    mysql_error(c->m) : "the server does not answer");
	err->transient = e == 0 || transient_errno(e);
	return err->transient ? Q_TRANSIENT : Q_INVALID;
}

/*
 * SET @quarry_sql = ?, @quarry_p1 = ?, …: the query text and the values,
 * bound by type through a binary-protocol statement.
 */
static enum qerr
bind_all(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, struct sql_error *err)
{
	MYSQL_STMT	*st;
	MYSQL_BIND	*b;
	long long	*ints;
	char		(*dt)[32];
	unsigned long	*lens;
	struct buf	 set = BUF_INIT;
	size_t		 i;
	enum qerr	 e = Q_OK;

	b = calloc(nv + 1, sizeof(*b));
	ints = calloc(nv + 1, sizeof(*ints));
	dt = calloc(nv + 1, sizeof(*dt));
	lens = calloc(nv + 1, sizeof(*lens));
	buf_adds(&set, "SET @quarry_sql = ?");
	for (i = 0; i < nv; i++)
		buf_printf(&set, ", @quarry_p%zu = ?", i + 1);
	if (b == NULL || ints == NULL || dt == NULL || lens == NULL ||
	    set.oom) {
		e = Q_NOMEM;
		goto out;
	}
	b[0].buffer_type = MYSQL_TYPE_STRING;
	b[0].buffer = (void *)sql;
	lens[0] = (unsigned long)strlen(sql);
	b[0].length = &lens[0];
	for (i = 0; i < nv; i++) {
		MYSQL_BIND *x = &b[i + 1];
		const char *s = v[i].s;

		if (s == NULL) {
			x->buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		if (v[i].type == PT_INT) {
			ints[i] = strtoll(s, NULL, 10);
			x->buffer_type = MYSQL_TYPE_LONGLONG;
			x->buffer = &ints[i];
			continue;
		}
		if (v[i].type == PT_DATETIME && sql_utc_text(s, dt[i]) == 0)
			s = dt[i];
		x->buffer_type = v[i].type == PT_DECIMAL ?
		    MYSQL_TYPE_NEWDECIMAL : MYSQL_TYPE_STRING;
		x->buffer = (void *)s;
		lens[i + 1] = (unsigned long)strlen(s);
		x->length = &lens[i + 1];
	}
	if ((st = mysql_stmt_init(c->m)) == NULL) {
		e = Q_NOMEM;
		goto out;
	}
	if (mysql_stmt_prepare(st, buf_str(&set), (unsigned long)set.len) ||
	    mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st)) {
		snprintf(err->msg, sizeof(err->msg), "%s", mysql_stmt_error(st));
		err->transient = transient_errno(mysql_stmt_errno(st));
		e = err->transient ? Q_TRANSIENT : Q_INVALID;
	}
	mysql_stmt_close(st);
out:
	buf_free(&set);
	free(b);
	free(ints);
	free(dt);
	free(lens);
	return e;
}

static int
numeric_type(enum enum_field_types t)
{
	switch (t) {
	case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_DECIMAL: case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE: case MYSQL_TYPE_YEAR:
		return 1;
	default:
		return 0;
	}
}

static int
binary_type(const MYSQL_FIELD *f)
{
	if (f->charsetnr != BINARY_CHARSET)
		return 0;
	switch (f->type) {
	case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB: case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VARCHAR: case MYSQL_TYPE_BIT:
	case MYSQL_TYPE_GEOMETRY:
		return 1;
	default:
		return 0;
	}
}

static const char hexd[] = "0123456789abcdef";

static enum qerr
my_query(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, const struct sql_sink *sink, struct sql_error *err)
{
	struct buf	 exec = BUF_INIT, *hex = NULL;
	MYSQL_RES	*res = NULL;
	MYSQL_ROW	 row;
	MYSQL_FIELD	*fl;
	unsigned long	*lengths;
	const char	**f = NULL;
	size_t		*len = NULL, n = 0, i, k;
	enum vtype	*ty = NULL;
	char		**names = NULL;
	int		*bin = NULL;
	long long	 last_tick = mono_ms();
	long long	 deadline = last_tick + c->conf->query_timeout * 1000;
	int		 status, ret = 0, r;
	enum qerr	 e = Q_OK;

	if ((e = bind_all(c, sql, v, nv, err)) != Q_OK)
		return e;
	if (simple(c->m, "PREPARE quarry_q FROM @quarry_sql") != 0 ||
	    simple(c->m, "START TRANSACTION READ ONLY") != 0)
		return fail_with(c, err);
	buf_adds(&exec, "EXECUTE quarry_q");
	for (i = 0; i < nv; i++)
		buf_printf(&exec, "%s@quarry_p%zu", i ? ", " : " USING ", i + 1);
	if (exec.oom) {
		buf_free(&exec);
		return Q_NOMEM;
	}
	status = mysql_real_query_start(&ret, c->m, buf_str(&exec),
	    (unsigned long)exec.len);
	while (status) {
		if ((status = wait_io(c, status, sink, deadline,
		    &last_tick)) < 0)
			break;
		status = mysql_real_query_cont(&ret, c->m, status);
	}
	buf_free(&exec);
	if (status < 0 || ret != 0)
		return fail_with(c, err);
	if ((res = mysql_use_result(c->m)) == NULL) {
		if (mysql_errno(c->m) != 0)
			return fail_with(c, err);
		return sink->begin(sink->arg, NULL, 0);	/* no result set */
	}
	n = mysql_num_fields(res);
	fl = mysql_fetch_fields(res);
	f = calloc(n ? n : 1, sizeof(*f));
	len = calloc(n ? n : 1, sizeof(*len));
	ty = calloc(n ? n : 1, sizeof(*ty));
	names = calloc(n ? n : 1, sizeof(*names));
	bin = calloc(n ? n : 1, sizeof(*bin));
	hex = calloc(n ? n : 1, sizeof(*hex));
	if (f == NULL || len == NULL || ty == NULL || names == NULL ||
	    bin == NULL || hex == NULL) {
		e = Q_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		names[i] = fl[i].name;
		ty[i] = numeric_type(fl[i].type) ? VT_NUMBER : VT_TEXT;
		bin[i] = binary_type(&fl[i]);
	}
	if ((e = sink->begin(sink->arg, names, n)) != Q_OK)
		goto out;
	for (;;) {
		status = mysql_fetch_row_start(&row, res);
		while (status) {
			if ((status = wait_io(c, status, sink, deadline,
			    &last_tick)) < 0)
				break;
			status = mysql_fetch_row_cont(&row, res, status);
		}
		if (status < 0 || row == NULL)
			break;
		lengths = mysql_fetch_lengths(res);
		for (i = 0; i < n; i++) {
			f[i] = row[i];
			len[i] = row[i] != NULL ? lengths[i] : 0;
			if (row[i] == NULL || !bin[i])
				continue;
			buf_reset(&hex[i]);
			buf_adds(&hex[i], "\\x");
			for (k = 0; k < len[i]; k++) {
				buf_addc(&hex[i], hexd[(unsigned char)row[i][k]
				    >> 4]);
				buf_addc(&hex[i], hexd[row[i][k] & 15]);
			}
			if (hex[i].oom) {
				e = Q_NOMEM;
				goto out;
			}
			f[i] = hex[i].data;
			len[i] = hex[i].len;
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
	if (status < 0 || mysql_errno(c->m) != 0 || c->stopped ||
	    c->timed_out)
		e = fail_with(c, err);
	else if (simple(c->m, "COMMIT") != 0)
		e = fail_with(c, err);
out:
	if (res != NULL && e != Q_OK)
		c->stopped = c->stopped || e == Q_CANCELLED;
	/*
	 * Freeing an unfinished result reads what is left of it: after a
	 * stop the connection is closed instead, and the server kills the
	 * statement with it (KILL QUERY was sent already).
	 */
	if (res != NULL && (e == Q_OK || !c->killed))
		mysql_free_result(res);
	if (hex != NULL)
		for (i = 0; i < n; i++)
			buf_free(&hex[i]);
	free(hex);
	free(f);
	free(len);
	free(ty);
	free(names);
	free(bin);
	return e;
}

static enum qerr
my_version(struct sql_conn *c, char *out, size_t len, struct sql_error *err)
{
	MYSQL_RES	*r;
	MYSQL_ROW	 row;

	if (mysql_real_query(c->m, "SELECT VERSION()", 16) != 0 ||
	    (r = mysql_store_result(c->m)) == NULL)
		return fail_with(c, err);
	if ((row = mysql_fetch_row(r)) != NULL && row[0] != NULL)
		snprintf(out, len, "%s %s", strstr(row[0], "MariaDB") ?
		    "MariaDB" : "MySQL", row[0]);
	mysql_free_result(r);
	return Q_OK;
}

static const char *
type_name(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_TINY:		return "tinyint";
	case MYSQL_TYPE_SHORT:		return "smallint";
	case MYSQL_TYPE_LONG:		return "int";
	case MYSQL_TYPE_INT24:		return "mediumint";
	case MYSQL_TYPE_LONGLONG:	return "bigint";
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL:	return "decimal";
	case MYSQL_TYPE_FLOAT:		return "float";
	case MYSQL_TYPE_DOUBLE:		return "double";
	case MYSQL_TYPE_YEAR:		return "year";
	case MYSQL_TYPE_DATE:		return "date";
	case MYSQL_TYPE_TIME:		return "time";
	case MYSQL_TYPE_DATETIME:	return "datetime";
	case MYSQL_TYPE_TIMESTAMP:	return "timestamp";
	case MYSQL_TYPE_BIT:		return "bit";
	case MYSQL_TYPE_JSON:		return "json";
	case MYSQL_TYPE_GEOMETRY:	return "geometry";
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR:	return binary_type(f) ? "varbinary" :
					    "varchar";
	case MYSQL_TYPE_STRING:		return binary_type(f) ? "binary" :
					    "char";
	default:
		return binary_type(f) ? "blob" : "text";
	}
}

static enum qerr
my_describe(struct sql_conn *c, const char *sql, const struct sql_value *v,
    size_t nv, struct buf *cols, struct sql_error *err)
{
	MYSQL_STMT	*st;
	MYSQL_RES	*meta;
	MYSQL_FIELD	*fl;
	unsigned	 i, n;
	enum qerr	 e = Q_OK;

	(void)v;
	(void)nv;
	if ((st = mysql_stmt_init(c->m)) == NULL)
		return Q_NOMEM;
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s", mysql_stmt_error(st));
		err->transient = transient_errno(mysql_stmt_errno(st));
		e = err->transient ? Q_TRANSIENT : Q_INVALID;
	} else if ((meta = mysql_stmt_result_metadata(st)) != NULL) {
		n = mysql_num_fields(meta);
		fl = mysql_fetch_fields(meta);
		for (i = 0; i < n; i++)
			buf_printf(cols, "%s\t%s\n", fl[i].name,
			    type_name(&fl[i]));
		mysql_free_result(meta);
	}
	mysql_stmt_close(st);
	return e;
}

static void
my_close(struct sql_conn *c)
{
	mysql_close(c->m);
	explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c);
}

const struct sql_driver sql_driver_mysql = {
	DB_MYSQL,
	my_connect,
	my_query,
	my_version,
	my_describe,
	my_close,
};
