#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "quarry/jsonutil.h"

/*
 * What json-c lets through but RFC 8259 or Quarry does not: the escape
 * \u0000 in a string (json-c cuts the string or key short at the NUL, so
 * "abc\u0000junk" would read as "abc"), a comma before '}' or ']',
 * and characters JSON has no use for outside strings (single quotes,
 * comments).
 * Returns the reason, or NULL if the text passes.
 */
static const char *
lexical_check(const char *p, size_t n)
{
	size_t	i;
	int	in = 0;
	char	last = '\0';	/* last non-space character outside strings */

	for (i = 0; i < n; i++) {
		if (in) {
			if (p[i] == '"')
				in = 0;
			else if (p[i] == '\\' && i + 1 < n) {
				if (p[i + 1] == 'u' && i + 5 < n &&
				    strncmp(p + i + 2, "0000", 4) == 0)
					return "\\u0000 in a JSON string";
				i++;	/* the escaped character */
			}
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
		in = p[i] == '"';
		last = p[i];
	}
	return NULL;
}

/* Parses exactly one JSON value (RFC 8259) from p[0..n). */
enum qerr
json_parse_strict(const char *p, size_t n, struct json_object **out,
    char *err, size_t errlen)
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
	if ((why = lexical_check(p, n)) != NULL) {
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
