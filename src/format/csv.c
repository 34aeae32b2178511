/*
 * RFC 4180 reader and field writer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quarry/csv.h"
#include "quarry/util.h"

enum { S_START, S_UNQUOTED, S_QUOTED, S_QUOTE_IN_QUOTED, S_CR };

void
csv_reader_init(struct csv_reader *r, char sep, csv_record_cb cb, void *arg)
{
	memset(r, 0, sizeof(*r));
	r->sep = sep;
	r->cb = cb;
	r->arg = arg;
	r->line = 1;
	r->rec_line = 1;
	r->state = S_START;
}

void
csv_reader_free(struct csv_reader *r)
{
	buf_free(&r->field);
	buf_free(&r->rec);
	free(r->offs);
	free(r->lens);
	r->offs = r->lens = NULL;
}

static int
fail(struct csv_reader *r, const char *why)
{
	snprintf(r->err, sizeof(r->err), "line %lu: %s", r->rec_line, why);
	r->failed = 1;
	return -1;
}

static int
end_field(struct csv_reader *r)
{
	if (r->nfields >= CSV_FIELDS_MAX)
		return fail(r, "too many fields");
	if (r->offs == NULL) {
		r->offs = calloc(CSV_FIELDS_MAX, sizeof(size_t));
		r->lens = calloc(CSV_FIELDS_MAX, sizeof(size_t));
		if (r->offs == NULL || r->lens == NULL)
			return fail(r, "out of memory");
	}
	r->offs[r->nfields] = r->rec.len;
	r->lens[r->nfields] = r->field.len;
	buf_add(&r->rec, buf_str(&r->field), r->field.len);
	buf_addc(&r->rec, '\0');
	if (r->rec.oom)
		return fail(r, "out of memory");
	r->nfields++;
	buf_reset(&r->field);
	return 0;
}

static int
end_record(struct csv_reader *r)
{
	char	*fields[CSV_FIELDS_MAX];
	size_t	 i;
	int	 rc;

	if (end_field(r) != 0)
		return -1;
	for (i = 0; i < r->nfields; i++)
		fields[i] = r->rec.data + r->offs[i];
	rc = r->cb(fields, r->lens, r->nfields, r->rec_line, r->arg);
	r->nfields = 0;
	buf_reset(&r->rec);
	r->rec_line = r->line;
	return rc;
}

/*
 * After a field: a separator ends the field, a line end the record.
 * Returns 1 if c was one of them, with *rc what ending the field or the
 * record returned (non-zero: stop); 0 if c is neither.
 */
static int
field_ends(struct csv_reader *r, char c, int *rc)
{
	*rc = 0;
	if (c == r->sep) {
		if (end_field(r) != 0)
			*rc = -1;
		r->state = S_START;
		return 1;
	}
	if (c != '\n' && c != '\r')
		return 0;
	r->line++;
	if ((*rc = end_record(r)) == 0)
		r->state = c == '\r' ? S_CR : S_START;
	return 1;
}

/* Checks UTF-8 (RFC 3629) byte by byte; 0 if still valid. */
static int
utf8_step(struct csv_reader *r, unsigned char c)
{
	if (r->utf8_need == 0) {
		if (c < 0x80)
			return 0;
		if (c >= 0xc2 && c <= 0xdf) {
			r->utf8_need = 1;
			r->utf8_cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			r->utf8_need = 2;
			r->utf8_cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			r->utf8_need = 3;
			r->utf8_cp = c & 0x07;
		} else
			return -1;
		r->utf8_len = r->utf8_need + 1;
		return 0;
	}
	if ((c & 0xc0) != 0x80)
		return -1;
	r->utf8_cp = (r->utf8_cp << 6) | (c & 0x3f);
	if (--r->utf8_need == 0) {
		if ((r->utf8_len == 3 && r->utf8_cp < 0x800) ||
		    (r->utf8_len == 4 && r->utf8_cp < 0x10000) ||
		    !utf8_text_cp(r->utf8_cp))
			return -1;
	}
	return 0;
}

static int
add_char(struct csv_reader *r, char c)
{
	if (r->field.len >= CSV_FIELD_MAX)
		return fail(r, "field too long");
	buf_addc(&r->field, c);
	return r->field.oom ? fail(r, "out of memory") : 0;
}

