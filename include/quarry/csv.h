/*
 * CSV as in RFC 4180: a streaming reader and a writer.
 *
 * The reader takes bytes in chunks (so it reads a file or a pipe in
 * bounded memory) and calls back once per record.  It accepts CRLF or LF
 * line ends, quoted fields with embedded separators, doubled quotes and
 * line breaks, and refuses: a quote inside an unquoted field, text after a
 * closing quote, an unterminated quoted field, invalid UTF-8, a NUL byte,
 * a field over CSV_FIELD_MAX bytes, a record over CSV_FIELDS_MAX fields.
 * Errors name the line (1-based) on which the offending record starts.
 */
#ifndef QUARRY_CSV_H
#define QUARRY_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "quarry/buf.h"

#define CSV_FIELD_MAX	(1024 * 1024)
#define CSV_FIELDS_MAX	1024

/* One record: fields[i] is NUL-terminated, lens[i] its length. */
typedef int (*csv_record_cb)(char **fields, size_t *lens, size_t n,
	     unsigned long line, void *arg);

struct csv_reader {
	char		 sep;
	csv_record_cb	 cb;
	void		*arg;
	int		 state;
	unsigned long	 line;		/* current physical line */
	unsigned long	 rec_line;	/* line the record started on */
	struct buf	 field;		/* the field being read */
	struct buf	 rec;		/* finished fields of the record */
	size_t		*offs;		/* their offsets in rec */
	size_t		*lens;
	size_t		 nfields;
	unsigned	 utf8_need;	/* continuation bytes still expected */
	unsigned	 utf8_cp;	/* for overlong/surrogate checks */
	unsigned	 utf8_len;
	int		 failed;
	char		 err[256];
};

void	csv_reader_init(struct csv_reader *r, char sep, csv_record_cb cb,
	    void *arg);
void	csv_reader_free(struct csv_reader *r);
/*
 * Feeds n bytes.  Returns 0, -1 on malformed input (r->err says where and
 * why), or the callback's non-zero value if it stopped the reader.
 */
int	csv_feed(struct csv_reader *r, const char *p, size_t n);
/* Ends the input (a last record without a line break is taken). */
int	csv_finish(struct csv_reader *r);
/* Reads all of a stream. */
int	csv_read_stream(struct csv_reader *r, FILE *in);

/* Appends one field to out, quoted when RFC 4180 requires it. */
void	csv_put_field(struct buf *out, const char *p, size_t n, char sep);
/*
 * The same into dst, which has room for 2 * n + 2 bytes; returns the
 * bytes written (no NUL).
 */
size_t	csv_encode_field(char *dst, const char *p, size_t n, char sep);

#endif
