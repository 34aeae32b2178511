/*
 * Record encoding for the store's values.  A record is:
 *
 *	byte 0	kind (one letter: 'T' token, 'D' dataset, 'F' definition,
 *		'J' job, 'R' row)
 *	byte 1	version of that kind's layout
 *	then	fields in the layout's order, each either
 *		u64: 8 bytes big-endian, or
 *		str: u32 big-endian length + bytes (no NUL)
 *
 * A reader checks kind and version and every length against the record's
 * size; a short or malformed record sets err and yields zeros/empty
 * strings.  docs/store.md has each layout and how to change one.
 */
#ifndef QUARRY_REC_H
#define QUARRY_REC_H

#include <stddef.h>
#include <stdint.h>

#include "quarry/buf.h"

struct rec_reader {
	const unsigned char	*p;
	size_t			 n;
	int			 err;
	int			 version;
};

void	 rec_begin(struct buf *b, char kind, int version);
void	 rec_u64(struct buf *b, uint64_t v);
void	 rec_str(struct buf *b, const char *s);
void	 rec_bytes(struct buf *b, const void *p, size_t n);

/* Starts reading; sets err if kind differs or the header is short. */
void	 rec_open(struct rec_reader *r, const void *p, size_t n, char kind);
uint64_t rec_get_u64(struct rec_reader *r);
/* A fresh NUL-terminated copy (free it), or NULL on error/oom. */
char	*rec_get_str(struct rec_reader *r);
/* Copies into a fixed buffer; sets err if it does not fit. */
void	 rec_get_strn(struct rec_reader *r, char *dst, size_t len);
/* Points at the next string's bytes without copying. */
const char *rec_get_ref(struct rec_reader *r, size_t *len);

#endif
