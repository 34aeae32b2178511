/*
 * A growable byte buffer.  Always NUL-terminated after its len bytes, so a
 * buffer of text can be used as a C string.  On allocation failure the
 * buffer records it in oom and later appends are no-ops; check it once.
 */
#ifndef QUARRY_BUF_H
#define QUARRY_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*data;	/* the bytes, NUL-terminated; NULL until the first append */
	size_t	 len;	/* bytes in use, not counting the NUL */
	size_t	 cap;	/* bytes allocated */
	int	 oom;	/* an allocation failed: contents are incomplete */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void	 buf_free(struct buf *b);
void	 buf_reset(struct buf *b);
int	 buf_reserve(struct buf *b, size_t extra);
void	 buf_add(struct buf *b, const void *p, size_t n);
void	 buf_adds(struct buf *b, const char *s);
void	 buf_addc(struct buf *b, char c);
void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The contents as a C string ("" for an empty buffer). */
const char *buf_str(const struct buf *b);

#endif
