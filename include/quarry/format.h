/*
 * The output formats' facts that the export writers and the dialects
 * share: content types, file extensions, and string escapes.  The
 * writers themselves are a stage of the export pipeline (quarry/export.h).
 */
#ifndef QUARRY_FORMAT_H
#define QUARRY_FORMAT_H

#include <stddef.h>

#include "quarry/buf.h"
#include "quarry/model.h"

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
