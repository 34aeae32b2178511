/*
 * Job parameters: validated against a definition's declarations and
 * written in one canonical form (a JSON object, keys sorted, values as
 * strings), which is part of the active-job key; and the typed
 * comparison the export's filters use.
 */
#ifndef QUARRY_PARAMS_H
#define QUARRY_PARAMS_H

#include <json-c/json.h>

#include "quarry/buf.h"
#include "quarry/model.h"

/* True if s is a valid value of type t. */
int	 param_value_valid(enum ptype t, const char *s);

/*
 * Validates given (a JSON object or NULL) against d and writes the
 * canonical form into canon.  On Q_INVALID, bad names the parameter.
 */
enum qerr params_canonical(const struct definition *d,
	      struct json_object *given, struct buf *canon, char *bad,
	      size_t badlen, char *err, size_t errlen);

/*
 * Compares a cell (n bytes) with a parameter value by the parameter's
 * type: <0, 0 or >0, or 2 when either is not a value of that type.
 */
int	 param_cmp(enum ptype t, const char *cell, size_t n, const char *val);

#endif
