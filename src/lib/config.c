#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "quarry/config.h"
#include "quarry/util.h"

/* Fills c with every default. */
void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->db_dir, "/var/lib/quarry/db");
	strcpy(c->files_dir, "/var/lib/quarry/files");
	strcpy(c->extractors_dir, "/usr/local/lib/quarry/extractors");
	c->max_body = 1024 * 1024;
	c->workers = 0;
	c->lease_seconds = 30;
	c->max_attempts = 3;
	c->poll_seconds = 5;
	c->cache_mb = 32;
	c->stall_seconds = 60;
	c->store_reserve = -1;	/* automatic: see store.c's space guard */
	c->retention_default = 7 * 86400;
	c->retry_backoff = 10;
	c->history = 30 * 86400;
	c->audit_retention = 365LL * 86400;
	c->link_ttl = 600;
	c->extractor_timeout = 3600;
	c->extractor_max_output = 10ULL << 30;
	c->extractor_max_memory = 4ULL << 30;
}

static int
copy_str(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	strcpy(dst, v);
	return 0;
}

static int
int_in(const char *v, long lo, long hi, long *out)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

/* A byte count: digits with an optional K, M, G or T (powers of 1024). */
static int
size_in(const char *v, unsigned long long *out)
{
	char			*end;
	unsigned long long	 n;
	int			 shift = 0;

	errno = 0;
	if (!isdigit((unsigned char)*v))
		return -1;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && (end[0] == 'i' && end[1] == 'B'))
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end != '\0' || (shift && n > (~0ULL >> shift)))
		return -1;
	*out = n << shift;
	return 0;
}

