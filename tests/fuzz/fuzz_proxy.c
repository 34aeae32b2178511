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
#include "../unit/memio.h"

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
	l[0] = fuzz_env_line(&p, "LIST");
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
		l[i + 1] = fuzz_env_line(&p, names[i]);
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
	buf_free(&m.out);
	for (i = 0; i < 6; i++)
		free(l[i]);
	free(in);
	return 0;
}
