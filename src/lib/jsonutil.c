#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "quarry/jsonutil.h"
#include "quarry/util.h"

/* Where the lexical check is: one level per open object or array. */
struct lex_level {
	int	 object;	/* 1 for '{', 0 for '[' */
	int	 want_key;	/* in an object: the next string is a key */
	char	 key[64];	/* the last key seen at this level */
};

/* Joins the keys of the open objects ("parameters.currency"). */
static void
lex_path(const struct lex_level *lv, int depth, char *out, size_t len)
{
	size_t	o = 0;
	int	i;

	if (len == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < depth; i++) {
		if (!lv[i].object || lv[i].key[0] == '\0')
			continue;
		o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s%s",
		    o ? "." : "", lv[i].key);
		if (o >= len)
			return;
	}
}

/* The value of 4 hex digits at p, or -1. */
static long
hex4(const char *p)
{
	long	v = 0;
	int	i;

	for (i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		v = v * 16 + (isdigit((unsigned char)p[i]) ? p[i] - '0' :
		    (tolower((unsigned char)p[i]) - 'a' + 10));
	}
	return v;
}

/*
 * At an escape "\uXXXX" (n bytes left): 0 if it is no surrogate, 1 if it
 * is the high half of a pair whose low half follows, -1 if it is a
 * surrogate alone (which json-c would quietly replace).
 */
static int
surrogate(const char *p, size_t n)
{
	long v = n >= 6 ? hex4(p + 2) : -1;

	if (v < 0xd800 || v > 0xdfff)
		return 0;
	if (v >= 0xdc00 || n < 12 || p[6] != '\\' || p[7] != 'u')
		return -1;
	v = hex4(p + 8);
	return v >= 0xdc00 && v <= 0xdfff ? 1 : -1;
}

/*
 * At a number token (n bytes left): its length if its value is in range
 * (an integer within int64_t, a decimal within a double: json-c would
 * quietly saturate either), else 0.
 */
static size_t
number_in_range(const char *p, size_t n)
{
	char	 tmp[400], *end;
	size_t	 len = 0;
	int	 real = 0;

	while (len < n && strchr("+-.0123456789eE", p[len]) != NULL &&
	    p[len] != '\0') {
		if (p[len] == '.' || p[len] == 'e' || p[len] == 'E')
			real = 1;
		len++;
	}
	if (len >= sizeof(tmp))
		return 0;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	errno = 0;
	if (real)
		(void)strtod(tmp, &end);
	else
		(void)strtoll(tmp, &end, 10);
	return errno == ERANGE ? 0 : len;
}

/*
 * What json-c lets through but RFC 8259 or Quarry does not: the escape
 * \u0000 in a string (json-c cuts the string or key short at the NUL, so
 * "abc\u0000junk" would read as "abc"), a comma before '}' or ']', and
 * characters JSON has no use for outside strings (single quotes,
 * comments).  Returns the reason, or NULL if the text passes; where gets
 * the member it is in ("parameters.currency"), if any.
 */
static const char *
lexical_check(const char *p, size_t n, char *where, size_t wherelen)
{
	struct lex_level lv[JSON_MAX_DEPTH + 1];
	size_t		 i, kl = 0, nl;
	int		 in = 0, is_key = 0, depth = 0, sur;
	char		 last = '\0';	/* last non-space outside strings */

	for (i = 0; i < n; i++) {
		if (in) {
			if (p[i] == '"') {
				in = 0;
				if (is_key)
					lv[depth - 1].key[kl] = '\0';
				continue;
			}
			if (p[i] == '\\' && i + 1 < n) {
				if (p[i + 1] == 'u' && i + 5 < n &&
				    strncmp(p + i + 2, "0000", 4) == 0) {
					if (is_key)
						lv[depth - 1].key[kl] = '\0';
					lex_path(lv, depth, where, wherelen);
					return "\\u0000 in a JSON string";
				}
				if (p[i + 1] == 'u' && (sur = surrogate(p + i,
				    n - i)) != 0) {
					if (sur < 0) {
						if (is_key)
							lv[depth - 1].key[kl] =
							    '\0';
						lex_path(lv, depth, where,
						    wherelen);
						return "not UTF-8 text (a lone "
						    "surrogate escape)";
					}
					i += 6;	/* the high half of a pair */
				}
				i++;	/* the escaped character */
				continue;
			}
			if (is_key && kl + 1 < sizeof(lv[0].key))
				lv[depth - 1].key[kl++] = p[i];
			continue;
		}
		if (isspace((unsigned char)p[i]))
			continue;
		/* Outside strings JSON has only these (RFC 8259 section 2). */
		if (strchr("{}[],:\"-+.0123456789eEtrufalsn", p[i]) == NULL ||
		    p[i] == '\0')
			return "malformed JSON: unexpected character";
		if ((p[i] == '}' || p[i] == ']') && last == ',')
			return "malformed JSON: a comma before the end of an "
			    "object or array";
		if (p[i] == '-' || isdigit((unsigned char)p[i])) {
			if ((nl = number_in_range(p + i, n - i)) == 0) {
				lex_path(lv, depth, where, wherelen);
				return "a number out of range (an integer must "
				    "fit in 64 bits, a decimal in a double)";
			}
			last = '0';
			i += nl - 1;
			continue;
		}
		last = p[i];
		switch (p[i]) {
		case '{':
		case '[':
			if (depth > JSON_MAX_DEPTH)
				return NULL;	/* the parser refuses it */
			lv[depth].object = p[i] == '{';
			lv[depth].want_key = lv[depth].object;
			lv[depth].key[0] = '\0';
			depth++;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		case ',':
			if (depth > 0 && lv[depth - 1].object)
				lv[depth - 1].want_key = 1;
			break;
		case ':':
			if (depth > 0)
				lv[depth - 1].want_key = 0;
			break;
		case '"':
			in = 1;
			is_key = depth > 0 && lv[depth - 1].object &&
			    lv[depth - 1].want_key;
			kl = 0;
			break;
		}
	}
	return NULL;
}