/* Parses one "key = value" setting into c; Q_INVALID on unknown or bad. */
enum qerr
conf_set(struct conf *c, const char *key, const char *v)
{
	long			n;
	long long		d;
	unsigned long long	u;

	if (strcmp(key, "db_dir") == 0)
		return copy_str(c->db_dir, sizeof(c->db_dir), v) ? Q_INVALID : Q_OK;
	if (strcmp(key, "files_dir") == 0)
		return copy_str(c->files_dir, sizeof(c->files_dir), v) ?
		    Q_INVALID : Q_OK;
	if (strcmp(key, "extractors_dir") == 0)
		return copy_str(c->extractors_dir, sizeof(c->extractors_dir), v) ?
		    Q_INVALID : Q_OK;
	if (strcmp(key, "log_file") == 0)
		return copy_str(c->log_file, sizeof(c->log_file), v) ?
		    Q_INVALID : Q_OK;
	if (strcmp(key, "pid_file") == 0)
		return copy_str(c->pid_file, sizeof(c->pid_file), v) ?
		    Q_INVALID : Q_OK;
	if (strcmp(key, "base_url") == 0) {
		if (*v != '\0' && strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0)
			return Q_INVALID;
		if (copy_str(c->base_url, sizeof(c->base_url), v))
			return Q_INVALID;
		n = (long)strlen(c->base_url);
		while (n > 0 && c->base_url[n - 1] == '/')
			c->base_url[--n] = '\0';
		return Q_OK;
	}
	if (strcmp(key, "trusted_proxies") == 0)
		return conf_set_proxies(c, v, NULL, 0);
	if (strcmp(key, "max_body") == 0) {
		if (int_in(v, 1, 1L << 30, &n))
			return Q_INVALID;
		c->max_body = (size_t)n;
		return Q_OK;
	}
	if (strcmp(key, "workers") == 0) {
		if (int_in(v, 0, 256, &n))
			return Q_INVALID;
		c->workers = (int)n;
		return Q_OK;
	}
	if (strcmp(key, "lease_seconds") == 0) {
		if (int_in(v, 2, 3600, &n))
			return Q_INVALID;
		c->lease_seconds = (int)n;
		return Q_OK;
	}
	if (strcmp(key, "max_attempts") == 0) {
		if (int_in(v, 1, 100, &n))
			return Q_INVALID;
		c->max_attempts = (int)n;
		return Q_OK;
	}
	if (strcmp(key, "poll_seconds") == 0) {
		if (int_in(v, 1, 3600, &n))
			return Q_INVALID;
		c->poll_seconds = (int)n;
		return Q_OK;
	}
	if (strcmp(key, "cache_mb") == 0) {
		if (int_in(v, 1, 65536, &n))
			return Q_INVALID;
		c->cache_mb = (int)n;
		return Q_OK;
	}
	if (strcmp(key, "store_reserve") == 0) {
		if (strcmp(v, "auto") == 0) {
			c->store_reserve = -1;
			return Q_OK;
		}
		if (size_in(v, &u) || u > (1ULL << 50))
			return Q_INVALID;
		c->store_reserve = (long long)u;
		return Q_OK;
	}
	if (strcmp(key, "stall_seconds") == 0) {
		if (int_in(v, 0, 86400, &n))
			return Q_INVALID;
		c->stall_seconds = (int)n;
		return Q_OK;
	}
	if (strcmp(key, "retention") == 0) {
		if (duration_parse(v, &d))
			return Q_INVALID;
		c->retention_default = d;
		return Q_OK;
	}
	if (strcmp(key, "extractor_timeout") == 0) {
		if (duration_parse(v, &d) || d < 1)
			return Q_INVALID;
		c->extractor_timeout = d;
		return Q_OK;
	}
	if (strcmp(key, "extractor_max_output") == 0)
		return size_in(v, &c->extractor_max_output) ||
		    c->extractor_max_output == 0 ? Q_INVALID : Q_OK;
	if (strcmp(key, "extractor_max_memory") == 0)
		return size_in(v, &c->extractor_max_memory) ? Q_INVALID : Q_OK;
	if (strcmp(key, "retry_backoff_seconds") == 0) {
		if (int_in(v, 0, 86400, &n))
			return Q_INVALID;
		c->retry_backoff = (int)n;
		return Q_OK;
	}
	if (strcmp(key, "history") == 0) {
		if (duration_parse(v, &d))
			return Q_INVALID;
		c->history = d;
		return Q_OK;
	}
	if (strcmp(key, "download_link_ttl") == 0) {
		if (duration_parse(v, &d) || d <= 0 || d > 7 * 86400)
			return Q_INVALID;
		c->link_ttl = d;
		return Q_OK;
	}
	if (strcmp(key, "audit_retention") == 0) {
		if (duration_parse(v, &d) || d <= 0)
			return Q_INVALID;
		c->audit_retention = d;
		return Q_OK;
	}
	if (strcmp(key, "remote_user") == 0) {
		if (strcmp(v, "off") == 0 || *v == '\0')
			c->remote_user = 0;
		else if (strcmp(v, "on") == 0)
			c->remote_user = 1;
		else
			return Q_INVALID;
		return Q_OK;
	}
	if (strcmp(key, "sendfile") == 0) {
		if (strcmp(v, "off") == 0 || *v == '\0')
			c->sendfile = SENDFILE_OFF;
		else if (strcmp(v, "lighttpd") == 0)
			c->sendfile = SENDFILE_LIGHTTPD;
		else if (strcmp(v, "apache") == 0)
			c->sendfile = SENDFILE_APACHE;
		else
			return Q_INVALID;
		return Q_OK;
	}
	return Q_INVALID;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* ---- [database NAME] sections ---- */

const char *
db_driver_name(enum db_driver d)
{
	switch (d) {
	case DB_POSTGRESQL:	return "postgresql";
	case DB_MYSQL:		return "mysql";
	case DB_SQLITE:		return "sqlite";
	case DB_ODBC:		return "odbc";
	case DB_NONE:		break;
	}
	return "none";
}

/* The database section called name (see config.h). */
const struct db_conf *
conf_database(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ndatabases; i++)
		if (strcmp(c->databases[i].name, name) == 0)
			return &c->databases[i];
	return NULL;
}

/*
 * True if a connection string holds a password setting (key, case
 * insensitive, at the start or after a separator): passwords live in
 * password_file only, so that none is ever copied into a message.
 */
