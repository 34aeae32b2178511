/*
 * The export pipeline, stage 4: encoding.  The four streaming writers
 * (csv, tsv, json, xml) behind one interface (see quarry/export.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quarry/csv.h"
#include "quarry/export.h"
#include "quarry/format.h"
#include "quarry/seams.h"

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

static int
flush(struct writer *w)
{
	if (w->out.oom) {
		w->failed = ENOMEM;
		return -1;
	}
	if (w->out.len == 0)
		return 0;
	if (write_all(w->fd, w->out.data, w->out.len) != 0) {
		w->failed = errno ? errno : EIO;
		return -1;
	}
	w->bytes += w->out.len;
	buf_reset(&w->out);
#ifdef SYNC_FILE_RANGE_WRITE
	if (w->bytes - w->queued >= WRITEBACK_EVERY) {
		/*
		 * Start the write-back of what is written so far, so the
		 * disk works while rows are encoded and the caller's fsync
		 * finds little left.  A hint only: a pipe refuses it.
		 */
		(void)sync_file_range(w->fd, (off_t)w->queued,
		    (off_t)(w->bytes - w->queued), SYNC_FILE_RANGE_WRITE);
		w->queued = w->bytes;
	}
#endif
	return 0;
}

/* An XML element name for a column: invalid characters become '_'. */
static char *
xml_tag(const char *col)
{
	size_t	 i, n = strlen(col);
	char	*t = malloc(n + 2), *p = t;

	if (t == NULL)
		return NULL;
	if (!(isalpha((unsigned char)col[0]) || col[0] == '_'))
		*p++ = '_';
	for (i = 0; i < n; i++)
		*p++ = isalnum((unsigned char)col[i]) || col[i] == '_' ||
		    col[i] == '-' || col[i] == '.' ? col[i] : '_';
	*p = '\0';
	return t;
}

/* Writes a TSV field at dst (room for 2 * n bytes); returns its length. */
static size_t
tsv_encode(char *dst, const char *s, size_t n)
{
	const char	*end = s + n;
	char		*d = dst;

	for (; s < end; s++) {
		switch (*s) {
		case '\t': *d++ = '\\'; *d++ = 't'; break;
		case '\n': *d++ = '\\'; *d++ = 'n'; break;
		case '\r': *d++ = '\\'; *d++ = 'r'; break;
		case '\\': *d++ = '\\'; *d++ = '\\'; break;
		default: *d++ = *s; break;
		}
	}
	return (size_t)(d - dst);
}

/* Appends a TSV field: tab, line breaks and backslash escaped. */
static void
tsv_field(struct buf *b, const char *s, size_t n)
{
	if (n > SIZE_MAX / 2 - 1) {
		b->oom = 1;
		return;
	}
	if (buf_reserve(b, 2 * n) != 0)
		return;
	b->len += tsv_encode(b->data + b->len, s, n);
	b->data[b->len] = '\0';
}

static void
put_field(struct writer *w, const char *s, size_t n)
{
	switch (w->fmt) {
	case FMT_CSV:
		csv_put_field(&w->out, s, n, ',');
		break;
	case FMT_TSV:
		tsv_field(&w->out, s, n);
		break;
	case FMT_JSON:
		json_escape(&w->out, s, n);
		break;
	case FMT_XML:
		xml_escape(&w->out, s, n);
		break;
	default:
		break;
	}
}

/* Starts a file and writes its header. */
int
writer_begin(struct writer *w, enum fmt f, int fd, char *const *columns,
    size_t n, unsigned flags)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	w->fmt = f;
	w->fd = fd;
	w->formula_guard = (flags & WRITER_GUARD) != 0;
	w->typed = (flags & WRITER_TYPED) != 0;
	w->ncolumns = n;
	w->columns = (char **)columns;
	if (f == FMT_XML) {
		if ((w->tags = calloc(n ? n : 1, sizeof(char *))) == NULL)
			goto nomem;
		for (i = 0; i < n; i++)
			if ((w->tags[i] = xml_tag(columns[i])) == NULL)
				goto nomem;
		buf_adds(&w->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		    "\n");
		buf_adds(&w->out, w->typed ? "<rows xmlns:xsi=\"" XSI_NS
		    "\">\n" : "<rows>\n");
	} else if (f == FMT_JSON)
		buf_addc(&w->out, '[');
	else {
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(&w->out, f == FMT_TSV ? '\t' : ',');
			put_field(w, columns[i], strlen(columns[i]));
		}
		buf_adds(&w->out, f == FMT_TSV ? "\n" : "\r\n");
	}
	return 0;
nomem:
	w->failed = ENOMEM;
	return -1;
}

/* True if s (n bytes) is a JSON number as it stands. */
static int
json_number(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			continue;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			continue;
		if (i == d)
			return 0;
	}
	return i == n;
}

/*
 * A typed JSON value: a number as is, a boolean's text as true or false,
 * NULL as null; anything else (a NaN, an odd boolean) as a string.
 */
