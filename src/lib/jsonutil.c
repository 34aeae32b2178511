#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "quarry/jsonutil.h"

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
	size_t		 i, kl = 0;
	int		 in = 0, is_key = 0, depth = 0;
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
	*out = o;
	return Q_OK;
}
