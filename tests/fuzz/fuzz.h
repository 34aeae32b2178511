/*
 * What every fuzz target shares (header only: each target is one .c
 * file built with clang -fsanitize=fuzzer,address,undefined).  A target
 * calls one of Quarry's parsers directly with the fuzzer's bytes; any
 * crash, sanitizer report or leak is a finding.
 */
#ifndef QUARRY_FUZZ_H
#define QUARRY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (a NUL inside ends it). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * The next line of *p (moved past it) as a CGI variable "NAME=line",
 * freed by the caller: the targets that build a request from lines.
 */
static inline char *
fuzz_env_line(char **p, const char *name)
{
	char	*s = *p, *e = strchr(s, '\n'), *out;
	size_t	 n = e ? (size_t)(e - s) : strlen(s);

	*p = e ? e + 1 : s + n;
	out = malloc(strlen(name) + n + 2);
	if (out == NULL)
		abort();
	sprintf(out, "%s=%.*s", name, (int)n, s);
	return out;
}

#endif
