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

struct mem {
	const char	*env[8];
	const char	*body;
	size_t		 body_len, body_off;
};

static ssize_t
mem_read(void *ctx, void *p, size_t n)
{
	struct mem	*m = ctx;
	size_t		 left = m->body_len - m->body_off;

	if (n > left)
		n = left;
	memcpy(p, m->body + m->body_off, n);
	m->body_off += n;
	return (ssize_t)n;
}

static int
mem_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return 0;
}

static const char *
mem_getenv(void *ctx, const char *name)
{
	struct mem	*m = ctx;
	size_t		 i, n = strlen(name);

	for (i = 0; i < 8 && m->env[i] != NULL; i++)
		if (strncmp(m->env[i], name, n) == 0 && m->env[i][n] == '=')
			return m->env[i] + n + 1;
	return NULL;
}

/* The next line of *p into a "NAME=line" string (freed by the caller). */
static char *
line(char **p, const char *name)
{
	char	*s = *p, *e = strchr(s, '\n'), *out;
	size_t	 n = e ? (size_t)(e - s) : strlen(s);

	*p = e ? e + 1 : s + n;
	out = malloc(strlen(name) + n + 2);
	if (out == NULL)
		abort();
	sprintf(out, "%s=%.*s", name, (int)n, s);
	return out;
}

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
	l[0] = line(&p, "REQUEST_METHOD");
	l[1] = line(&p, "REQUEST_URI");
	l[2] = line(&p, "HTTP_HOST");
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
	for (i = 0; i < 3; i++)
		free(l[i]);
	free(in);
	return 0;
}
