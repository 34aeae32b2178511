/*
 * Strict JSON input: one json-c entry point with a depth limit, that
 * refuses trailing bytes and NUL bytes.
 */
#ifndef QUARRY_JSONUTIL_H
#define QUARRY_JSONUTIL_H

#include <stddef.h>

#include <json-c/json.h>

#include "quarry/error.h"

#define JSON_MAX_DEPTH 16

/* Parses exactly one JSON value from p[0..n); Q_INVALID with err. */
enum qerr json_parse_strict(const char *p, size_t n, struct json_object **out,
	      char *err, size_t errlen);
/*
 * The same; where (if not NULL) gets the member a lexical fault is in,
 * as dotted keys ("parameters.currency"), or "" when it is not known.
 */
enum qerr json_parse_strict_at(const char *p, size_t n,
	      struct json_object **out, char *err, size_t errlen, char *where,
	      size_t wherelen);

#endif
