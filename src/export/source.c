/*
 * The export pipeline, stage 1: the source.  Picks the definition's
 * source, runs it through the pipe and says how it went.  A new kind of
 * source is a case here and a file source_<kind>.c.
 */
#include <stdio.h>
#include <string.h>

#include "quarry/export.h"

/* Runs x's source through p and fills res (see export.h). */
enum qerr
source_run(struct store *s, const struct conf *c, const struct export_spec *x,
    struct rowpipe *p, struct build_result *res)
{
	const struct definition	*d = x->d;
	enum qerr		 e;

	memset(res, 0, sizeof(*res));
	if (d->dataset != NULL)
		e = source_dataset(s, d, x->params, p, res);
	else if (d->command != NULL)
		e = source_command(c, d, x->params, p, res);
	else if (d->database != NULL)
		e = source_sql(c, d, x->params, p, res);
	else {
		snprintf(res->detail, sizeof(res->detail), "the definition "
		    "has no source");
		e = Q_INVALID;
	}
	res->rows = p->rows;
	res->bytes = rowpipe_bytes(p);
	if (e == Q_IO && res->detail[0] == '\0')
		build_write_detail(res, p->failed);
	if (e == Q_CANCELLED)
		snprintf(res->detail, sizeof(res->detail), "cancelled");
	if (e == Q_TRANSIENT)
		res->retry = 1;
	if (e != Q_OK && res->detail[0] == '\0')
		snprintf(res->detail, sizeof(res->detail), "%s", qerr_str(e));
	rowpipe_free(p);
	return e;
}
