/*
 * Streaming file writers: csv (RFC 4180, CRLF, header row), tsv (header
 * row, LF, backslash escapes), json (an array of objects) and xml (rows of
 * elements named by column).  Each buffers at most WRITER_BUF bytes and
 * writes through the write seam; memory does not grow with the rows.
 */
#ifndef QUARRY_FORMAT_H
#define QUARRY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "quarry/buf.h"
#include "quarry/model.h"

#define WRITER_BUF (256 * 1024)
/* Written bytes between two starts of write-back (sync_file_range). */
#define WRITEBACK_EVERY (8 * 1024 * 1024)

struct writer {
	enum fmt	 fmt;
	int		 fd;
	int		 formula_guard;
	char		**columns;	/* as given (csv/tsv/json) */
	char		**tags;		/* xml element names */
	size_t		 ncolumns;
	struct buf	 out;
	uint64_t	 rows;
	uint64_t	 bytes;		/* written to fd so far */
	uint64_t	 queued;	/* of those, sent to write-back */
	int		 failed;	/* errno of a failed write */
};

/* Starts a file: writes the header; 0, or -1 with w->failed set. */
int	 writer_begin(struct writer *w, enum fmt f, int fd,
	     char *const *columns, size_t n, int formula_guard);
int	 writer_row(struct writer *w, const char *const *fields,
	     const size_t *lens);
/* Writes the trailer and flushes; the caller fsyncs and closes fd. */
int	 writer_end(struct writer *w);
void	 writer_free(struct writer *w);

const char *fmt_content_type(enum fmt f);
const char *fmt_extension(enum fmt f);

/*
 * Appends s with XML's five special characters escaped (and CR as a
 * reference); controls XML 1.0 cannot hold at all become U+FFFD.
 */
void	 xml_escape(struct buf *b, const char *s, size_t n);
/* Appends s as a JSON string literal (with the quotes). */
void	 json_escape(struct buf *b, const char *s, size_t n);

#endif