static void
json_typed(struct buf *b, const char *s, size_t n, enum vtype t)
{
	if (s == NULL) {
		buf_adds(b, "null");
		return;
	}
	if (t == VT_NUMBER && json_number(s, n)) {
		buf_add(b, s, n);
		return;
	}
	if (t == VT_BOOL) {
		if ((n == 1 && (s[0] == 't' || s[0] == '1')) ||
		    (n == 4 && memcmp(s, "true", 4) == 0)) {
			buf_adds(b, "true");
			return;
		}
		if ((n == 1 && (s[0] == 'f' || s[0] == '0')) ||
		    (n == 5 && memcmp(s, "false", 5) == 0)) {
			buf_adds(b, "false");
			return;
		}
	}
	json_escape(b, s, n);
}

/*
 * A CSV or TSV row without the formula guard, the common case: room for
 * the row's longest possible encoding is reserved once, then each field
 * is encoded straight into the output buffer.
 */
static int
row_delimited(struct writer *w, const char *const *fields,
    const size_t *lens)
{
	size_t	 i, need = 2;
	char	*d;

	for (i = 0; i < w->ncolumns; i++) {
		if (lens[i] > SIZE_MAX / 4 - need) {
			w->failed = ENOMEM;
			return -1;
		}
		need += 2 * lens[i] + 3;
	}
	if (buf_reserve(&w->out, need) != 0) {
		w->failed = ENOMEM;
		return -1;
	}
	d = w->out.data + w->out.len;
	for (i = 0; i < w->ncolumns; i++) {
		if (i > 0)
			*d++ = w->fmt == FMT_CSV ? ',' : '\t';
		if (fields[i] == NULL)
			continue;	/* NULL: an empty field */
		if (w->fmt == FMT_CSV)
			d += csv_encode_field(d, fields[i], lens[i], ',');
		else
			d += tsv_encode(d, fields[i], lens[i]);
	}
	if (w->fmt == FMT_CSV)
		*d++ = '\r';
	*d++ = '\n';
	*d = '\0';
	w->out.len = (size_t)(d - w->out.data);
	w->rows++;
	if (w->out.len >= WRITER_BUF)
		return flush(w);
	return 0;
}

/* Writes one row of ncolumns fields. */
int
writer_row(struct writer *w, const char *const *fields, const size_t *lens)
{
	size_t		 i, n;
	const char	*s;

	if (w->failed)
		return -1;
	if ((w->fmt == FMT_CSV || w->fmt == FMT_TSV) && !w->formula_guard)
		return row_delimited(w, fields, lens);
	if (w->fmt == FMT_JSON)
		buf_adds(&w->out, w->rows ? ",\n{" : "\n{");
	else if (w->fmt == FMT_XML)
		buf_adds(&w->out, "<row>");
	for (i = 0; i < w->ncolumns; i++) {
		s = fields[i];
		n = s != NULL ? lens[i] : 0;
		if (w->fmt == FMT_JSON) {
			if (i > 0)
				buf_addc(&w->out, ',');
			json_escape(&w->out, w->columns[i],
			    strlen(w->columns[i]));
			buf_addc(&w->out, ':');
			if (s == NULL || (w->types != NULL &&
			    w->types[i] != VT_TEXT)) {
				json_typed(&w->out, s, n, w->types != NULL ?
				    w->types[i] : VT_TEXT);
				continue;
			}
		} else if (w->fmt == FMT_XML) {
			if (s == NULL) {
				buf_printf(&w->out, w->typed ?
				    "<%s xsi:nil=\"true\"/>" : "<%s/>",
				    w->tags[i]);
				continue;
			}
			buf_printf(&w->out, "<%s>", w->tags[i]);
		} else if (i > 0)
			buf_addc(&w->out, w->fmt == FMT_TSV ? '\t' : ',');
		if (s == NULL)
			continue;	/* csv, tsv: an empty field */
		if (w->formula_guard && n > 0 && (s[0] == '=' || s[0] == '+' ||
		    s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
		    s[0] == '\r')) {
			struct buf g = BUF_INIT;
			buf_addc(&g, '\'');
			buf_add(&g, s, n);
			put_field(w, buf_str(&g), g.len);
			buf_free(&g);
		} else
			put_field(w, s, n);
		if (w->fmt == FMT_XML)
			buf_printf(&w->out, "</%s>", w->tags[i]);
	}
	if (w->fmt == FMT_JSON)
		buf_addc(&w->out, '}');
	else if (w->fmt == FMT_XML)
		buf_adds(&w->out, "</row>\n");
	else
		buf_adds(&w->out, w->fmt == FMT_TSV ? "\n" : "\r\n");
	w->rows++;
	if (w->out.len >= WRITER_BUF || w->out.oom)
		return flush(w);
	return 0;
}

/* Writes the trailer and flushes. */
int
writer_end(struct writer *w)
{
	if (w->failed)
		return -1;
	if (w->fmt == FMT_JSON)
		buf_adds(&w->out, w->rows ? "\n]\n" : "]\n");
	else if (w->fmt == FMT_XML)
		buf_adds(&w->out, "</rows>\n");
	return flush(w);
}

void
writer_free(struct writer *w)
{
	size_t i;

	if (w->tags != NULL)
		for (i = 0; i < w->ncolumns; i++)
			free(w->tags[i]);
	free(w->tags);
	w->tags = NULL;
	buf_free(&w->out);
}
