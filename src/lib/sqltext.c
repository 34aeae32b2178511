/*
 * The SQL source's query text: placeholders and statements (see
 * quarry/sqltext.h).  A scanner, not a parser: it only needs to know
 * where literals, quoted identifiers and comments begin and end in each
 * driver's dialect.  When in doubt it refuses (a literal left open), and
 * a ':name' it misses stays in the text, where the server refuses it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "quarry/sqltext.h"

static int
name_start(int c)
{
	return c >= 'a' && c <= 'z';
}

static int
name_char(int c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '_';
}

/* An identifier character, for what precedes a ':' or a '$'. */
static int
word_char(int c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/*
 * The end of a quoted run starting after its opening quote q at i: the
 * index just past the closing quote, or 0 if it never closes.  A doubled
 * quote stands for itself; with bs, a backslash escapes the next byte.
 */
static size_t
quoted_end(const char *s, size_t len, size_t i, char q, int bs)
{
	while (i < len) {
		if (bs && s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < len && s[i + 1] == q) {
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return 0;
}

/*
 * A postgresql dollar quote opening at i ('$', optional tag, '$'): the
 * index past its closing delimiter; 0 if it never closes; i itself if
 * there is no dollar quote at i (a $1 parameter, a '$' in a name).
 */
static size_t
dollar_end(const char *s, size_t len, size_t i)
{
	size_t	j = i + 1, tag, k;

	if (i > 0 && word_char((unsigned char)s[i - 1]))
		return i;
	while (j < len && (isalpha((unsigned char)s[j]) || s[j] == '_' ||
	    (j > i + 1 && isdigit((unsigned char)s[j]))))
		j++;
	if (j >= len || s[j] != '$')
		return i;
	tag = j - i + 1;		/* "$tag$" */
	for (k = j + 1; k + tag <= len; k++)
		if (memcmp(s + k, s + i, tag) == 0)
			return k + tag;
	return 0;
}

/* The end of a block comment opening at i ("/" "*"); 0 if open. */
static size_t
comment_end(const char *s, size_t len, size_t i, int nest)
{
	int depth = 1;

	i += 2;
	while (i + 1 < len) {
		if (nest && s[i] == '/' && s[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (s[i] == '*' && s[i + 1] == '/') {
			i += 2;
			if (--depth == 0)
				return i;
		} else
			i++;
	}
	return 0;
}

static int
fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* Scans a query (see sqltext.h). */
int
sql_scan(const char *s, size_t len, enum db_driver drv, struct sql_text *t,
    char *err, size_t errlen)
{
	size_t	i = 0, j, semi = 0;
	int	mysql = drv == DB_MYSQL, pg = drv == DB_POSTGRESQL;
	int	seen_semi = 0, any = 0;
	char	c;

	memset(t, 0, sizeof(*t));
	if (len > SQL_QUERY_MAX)
		return fail(err, errlen, "is too long");
	if (memchr(s, '\0', len) != NULL)
		return fail(err, errlen, "must not contain NUL");
	while (i < len) {
		c = s[i];
		if (isspace((unsigned char)c)) {
			i++;
			continue;
		}
		/* comments are no statement text */
		if ((c == '-' && i + 1 < len && s[i + 1] == '-') ||
		    (mysql && c == '#')) {
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			if ((j = comment_end(s, len, i, pg)) == 0)
				return fail(err, errlen, "leaves a comment "
				    "open");
			i = j;
			continue;
		}
		if (seen_semi)
			return fail(err, errlen, "must be a single "
			    "statement");
		if (c == ';') {
			seen_semi = 1;
			semi = i;
			i++;
			continue;
		}
		any = 1;
		if (c == '\'') {
			/* E'…' in postgresql takes backslash escapes */
			int bs = mysql || (pg && i > 0 && (s[i - 1] == 'E' ||
			    s[i - 1] == 'e') && (i < 2 ||
			    !word_char((unsigned char)s[i - 2])));

			if ((j = quoted_end(s, len, i + 1, '\'', bs)) == 0)
				return fail(err, errlen, "leaves a string "
				    "literal open");
			i = j;
			continue;
		}
		if (c == '"' || (mysql && c == '`')) {
			if ((j = quoted_end(s, len, i + 1, c,
			    mysql && c == '"')) == 0)
				return fail(err, errlen, "leaves a quoted name "
				    "open");
			i = j;
			continue;
		}
		if (drv == DB_ODBC && c == '[') {
			if ((j = quoted_end(s, len, i + 1, ']', 0)) == 0)
				return fail(err, errlen, "leaves a [name] "
				    "open");
			i = j;
			continue;
		}
		if (pg && c == '$') {
			if ((j = dollar_end(s, len, i)) == 0)
				return fail(err, errlen, "leaves a dollar-"
				    "quoted string open");
			i = j > i ? j : i + 1;
			continue;
		}
		if (c == ':') {
			/* "::" is a cast; "a:b" is no placeholder */
			if (i + 1 < len && s[i + 1] == ':') {
				i += 2;
				continue;
			}
			if (i + 1 < len && name_start((unsigned char)s[i + 1]) &&
			    (i == 0 || !word_char((unsigned char)s[i - 1]))) {
				struct sql_placeholder *ph;

				for (j = i + 1; j < len &&
				    name_char((unsigned char)s[j]); j++)
					continue;
				if (j - i - 1 > 64)
					return fail(err, errlen, "has a "
					    "placeholder name over 64 "
					    "characters");
				if (t->nph == SQL_PLACEHOLDERS_MAX)
					return fail(err, errlen, "has too many "
					    "placeholders");
				ph = &t->ph[t->nph++];
				ph->at = i;
				ph->len = j - i;
				memcpy(ph->name, s + i + 1, j - i - 1);
				ph->name[j - i - 1] = '\0';
				i = j;
				continue;
			}
		}
		/* a word: skip it whole (a ':' or '$' inside belongs to it) */
		if (word_char((unsigned char)c)) {
			while (i < len && (word_char((unsigned char)s[i]) ||
			    s[i] == '$'))
				i++;
			continue;
		}
		i++;
	}
	if (!any)
		return fail(err, errlen, "holds no statement");
	t->end = seen_semi ? semi : len;
	return 0;
}

/* Renders the query for its driver (see sqltext.h). */
int
sql_render(const char *s, const struct sql_text *t, enum db_driver drv,
    const char *const *names, size_t nnames, struct buf *b)
{
	size_t	i, k, at = 0;

	for (i = 0; i < t->nph; i++) {
		for (k = 0; k < nnames; k++)
			if (strcmp(names[k], t->ph[i].name) == 0)
				break;
		if (k == nnames)
			return -1;
		buf_add(b, s + at, t->ph[i].at - at);
		if (drv == DB_POSTGRESQL)
			buf_printf(b, "$%zu", k + 1);
		else
			buf_addc(b, '?');
		at = t->ph[i].at + t->ph[i].len;
	}
	buf_add(b, s + at, t->end - at);
	return b->oom ? -1 : 0;
}
