/*
 * The configuration: one INI-style file ("key = value", '#' or ';'
 * comments).  Found by -c FILE, else $QUARRY_CONF, else
 * /etc/quarry/quarry.conf.  Every key has a default;
 * docs/configuration.md lists them.  A "[database NAME]" header starts
 * the settings of one SQL database a definition may read from
 * (docs/sources.md); any other [header] returns to the main settings.
 */
#ifndef QUARRY_CONFIG_H
#define QUARRY_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "quarry/error.h"

#define CONF_DEFAULT_PATH "/etc/quarry/quarry.conf"

/* Who sends a download's bytes (config key sendfile). */
enum sendfile_mode {
	SENDFILE_OFF = 0,	/* files.fcgi streams the file itself */
	SENDFILE_LIGHTTPD,	/* X-Sendfile to lighttpd's mod_fastcgi */
	SENDFILE_APACHE		/* X-Sendfile to Apache's mod_xsendfile */
};

/* The SQL databases definitions may read from ([database NAME]). */
enum db_driver {
	DB_NONE = 0,
	DB_POSTGRESQL,		/* libpq: conninfo */
	DB_MYSQL,		/* libmariadb: host/port or socket, user, dbname */
	DB_SQLITE,		/* libsqlite3: path */
	DB_ODBC			/* unixODBC: connection */
};

#define DB_NAME_MAX		64
#define CONF_DATABASES_MAX	16
#define DB_SETTING_MAX		1024

struct db_conf {
	char	 name[DB_NAME_MAX + 1];	/* [A-Za-z0-9_-], from the header */
	enum db_driver driver;
	char	 conninfo[DB_SETTING_MAX];	/* postgresql */
	char	 host[256];			/* mysql */
	int	 port;				/* mysql; 0 = the default */
	char	 socket[DB_SETTING_MAX];	/* mysql */
	char	 user[128];			/* mysql */
	char	 dbname[128];			/* mysql */
	char	 path[DB_SETTING_MAX];		/* sqlite */
	char	 connection[DB_SETTING_MAX];	/* odbc */
	/* A file holding the password alone (one line); "" = none. */
	char	 password_file[DB_SETTING_MAX];
	long long query_timeout;		/* seconds; default 3600 */
};

/*
 * One entry of trusted_proxies: an IPv4 or IPv6 network (a single
 * address is a /32 or a /128).  Only a request whose REMOTE_ADDR falls in
 * one of them may set the scheme and host of the URLs in the answers with
 * X-Forwarded-Proto and X-Forwarded-Host (docs/http.md).
 */
#define CONF_PROXIES_MAX	64
struct net_range {
	unsigned char	 addr[16];	/* network order; IPv4 in the first 4 */
	int		 v6;		/* 0: IPv4, 1: IPv6 */
	unsigned	 prefix;	/* 0..32 or 0..128 */
};

struct conf {
	char	 path[PATH_MAX];	   /* the file read ("" if none) */
	char	 db_dir[PATH_MAX];	   /* Berkeley DB environment */
	char	 files_dir[PATH_MAX];	   /* finished and in-progress files */
	char	 extractors_dir[PATH_MAX]; /* the only place commands run from */
	char	 log_file[PATH_MAX];	   /* quarryd's log; "" = stderr */
	char	 pid_file[PATH_MAX];	   /* quarryd's pid file; "" = none */
	char	 base_url[256];		   /* "" = from the request's Host */
	/* trusted_proxies: who may send X-Forwarded-*; none by default */
	struct net_range trusted_proxies[CONF_PROXIES_MAX];
	size_t	 ntrusted_proxies;
	size_t	 max_body;		   /* request body limit, bytes */
	int	 workers;		   /* build processes; 0 = cores */
	int	 lease_seconds;		   /* a claim lasts this long unrenewed */
	int	 max_attempts;		   /* builds tried before failing */
	int	 poll_seconds;		   /* scheduler's fallback poll */
	int	 cache_mb;		   /* store cache size */
	int	 stall_seconds;		   /* a store call stuck this long exits */
	long long store_reserve;	   /* bytes db_dir keeps free; -1 auto */
	long long retention_default;	   /* seconds, if a definition has none */
	int	 retry_backoff;		   /* seconds before the 2nd attempt */
	long long history;		   /* seconds finished jobs are kept */
	long long audit_retention;	   /* seconds audit records are kept */
	long long link_ttl;		   /* seconds a signed link works */
	long long extractor_timeout;	   /* wall-clock seconds per run */
	unsigned long long extractor_max_output; /* stdout bytes per run */
	unsigned long long extractor_max_memory; /* RLIMIT_AS; 0 = none */
	enum sendfile_mode sendfile;	   /* download offload; default off */
	/* remote_user = on: the web server signs people in and passes
	   REMOTE_USER, mapped to a tenant and role by quarryctl user add
	   (docs/install.md); off (the default): tokens only */
	int	 remote_user;
	struct db_conf databases[CONF_DATABASES_MAX];
	size_t	 ndatabases;
};

/* Fills c with every default. */
void	 conf_defaults(struct conf *c);

/*
 * Loads the configuration: path if not NULL, else $QUARRY_CONF, else the
 * default path if it exists (defaults only when it does not).  On a bad
 * line, writes "FILE:LINE: reason" into err and returns Q_INVALID.
 */
enum qerr conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/*
 * Reads "key = value" lines from f over c (conf_load's parser; path names
 * f in errors).  On a bad line, "PATH:LINE: reason" in err, Q_INVALID.
 */
enum qerr conf_read(struct conf *c, FILE *f, const char *path, char *err,
	      size_t errlen);
/* The path of file in the files directory into out; -1 if too long. */
int	 files_path(const struct conf *c, const char *file, char *out,
	     size_t len);

/* Parses one "key = value" setting into c; Q_INVALID on unknown or bad. */
enum qerr conf_set(struct conf *c, const char *key, const char *value);
/* The database section called name, or NULL. */
const struct db_conf *conf_database(const struct conf *c, const char *name);
/* "postgresql", "mysql", "sqlite", "odbc". */
const char *db_driver_name(enum db_driver d);

/*
 * Parses a trusted_proxies value into c (replacing an earlier one):
 * addresses and CIDR ranges, IPv4 or IPv6, separated by spaces, tabs or
 * commas; "" = none.  Q_INVALID with why (naming the bad entry) in
 * why[whylen] if any entry is not one; c is unchanged then.
 */
enum qerr conf_set_proxies(struct conf *c, const char *v, char *why,
	      size_t whylen);
/*
 * True if addr (a REMOTE_ADDR: an IPv4 or IPv6 address, an IPv4-mapped
 * IPv6 address counting as its IPv4 address) lies in trusted_proxies.
 */
int	 conf_proxy_trusted(const struct conf *c, const char *addr);

#endif
