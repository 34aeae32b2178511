/*
 * The output formats' facts shared by the writers and the dialects:
 * content types, file extensions, and the XML and JSON string escapes.
 */
#include "quarry/format.h"

const char *
fmt_content_type(enum fmt f)
{
	switch (f) {
	case FMT_TSV:	return "text/tab-separated-values; charset=utf-8";
	case FMT_JSON:	return "application/json";
	case FMT_XML:	return "application/xml";
	default:	return "text/csv; charset=utf-8";
	}
}

const char *
fmt_extension(enum fmt f)
{
	return fmt_name(f);
}

/* Appends s with XML's special characters escaped (XML 1.0 section 2.4). */
void
xml_escape(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case '\r': rep = "&#13;"; break;
		case '\t':
		case '\n': continue;
		default:
			/* XML 1.0 cannot hold other controls: U+FFFD. */
			if ((unsigned char)s[i] >= 0x20)
				continue;
			rep = "\xef\xbf\xbd";
			break;
		}
		buf_add(b, s + start, i - start);
		buf_adds(b, rep);
		start = i + 1;
	}
	buf_add(b, s + start, n - start);
}

/* Appends s as a JSON string (RFC 8259 section 7). */
void
json_escape(struct buf *b, const char *s, size_t n)
{
	size_t		i, start = 0;
	unsigned char	c;

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + start, i - start);
		switch (c) {
		case '"': buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		default: buf_printf(b, "\\u%04x", c); break;
		}
		start = i + 1;
	}
	buf_add(b, s + start, n - start);
	buf_addc(b, '"');
}