/*
 * Checks every key and string of o as text Quarry takes in (utf8_check:
 * json-c lets overlong forms, encoded surrogates and noncharacters
 * through).  Returns 0, or -1 with the member's path in where.
 */
static int
text_check(struct json_object *o, char *where, size_t wherelen,
    size_t used)
{
	struct json_object	*v;
	const char		*s;
	size_t			 i, n, kl;
	int			 w;

	switch (json_object_get_type(o)) {
	case json_type_string:
		s = json_object_get_string(o);
		n = (size_t)json_object_get_string_len(o);
		return utf8_check(s, n) == n ? 0 : -1;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(o, i);
			if (v == NULL || text_check(v, where, wherelen,
			    used) == 0)
				continue;
			return -1;
		}
		return 0;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			kl = strlen(key);
			if (utf8_check(key, kl) != kl) {
				if (where != NULL && used < wherelen)
					where[used] = '\0';
				return -1;
			}
			if (val == NULL)
				continue;
			if (where != NULL && used < wherelen) {
				w = snprintf(where + used, wherelen - used,
				    "%s%s", used ? "." : "", key);
				if (text_check(val, where, wherelen, used +
				    (size_t)(w > 0 ? w : 0)) != 0)
					return -1;
				where[used] = '\0';
			} else if (text_check(val, NULL, 0, 0) != 0)
				return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* Parses exactly one JSON value (RFC 8259) from p[0..n). */
enum qerr
json_parse_strict(const char *p, size_t n, struct json_object **out,
    char *err, size_t errlen)
{
	return json_parse_strict_at(p, n, out, err, errlen, NULL, 0);
}

/* The same, saying in where which member is at fault (see jsonutil.h). */
enum qerr
json_parse_strict_at(const char *p, size_t n, struct json_object **out,
    char *err, size_t errlen, char *where, size_t wherelen)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 je;
	size_t			 used;
	const char		*why;

	*out = NULL;
	if (memchr(p, '\0', n) != NULL) {
		snprintf(err, errlen, "NUL byte in JSON");
		return Q_INVALID;
	}
	if (where != NULL && wherelen > 0)
		where[0] = '\0';
	if ((why = lexical_check(p, n, where, where ? wherelen : 0)) != NULL) {
		snprintf(err, errlen, "%s", why);
		return Q_INVALID;
	}
	if (n > INT32_MAX) {
		snprintf(err, errlen, "JSON too large");
		return Q_TOOBIG;
	}
	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL)
		return Q_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, p, (int)n);
	je = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || je != json_tokener_success) {
		if (o != NULL)
			json_object_put(o);
		snprintf(err, errlen, "malformed JSON: %s",
		    je == json_tokener_continue ? "unexpected end of input" :
		    json_tokener_error_desc(je));
		return Q_INVALID;
	}
	while (used < n && isspace((unsigned char)p[used]))
		used++;
	if (used != n) {
		json_object_put(o);
		snprintf(err, errlen, "malformed JSON: text after the value");
		return Q_INVALID;
	}
	if (where != NULL && wherelen > 0)
		where[0] = '\0';
	if (text_check(o, where, where ? wherelen : 0, 0) != 0) {
		json_object_put(o);
		snprintf(err, errlen, "%s%snot UTF-8 text (an overlong form, a "
		    "surrogate or a noncharacter)", where && *where ? where :
		    "", where && *where ? ": " : "");
		return Q_INVALID;
	}
	*out = o;
	return Q_OK;
}
