/*
 * The dialects' own query and link parsers: Graph's $filter (of both
 * mounts), OSDI's
 * paging numbers and its definition links.  The input is the value.
 */
#include "fuzz.h"
#include "api/api.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	r;
	char		*s = fuzz_str(data, size), def[ID_LEN + 1], *q;
	char		 org[TENANT_MAX + 1];
	unsigned	states;
	long		n;

	memset(&r, 0, sizeof(r));
	(void)graph_parse_filter(&r, s, def, &states);
	memset(&r, 0, sizeof(r));
	(void)goals_parse_filter(&r, s, org);
	(void)osdi_definition_of_href(s, def);
	if ((q = malloc(size + 6)) == NULL)
		abort();
	snprintf(q, size + 6, "page=%s", s);
	r.query = q;
	(void)api_query_int(&r, "page", 1000000, 1, &n);
	free(q);
	free(s);
	return 0;
}
