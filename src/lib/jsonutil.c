#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "quarry/jsonutil.h"

/* Parses exactly one JSON value (RFC 8259) from p[0..n). */
enum qerr
json_parse_strict(const char *p, size_t n, struct json_object **out,
    char *err, size_t errlen)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 je;
	size_t			 used;

	*out = NULL;
	if (memchr(p, '\0', n) != NULL) {
		snprintf(err, errlen, "NUL byte in JSON");
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
