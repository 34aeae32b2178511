/*
 * The text of a SQL source's query (docs/sources.md): where its ":name"
 * placeholders are, and whether it is one statement.  A placeholder is a
 * ':' followed by a parameter name (a lower-case letter, then lower-case
 * letters, digits and '_') outside string literals, quoted identifiers
 * and comments, and not part of a "::" cast.  The scanner knows each
 * driver's quoting: '…' with '' everywhere; "…" an identifier (a string
 * with mysql); `…` (mysql) and […] (odbc) identifiers; backslash escapes
 * in mysql strings and in postgresql E'…'; postgresql dollar quoting
 * ($tag$…$tag$); -- and # (mysql) line comments; slash-star block
 * comments (nested with postgresql).
 *
 * The query is then rendered for the driver with its own placeholders
 * ($1, $2 … by distinct name for postgresql; '?' per occurrence for the
 * others), so that values are only ever bound, never pasted.
 */
#ifndef QUARRY_SQLTEXT_H
#define QUARRY_SQLTEXT_H

#include <stddef.h>

#include "quarry/buf.h"
#include "quarry/config.h"

#define SQL_QUERY_MAX		(64 * 1024)	/* bytes of query text */
#define SQL_PLACEHOLDERS_MAX	256		/* occurrences */

struct sql_placeholder {
	size_t	 at;		/* offset of the ':' */
	size_t	 len;		/* ':' and the name */
	char	 name[65];
};

struct sql_text {
	struct sql_placeholder	ph[SQL_PLACEHOLDERS_MAX];
	size_t			nph;
	size_t			end;	/* length without a final ';' */
};

/*
 * Scans query (len bytes, the dialect of driver) into out.  -1 with a
 * reason in err (no query text, more than one statement, a literal or
 * comment left open, too many placeholders, a NUL byte, too long).
 */
int	 sql_scan(const char *query, size_t len, enum db_driver driver,
	     struct sql_text *out, char *err, size_t errlen);
/*
 * Writes the query for driver into b, each placeholder replaced by the
 * driver's own: for postgresql $k where k is the 1-based index of the
 * name in names (the statement's parameters, in the order they will be
 * bound); for the others '?' (bound once per occurrence, in order).
 * -1 if a placeholder's name is not in names.
 */
int	 sql_render(const char *query, const struct sql_text *t,
	     enum db_driver driver, const char *const *names, size_t nnames,
	     struct buf *b);

#endif
