/*
 * Job parameters: validated against a definition's declarations and
 * written in one canonical form (a JSON object, keys sorted, values as
 * strings), which is part of the active-job key.  Filters compiled
 * against a source's columns select rows by those values.
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

struct compiled_filter {
	size_t		 col;	/* index in the source's columns */
	enum fop	 op;
	enum ptype	 type;
	char		*value;
};

struct filter_set {
	struct compiled_filter	*f;
	size_t			 n;
};

/*
 * Compiles d's filters for a source with these columns and the job's
 * canonical parameters; filters whose parameter is absent are skipped.
 */
enum qerr filters_compile(const struct definition *d, char *const *columns,
	      size_t ncolumns, const char *params, struct filter_set *out,
	      char *err, size_t errlen);
int	 filters_match(const struct filter_set *fs, const char *const *fields,
	     const size_t *lens);
void	 filters_free(struct filter_set *fs);

#endif
