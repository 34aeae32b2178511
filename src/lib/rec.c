#include <stdlib.h>
#include <string.h>

#include "quarry/rec.h"

void
rec_begin(struct buf *b, char kind, int version)
{
	buf_reset(b);
	buf_addc(b, kind);
	buf_addc(b, (char)version);
}

void
rec_u64(struct buf *b, uint64_t v)
{
	unsigned char	x[8];
	int		i;

	for (i = 7; i >= 0; i--, v >>= 8)
		x[i] = (unsigned char)v;
	buf_add(b, x, 8);
}

void
rec_bytes(struct buf *b, const void *p, size_t n)
{
	unsigned char x[4];

	x[0] = (unsigned char)(n >> 24);
	x[1] = (unsigned char)(n >> 16);
	x[2] = (unsigned char)(n >> 8);
	x[3] = (unsigned char)n;
	buf_add(b, x, 4);
	buf_add(b, p, n);
}

void
rec_str(struct buf *b, const char *s)
{
	rec_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

void
rec_open(struct rec_reader *r, const void *p, size_t n, char kind)
{
	r->p = p;
	r->n = n;
	r->err = 0;
	r->version = 0;
	if (n < 2 || r->p[0] != (unsigned char)kind) {
		r->err = 1;
		return;
	}
	r->version = r->p[1];
	r->p += 2;
	r->n -= 2;
}

uint64_t
rec_get_u64(struct rec_reader *r)
{
	uint64_t	v = 0;
	int		i;

	if (r->err || r->n < 8) {
		r->err = 1;
		return 0;
	}
	for (i = 0; i < 8; i++)
		v = (v << 8) | r->p[i];
	r->p += 8;
	r->n -= 8;
	return v;
}

const char *
rec_get_ref(struct rec_reader *r, size_t *len)
{
	const char	*s;
	size_t		 l;

	*len = 0;
	if (r->err || r->n < 4) {
		r->err = 1;
		return "";
	}
	l = (size_t)r->p[0] << 24 | (size_t)r->p[1] << 16 |
	    (size_t)r->p[2] << 8 | r->p[3];
	if (l > r->n - 4) {
		r->err = 1;
		return "";
	}
	s = (const char *)r->p + 4;
	r->p += 4 + l;
	r->n -= 4 + l;
	*len = l;
	return s;
}

char *
rec_get_str(struct rec_reader *r)
{
	size_t		 l;
	const char	*s = rec_get_ref(r, &l);
	char		*out;

	if (r->err)
		return NULL;
	if ((out = malloc(l + 1)) == NULL) {
		r->err = 1;
		return NULL;
	}
	memcpy(out, s, l);
	out[l] = '\0';
	return out;
}

void
rec_get_strn(struct rec_reader *r, char *dst, size_t len)
{
	size_t		 l;
	const char	*s = rec_get_ref(r, &l);

	if (r->err || l >= len) {
		r->err = 1;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, s, l);
	dst[l] = '\0';
}
