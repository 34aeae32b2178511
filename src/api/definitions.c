/*
 * definitions.fcgi: listing and showing extract definitions.
 */
#include <string.h>

#include "api/api.h"
#include "dialect/dialect.h"

struct def_render {
	struct request	*r;
};

static int
render_def(const struct definition *d, void *arg)
{
	struct def_render *a = arg;

	concur_definition(&a->r->out, a->r->base, d, 0);
	return 0;
}

/* GET /api/expense/extract/v1.0/: the tenant's definitions. */
enum qerr
concur_list_definitions(struct request *r)
{
	struct def_render	a = { r };
	enum qerr		e;

	if ((e = http_auth(r)) != Q_OK)
		return e;
	concur_definitions_begin(&r->out);
	if ((e = definition_list(r->store, r->tok.tenant, render_def, &a)) !=
	    Q_OK) {
		buf_reset(&r->out);
		return e;
	}
	concur_definitions_end(&r->out);
	http_send(r, 200, CONCUR_CTYPE);
	return Q_OK;
}

/* GET /api/expense/extract/v1.0/{def}: one definition. */
enum qerr
concur_show_definition(struct request *r)
{
	struct definition	d;
	enum qerr		e;

	if ((e = http_auth(r)) != Q_OK)
		return e;
	if ((e = api_definition(r, r->capture[0], &d)) != Q_OK)
		return e;
	concur_definition(&r->out, r->base, &d, 1);
	definition_free(&d);
	http_send(r, 200, CONCUR_CTYPE);
	return Q_OK;
}
