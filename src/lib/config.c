#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	char		 line[4096], *p, *eq, *key, *val;
	unsigned	 lineno = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			return Q_INVALID;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';' || *p == '[')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
			    path, lineno);
			return Q_INVALID;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if (conf_set(c, key, val) != Q_OK) {
			snprintf(err, errlen, "%s:%u: unknown key or bad value "
			    "for '%s'", path, lineno, key);
			return Q_INVALID;
		}
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
