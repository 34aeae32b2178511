/*
 * trusted_proxies and the forwarded headers (docs/http.md, "Absolute
 * URLs"): the input's lines are a trusted_proxies value, REMOTE_ADDR,
 * X-Forwarded-Proto, X-Forwarded-Host, Host and HTTPS.  The list goes
 * through its parser (a list it refuses must leave the configuration
 * as it was), the address through the match, and the request through
 * the base of its URLs, which must come out as http:// or https://
 * followed by a plain host[:port], whatever the headers held.
 */
#include <stdio.h>

#include "fuzz.h"
#include "http/http.h"

struct mem {
	const char	*env[8];
};

static ssize_t
mem_read(void *ctx, void *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return 0;
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
	static const char	*names[] = { "REMOTE_ADDR",
				    "HTTP_X_FORWARDED_PROTO",
				    "HTTP_X_FORWARDED_HOST", "HTTP_HOST",
				    "HTTPS" };
	static struct conf	 c, before;
	struct transport	 io = { mem_read, mem_write, mem_getenv, NULL,
				    NULL, NULL };
	struct request		 r;
	struct mem		 m;
	char			*in = fuzz_str(data, size), *p = in, *l[6];
	char			 why[256];
	const char		*h;
	size_t			 i;

	conf_defaults(&c);
	(void)conf_set_proxies(&c, "127.0.0.1 10.0.0.0/8 ::1 2001:db8::/32",
	    NULL, 0);
	memcpy(&before, &c, sizeof(c));
	l[0] = line(&p, "LIST");
	if (conf_set_proxies(&c, l[0] + 5, why, sizeof(why)) != Q_OK) {
		if (memcmp(&c, &before, sizeof(c)) != 0)
			abort();	/* a refused list changed the conf */
		if (why[0] == '\0')
			abort();	/* and said nothing */
	}
	memset(&m, 0, sizeof(m));
	m.env[0] = "REQUEST_METHOD=GET";
	m.env[1] = "REQUEST_URI=/api/v1/exportJobs";
	for (i = 0; i < 5; i++) {
		l[i + 1] = line(&p, names[i]);
		m.env[i + 2] = l[i + 1];
	}
	(void)conf_proxy_trusted(&c, l[1] + strlen("REMOTE_ADDR="));
	io.ctx = &m;
	http_request_init(&r, &io, &c, NULL, PROG_JOBS);
	if (strncmp(r.base, "http://", 7) == 0)
		h = r.base + 7;
	else if (strncmp(r.base, "https://", 8) == 0)
		h = r.base + 8;
	else
		abort();
	if (*h == '\0' || strspn(h, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]_") != strlen(h))
		abort();	/* the base holds more than a host[:port] */
	http_request_free(&r);
	for (i = 0; i < 6; i++)
		free(l[i]);
	free(in);
	return 0;
}