static int
names_password(const char *v, const char *const *keys)
{
	const char	*p;
	size_t		 i, n;

	for (i = 0; keys[i] != NULL; i++) {
		n = strlen(keys[i]);
		for (p = v; *p != '\0'; p++) {
			if (p != v && !isspace((unsigned char)p[-1]) &&
			    p[-1] != ';')
				continue;
			if (strncasecmp(p, keys[i], n) != 0)
				continue;
			p += n;
			while (isspace((unsigned char)*p))
				p++;
			if (*p == '=')
				return 1;
			p--;
		}
	}
	return 0;
}

/* One setting of database section d; Q_INVALID with why in err. */
static enum qerr
db_set(struct db_conf *d, const char *key, const char *v, char *err,
    size_t errlen)
{
	static const char *const pg_pw[] = { "password", NULL };
	static const char *const odbc_pw[] = { "pwd", "password", NULL };
	long	n;

	if (strcmp(key, "driver") == 0) {
		if (strcmp(v, "postgresql") == 0)
			d->driver = DB_POSTGRESQL;
		else if (strcmp(v, "mysql") == 0 || strcmp(v, "mariadb") == 0)
			d->driver = DB_MYSQL;
		else if (strcmp(v, "sqlite") == 0)
			d->driver = DB_SQLITE;
		else if (strcmp(v, "odbc") == 0)
			d->driver = DB_ODBC;
		else {
			snprintf(err, errlen, "driver must be postgresql, "
			    "mysql, sqlite or odbc");
			return Q_INVALID;
		}
		return Q_OK;
	}
	if (strcmp(key, "port") == 0) {
		if (int_in(v, 1, 65535, &n) != 0) {
			snprintf(err, errlen, "port must be 1 to 65535");
			return Q_INVALID;
		}
		d->port = (int)n;
		return Q_OK;
	}
	if (strcmp(key, "query_timeout") == 0) {
		if (duration_parse(v, &d->query_timeout) != 0 ||
		    d->query_timeout <= 0) {
			snprintf(err, errlen, "query_timeout must be a "
			    "duration such as 3600, 90m or 2h");
			return Q_INVALID;
		}
		return Q_OK;
	}
	if (strcmp(key, "conninfo") == 0 && names_password(v, pg_pw)) {
		snprintf(err, errlen, "conninfo holds a password: put it in "
		    "password_file");
		return Q_INVALID;
	}
	if (strcmp(key, "connection") == 0 && names_password(v, odbc_pw)) {
		snprintf(err, errlen, "connection holds a password: put it "
		    "in password_file");
		return Q_INVALID;
	}
#define DB_STR(k, f)							\
	if (strcmp(key, k) == 0) {					\
		if (copy_str(d->f, sizeof(d->f), v) != 0) {		\
			snprintf(err, errlen, "%s is too long", k);	\
			return Q_INVALID;				\
		}							\
		return Q_OK;						\
	}
	DB_STR("conninfo", conninfo)
	DB_STR("host", host)
	DB_STR("socket", socket)
	DB_STR("user", user)
	DB_STR("dbname", dbname)
	DB_STR("path", path)
	DB_STR("connection", connection)
	DB_STR("password_file", password_file)
#undef DB_STR
	snprintf(err, errlen, "unknown key '%s' in a database section", key);
	return Q_INVALID;
}

/* A finished database section is whole: Q_INVALID with why in err. */
static enum qerr
db_check(const struct db_conf *d, char *err, size_t errlen)
{
	const char *need = NULL;

	switch (d->driver) {
	case DB_NONE:
		need = "driver";
		break;
	case DB_POSTGRESQL:
		if (d->conninfo[0] == '\0')
			need = "conninfo";
		break;
	case DB_MYSQL:
		if (d->dbname[0] == '\0')
			need = "dbname";
		else if (d->host[0] == '\0' && d->socket[0] == '\0')
			need = "host or socket";
		break;
	case DB_SQLITE:
		if (d->path[0] == '\0')
			need = "path";
		break;
	case DB_ODBC:
		if (d->connection[0] == '\0')
			need = "connection";
		break;
	}
	if (need != NULL) {
		snprintf(err, errlen, "database '%s' needs %s", d->name, need);
		return Q_INVALID;
	}
	if (d->password_file[0] != '\0' && d->password_file[0] != '/') {
		snprintf(err, errlen, "database '%s': password_file must be "
		    "an absolute path", d->name);
		return Q_INVALID;
	}
	return Q_OK;
}

