/*
 * An in-memory transport for the web programs' unit tests: the CGI
 * environment as "NAME=value" strings, the request body from memory, the
 * whole answer into a buffer.
 */
#ifndef QUARRY_TEST_MEMIO_H
#define QUARRY_TEST_MEMIO_H

#include <string.h>
#include <sys/types.h>

#include "quarry/buf.h"

#define ENV_MAX 32

struct mem {
	const char	*env[ENV_MAX];	/* "NAME=value" */
	const char	*body;
	size_t		 body_len, body_off;
	struct buf	 out;
};

static inline ssize_t
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

static inline int
mem_write(void *ctx, const void *p, size_t n)
{
	struct mem *m = ctx;

	buf_add(&m->out, p, n);
	return 0;
}

static inline const char *
mem_getenv(void *ctx, const char *name)
{
	struct mem	*m = ctx;
	size_t		 i, n = strlen(name);

	for (i = 0; i < ENV_MAX && m->env[i] != NULL; i++)
		if (strncmp(m->env[i], name, n) == 0 && m->env[i][n] == '=')
			return m->env[i] + n + 1;
	return NULL;
}

#endif
