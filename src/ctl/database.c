/*
 * quarryctl's database commands (docs/sources.md): the databases of the
 * configuration, a connection test, and a SQL definition's query
 * prepared against its database without running it.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "quarry/export.h"

/* Where a database is, for the list: never a password. */
static void
print_target(const struct db_conf *d)
{
	switch (d->driver) {
	case DB_POSTGRESQL:
		printf("%s", d->conninfo);
		break;
	case DB_MYSQL:
		if (d->socket[0] != '\0')
			printf("socket=%s", d->socket);
		else
			printf("host=%s port=%d", d->host,
			    d->port ? d->port : 3306);
		printf(" dbname=%s", d->dbname);
		if (d->user[0] != '\0')
			printf(" user=%s", d->user);
		break;
	case DB_SQLITE:
		printf("%s", d->path);
		break;
	case DB_ODBC:
		printf("%s", d->connection);
		break;
	case DB_NONE:
		break;
	}
}

/* quarryctl database list | database test NAME */
int
cmd_database(struct ctl *c, int argc, char **argv)
{
	const struct db_conf	*d;
	const struct sql_driver	*drv;
	struct sql_conn		*conn;
	struct sql_error	 err;
	char			 version[256];
	size_t			 i;
	enum qerr		 e;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (i = 0; i < c->conf.ndatabases; i++) {
			d = &c->conf.databases[i];
			printf("%s\t%s\t", d->name,
			    db_driver_name(d->driver));
			print_target(d);
			printf("\tquery_timeout=%llds%s\n", d->query_timeout,
			    d->password_file[0] ? "\tpassword_file" : "");
		}
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "test") != 0)
		return 2;
	if ((d = conf_database(&c->conf, argv[2])) == NULL) {
		fprintf(stderr, "quarryctl: no database '%s' in %s\n", argv[2],
		    c->conf.path[0] ? c->conf.path : "the configuration");
		return 1;
	}
	memset(&err, 0, sizeof(err));
	if ((e = sql_connect(d, &conn, &err)) != Q_OK) {
		fprintf(stderr, "quarryctl: database '%s': %s\n", d->name,
		    err.msg[0] ? err.msg : qerr_str(e));
		return 1;
	}
	drv = sql_driver(d->driver);
	e = drv->version(conn, version, sizeof(version), &err);
	drv->close(conn);
	if (e != Q_OK) {
		fprintf(stderr, "quarryctl: database '%s': %s\n", d->name,
		    err.msg[0] ? err.msg : qerr_str(e));
		return 1;
	}
	printf("%s: %s\n", d->name, version);
	return 0;
}

/* quarryctl definition check ID */
int
ctl_definition_check(struct ctl *c, const char *id)
{
	struct definition	 d;
	struct sql_plan		 pl;
	struct sql_conn		*conn = NULL;
	struct sql_error	 err;
	struct buf		 cols = BUF_INIT;
	char			 detail[512];
	enum qerr		 e;
	int			 rc = 1;

	if ((e = definition_get(ctl_store(c), &c->who, id, &d)) != Q_OK) {
		fprintf(stderr, "quarryctl: %s: %s\n", id, qerr_str(e));
		return 1;
	}
	if (d.database == NULL) {
		fprintf(stderr, "quarryctl: definition %s has no SQL source\n",
		    id);
		definition_free(&d);
		return 1;
	}
	memset(&err, 0, sizeof(err));
	if ((e = sql_plan(&c->conf, &d, NULL, &pl, detail,
	    sizeof(detail))) != Q_OK) {
		fprintf(stderr, "quarryctl: definition %s: %s\n", id,
		    detail[0] ? detail : qerr_str(e));
		goto out;
	}
	if ((e = sql_connect(pl.db, &conn, &err)) == Q_OK)
		e = pl.drv->describe(conn, buf_str(&pl.sql), pl.v, pl.nv, &cols,
		    &err);
	if (conn != NULL)
		pl.drv->close(conn);
	if (e != Q_OK) {
		fprintf(stderr, "quarryctl: definition %s: database '%s': %s\n",
		    id, pl.db->name, err.msg[0] ? err.msg : qerr_str(e));
		goto out;
	}
	printf("%s", buf_str(&cols));
	rc = 0;
out:
	sql_plan_free(&pl);
	buf_free(&cols);
	definition_free(&d);
	return rc;
}