/*
 * A [header] line (brackets included, trimmed): "[database NAME]" starts
 * a database section (*cur set); any other header returns to the main
 * settings (*cur NULL).  Q_INVALID with why in err.
 */
static enum qerr
section(struct conf *c, char *p, struct db_conf **cur, char *err,
    size_t errlen)
{
	char	*name, *end = p + strlen(p) - 1;
	size_t	 n;

	if (*end != ']') {
		snprintf(err, errlen, "a section header ends with ']'");
		return Q_INVALID;
	}
	*end = '\0';
	p = trim(p + 1);
	if (strncmp(p, "database", 8) != 0 ||
	    (p[8] != '\0' && !isspace((unsigned char)p[8]))) {
		*cur = NULL;
		return Q_OK;
	}
	name = trim(p + 8);
	n = strlen(name);
	if (n == 0 || n > DB_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") != n) {
		snprintf(err, errlen, "[database NAME]: NAME is 1 to %d "
		    "letters, digits, '_' or '-'", DB_NAME_MAX);
		return Q_INVALID;
	}
	if (conf_database(c, name) != NULL) {
		snprintf(err, errlen, "database '%s' is defined twice", name);
		return Q_INVALID;
	}
	if (c->ndatabases == CONF_DATABASES_MAX) {
		snprintf(err, errlen, "more than %d databases",
		    CONF_DATABASES_MAX);
		return Q_INVALID;
	}
	*cur = &c->databases[c->ndatabases++];
	memset(*cur, 0, sizeof(**cur));
	memcpy((*cur)->name, name, n + 1);
	(*cur)->query_timeout = 3600;
	return Q_OK;
}

/* Loads the configuration (see config.h for the search order). */
enum qerr
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE		*f;
	int		 optional = 0;
	enum qerr	 e;

	conf_defaults(c);
	if (path == NULL || *path == '\0')
		path = getenv("QUARRY_CONF");
	if (path == NULL || *path == '\0') {
		path = CONF_DEFAULT_PATH;
		optional = 1;
	}
	if ((f = fopen(path, "r")) == NULL) {
		if (optional && errno == ENOENT)
			return Q_OK;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return Q_IO;
	}
	copy_str(c->path, sizeof(c->path), path);
	e = conf_read(c, f, path, err, errlen);
	fclose(f);
	return e;
}

/* Reads settings from f over c (see config.h). */
enum qerr
conf_read(struct conf *c, FILE *f, const char *path, char *err,
    size_t errlen)
{
	char		 line[4096], why[256], *p, *eq, *key, *val;
	unsigned	 lineno = 0;
	struct db_conf	*db = NULL;
	size_t		 i;

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			return Q_INVALID;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			if (section(c, p, &db, why, sizeof(why)) != Q_OK) {
				snprintf(err, errlen, "%s:%u: %s", path, lineno,
				    why);
				return Q_INVALID;
			}
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
			    path, lineno);
			return Q_INVALID;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if (db != NULL) {
			if (db_set(db, key, val, why, sizeof(why)) != Q_OK) {
				snprintf(err, errlen, "%s:%u: %s", path, lineno,
				    why);
				return Q_INVALID;
			}
			continue;
		}
		if (strcmp(key, "trusted_proxies") == 0) {
			/* its own message: which entry is wrong, and why */
			if (conf_set_proxies(c, val, why, sizeof(why)) != Q_OK) {
				snprintf(err, errlen, "%s:%u: trusted_proxies: "
				    "%s", path, lineno, why);
				return Q_INVALID;
			}
			continue;
		}
		if (conf_set(c, key, val) != Q_OK) {
			snprintf(err, errlen, "%s:%u: unknown key or bad value "
			    "for '%s'", path, lineno, key);
			return Q_INVALID;
		}
	}
	for (i = 0; i < c->ndatabases; i++)
		if (db_check(&c->databases[i], why, sizeof(why)) != Q_OK) {
			snprintf(err, errlen, "%s: %s", path, why);
			return Q_INVALID;
		}
	return Q_OK;
}

/* The path of a file in the files directory (see config.h). */
int
files_path(const struct conf *c, const char *file, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", c->files_dir, file);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}
