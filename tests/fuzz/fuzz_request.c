/*
 * A request as the web server hands it over: the input's lines are the
 * method, the URI (path and query), the Host header and the body.  It
 * goes through request parsing (path segments, percent-decoding, tricks)
 * and the router (404, 405, the program, the dialect) into the query
 * reader; with no store open, a matched route answers 503 before any
 * handler, so nothing below the router is reached.
 */
#include "fuzz.h"
#include "http/http.h"
#include "../unit/memio.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf	 c;
	static const char	*names[] = { "$top", "$skiptoken", "$filter",
				    "page", "per_page", "osdi-api-token" };
	struct transport	 io = { mem_read, mem_write, mem_getenv, NULL,
				    NULL, NULL };
	struct request		 r;
	struct mem		 m;
	char			*in = fuzz_str(data, size), *p = in, *l[3];
	char			 cl[32], v[512];
	size_t			 i;

	conf_defaults(&c);
	memset(&m, 0, sizeof(m));
	l[0] = fuzz_env_line(&p, "REQUEST_METHOD");
	l[1] = fuzz_env_line(&p, "REQUEST_URI");
	l[2] = fuzz_env_line(&p, "HTTP_HOST");
	for (i = 0; i < 3; i++)
		m.env[i] = l[i];
	m.body = p;
	m.body_len = strlen(p);
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", m.body_len);
	m.env[3] = cl;
	io.ctx = &m;
	http_request_init(&r, &io, &c, NULL, (enum prog)(size % 4));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)http_query(&r, names[i], v, sizeof(v));
	http_dispatch(&r);
	http_request_free(&r);
	buf_free(&m.out);
	for (i = 0; i < 3; i++)
		free(l[i]);
	free(in);
	return 0;
}
