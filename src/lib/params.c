/*
 * Parameter validation, canonical form, and typed comparison.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quarry/jsonutil.h"
#include "quarry/format.h"
#include "quarry/params.h"

#define PARAM_VALUE_MAX 1024

static int
parse_int(const char *s, size_t n, long long *out)
{
	char	 tmp[32], *end;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!(isdigit((unsigned char)tmp[0]) || ((tmp[0] == '-' ||
	    tmp[0] == '+') && isdigit((unsigned char)tmp[1]))))
		return -1;
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	return errno || *end != '\0' ? -1 : 0;
}

static int
parse_decimal(const char *s, size_t n, long double *out)
{
	char	 tmp[64], *end;
	size_t	 i = 0;
	int	 digits = 0;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (tmp[i] == '-' || tmp[i] == '+')
		i++;
	for (; isdigit((unsigned char)tmp[i]); i++)
		digits++;
	if (tmp[i] == '.')
		for (i++; isdigit((unsigned char)tmp[i]); i++)
			digits++;
	if (digits == 0 || tmp[i] != '\0')
		return -1;
	errno = 0;
	*out = strtold(tmp, &end);
	return errno || *end != '\0' ? -1 : 0;
}

static int
parse_date(const char *s, size_t n)
{
	char	tmp[32];
	time_t	t;

	if (n != 10)
		return -1;
	memcpy(tmp, s, 10);
	memcpy(tmp + 10, "T00:00:00Z", 11);
	return time_parse_rfc3339(tmp, &t);
}

static int
parse_datetime(const char *s, size_t n, time_t *out)
{
	char tmp[64];

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return time_parse_rfc3339(tmp, out);
}

/* True if s is a valid value of type t. */
int
param_value_valid(enum ptype t, const char *s)
{
	long long	ll;
	long double	ld;
	time_t		tt;
	size_t		n = strlen(s);

	switch (t) {
	case PT_STRING:	return n <= PARAM_VALUE_MAX;
	case PT_INT:	return parse_int(s, n, &ll) == 0;
	case PT_DECIMAL: return parse_decimal(s, n, &ld) == 0;
	case PT_DATE:	return parse_date(s, n) == 0;
	case PT_DATETIME: return parse_datetime(s, n, &tt) == 0;
	}
	return 0;
}

static const char *const ptype_words[] = { "a string", "an integer",
    "a decimal number", "a date (YYYY-MM-DD)",
    "a date-time (RFC 3339, e.g. 2026-11-22T09:15:02Z)" };

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Validates given parameters and writes the canonical form. */
enum qerr
params_canonical(const struct definition *d, struct json_object *given,
    struct buf *canon, char *bad, size_t badlen, char *err, size_t errlen)
{
	const char		*keys[64];
	const char		*val;
	char			 num[64];
	struct json_object	*v;
	size_t			 nkeys = 0, i, j;

	buf_reset(canon);
	bad[0] = '\0';
	if (given != NULL && !json_object_is_type(given, json_type_object)) {
		snprintf(bad, badlen, "parameters");
		snprintf(err, errlen, "parameters must be an object");
		return Q_INVALID;
	}
	if (given != NULL) {
		json_object_object_foreach(given, key, value) {
			(void)value;
			for (j = 0; j < d->nparams; j++)
				if (strcmp(d->params[j].name, key) == 0)
					break;
			if (j == d->nparams || nkeys >= 64) {
				snprintf(bad, badlen, "%s", key);
				snprintf(err, errlen, "parameter '%.64s' is not "
				    "declared by the definition", key);
				return Q_INVALID;
			}
			keys[nkeys++] = key;
		}
	}
	for (j = 0; j < d->nparams; j++) {
		v = given ? json_object_object_get(given, d->params[j].name) :
		    NULL;
		if (v == NULL && d->params[j].required) {
			snprintf(bad, badlen, "%s", d->params[j].name);
			snprintf(err, errlen, "parameter '%s' is required",
			    d->params[j].name);
			return Q_INVALID;
		}
	}
	qsort(keys, nkeys, sizeof(keys[0]), cmp_keys);
	buf_addc(canon, '{');
	for (i = 0; i < nkeys; i++) {
		for (j = 0; strcmp(d->params[j].name, keys[i]) != 0; j++)
			;
		v = json_object_object_get(given, keys[i]);
		if (json_object_is_type(v, json_type_string))
			val = json_object_get_string(v);
		else if ((d->params[j].type == PT_INT &&
		    json_object_is_type(v, json_type_int)) ||
		    (d->params[j].type == PT_DECIMAL &&
		    (json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double)))) {
			snprintf(num, sizeof(num), "%s",
			    json_object_to_json_string_ext(v,
			    JSON_C_TO_STRING_PLAIN));
			val = num;
		} else
			val = NULL;
		if (val == NULL || (json_object_is_type(v, json_type_string) &&
		    (size_t)json_object_get_string_len(v) != strlen(val)) ||
		    !param_value_valid(d->params[j].type, val)) {
			snprintf(bad, badlen, "%s", keys[i]);
			snprintf(err, errlen, "parameter '%s' must be %s",
			    keys[i], ptype_words[d->params[j].type]);
			return Q_INVALID;
		}
		if (i > 0)
			buf_addc(canon, ',');
		json_escape(canon, keys[i], strlen(keys[i]));
		buf_addc(canon, ':');
		json_escape(canon, val, strlen(val));
	}
	buf_addc(canon, '}');
	return canon->oom ? Q_NOMEM : Q_OK;
}

/* Compares a cell with a value by type (see params.h). */
int
param_cmp(enum ptype t, const char *cell, size_t n, const char *val)
{
	long long	a, b;
	long double	x, y;
	time_t		ta, tb;
	size_t		vl = strlen(val);
	int		r;

	switch (t) {
	case PT_INT:
		if (parse_int(cell, n, &a) || parse_int(val, vl, &b))
			return 2;
		return a < b ? -1 : a > b;
	case PT_DECIMAL:
		if (parse_decimal(cell, n, &x) || parse_decimal(val, vl, &y))
			return 2;
		return x < y ? -1 : x > y;
	case PT_DATETIME:
		if (parse_datetime(cell, n, &ta) || parse_datetime(val, vl, &tb))
			return 2;
		return ta < tb ? -1 : ta > tb;
	case PT_DATE:
		if (parse_date(cell, n) != 0)
			return 2;
		/* valid dates order as strings */
		__attribute__((fallthrough));
	default:
		r = memcmp(cell, val, n < vl ? n : vl);
		if (r == 0)
			r = n < vl ? -1 : n > vl;
		return r < 0 ? -1 : r > 0;
	}
}