/* Feeds n bytes (see csv.h). */
int
csv_feed(struct csv_reader *r, const char *p, size_t n)
{
	size_t	i;
	int	rc;
	char	c;

	if (r->failed)
		return -1;
	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '\0')
			return fail(r, "NUL byte");
		if (utf8_step(r, (unsigned char)c) != 0)
			return fail(r, "invalid UTF-8");
		switch (r->state) {
		case S_CR:
			r->state = S_START;
			if (c == '\n')
				continue;
			/* a bare CR ended the record; treat c afresh */
			__attribute__((fallthrough));
		case S_START:
		case S_UNQUOTED:
			if (field_ends(r, c, &rc)) {
				if (rc != 0)
					return rc;
			} else if (c == '"') {
				if (r->state == S_UNQUOTED)
					return fail(r, "quote inside an "
					    "unquoted field");
				r->state = S_QUOTED;
			} else {
				if (add_char(r, c) != 0)
					return -1;
				r->state = S_UNQUOTED;
			}
			break;
		case S_QUOTED:
			if (c == '"')
				r->state = S_QUOTE_IN_QUOTED;
			else {
				if (c == '\n')
					r->line++;
				if (add_char(r, c) != 0)
					return -1;
			}
			break;
		case S_QUOTE_IN_QUOTED:
			if (c == '"') {
				if (add_char(r, '"') != 0)
					return -1;
				r->state = S_QUOTED;
			} else if (field_ends(r, c, &rc)) {
				if (rc != 0)
					return rc;
			} else
				return fail(r, "text after a closing quote");
			break;
		}
	}
	return 0;
}

/* Ends the input (see csv.h). */
int
csv_finish(struct csv_reader *r)
{
	if (r->failed)
		return -1;
	if (r->utf8_need != 0)
		return fail(r, "invalid UTF-8 at end of input");
	if (r->state == S_QUOTED)
		return fail(r, "unterminated quoted field");
	if (r->state == S_UNQUOTED || r->state == S_QUOTE_IN_QUOTED ||
	    (r->state == S_START && r->nfields > 0))
		return end_record(r);
	return 0;
}

/* Reads all of a stream. */
int
csv_read_stream(struct csv_reader *r, FILE *in)
{
	char	chunk[65536];
	size_t	n;
	int	rc;

	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if ((rc = csv_feed(r, chunk, n)) != 0)
			return rc;
	if (ferror(in)) {
		snprintf(r->err, sizeof(r->err), "read error");
		r->failed = 1;
		return -1;
	}
	return csv_finish(r);
}

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Non-zero if one of the 8 bytes of x is zero. */
static inline uint64_t
zero_byte(uint64_t x)
{
	return (x - ONES) & ~x & HIGHS;
}

/* The bytes that make a comma-separated field quoted. */
static const unsigned char comma_special[256] = {
	['\n'] = 1, ['\r'] = 1, ['"'] = 1, [','] = 1
};

/* Writes one field at dst, quoted when RFC 4180 section 2 requires it. */
size_t
csv_encode_field(char *dst, const char *p, size_t n, char sep)
{
	const char	*end = p + n, *q = p;
	const uint64_t	 s8 = ONES * (unsigned char)sep, q8 = ONES * '"',
			 n8 = ONES * '\n', r8 = ONES * '\r';
	uint64_t	 x;
	unsigned	 any = 0;
	char		*d = dst;
	unsigned char	 c;

	/* Eight bytes at a time while no byte needs quoting... */
	for (; end - q >= 8; q += 8) {
		memcpy(&x, q, 8);
		if (zero_byte(x ^ s8) | zero_byte(x ^ q8) |
		    zero_byte(x ^ n8) | zero_byte(x ^ r8))
			break;
	}
	/* ...then the rest, without a branch a byte for commas. */
	if (sep == ',') {
		for (; q < end; q++)
			any |= comma_special[(unsigned char)*q];
	} else
		for (; q < end && !any; q++) {
			c = (unsigned char)*q;
			any = c == (unsigned char)sep || c == '"' ||
			    c == '\n' || c == '\r';
		}
	if (!any) {
		memcpy(dst, p, n);
		return n;
	}
	*d++ = '"';
	for (q = p; q < end; q++) {
		if (*q == '"')
			*d++ = '"';
		*d++ = *q;
	}
	*d++ = '"';
	return (size_t)(d - dst);
}

/* Appends one field, quoted when RFC 4180 section 2 requires it. */
void
csv_put_field(struct buf *out, const char *p, size_t n, char sep)
{
	if (n > (SIZE_MAX - 2) / 2) {
		out->oom = 1;
		return;
	}
	if (buf_reserve(out, 2 * n + 2) != 0)
		return;
	out->len += csv_encode_field(out->data + out->len, p, n, sep);
	out->data[out->len] = '\0';
}
