/*
 * Small helpers shared by every program: time formatting (RFC 3339),
 * durations, random IDs, names and SHA-256.
 */
#ifndef QUARRY_UTIL_H
#define QUARRY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "quarry/error.h"

/* RFC 3339 UTC with a Z: "2026-11-22T09:15:02Z" (20 chars + NUL). */
#define RFC3339_LEN 21
void	 time_rfc3339(time_t t, char out[RFC3339_LEN]);
/* Parses "YYYY-MM-DDTHH:MM:SSZ" (or with a numeric offset); 0 on success. */
int	 time_parse_rfc3339(const char *s, time_t *out);
/* Milliseconds on the monotonic clock, for durations and timers. */
long long mono_ms(void);
/* Parses a duration "90s", "15m", "12h", "7d", "2w" or plain seconds. */
int	 duration_parse(const char *s, long long *seconds);

/*
 * IDs: 128 random bits from getrandom(2), base64url without padding,
 * always ID_LEN characters.
 */
#define ID_LEN 22
enum qerr id_new(char out[ID_LEN + 1]);
/* True if s is exactly a well-formed ID (length and alphabet). */
int	 id_valid(const char *s);
/* Fills n bytes with random bits from the kernel. */
enum qerr random_bytes(void *p, size_t n);

/*
 * Checks that s[0..n) is text Quarry takes in: strict UTF-8 (RFC 3629:
 * no overlong form, no surrogate, nothing past U+10FFFF), without NUL
 * and without noncharacters (U+FDD0 to U+FDEF, U+xxFFFE, U+xxFFFF).
 * Returns n when it is, else the offset of the first byte that is not.
 */
size_t	 utf8_check(const char *s, size_t n);
/* The length of the character of such text at s[0..n), or 0 if none. */
size_t	 utf8_char(const char *s, size_t n);
/* True if code point cp may stand in such text. */
int	 utf8_text_cp(uint32_t cp);

/* Tenant and dataset names: 1-32 of [a-z0-9_-], starting alphanumeric. */
int	 name_valid(const char *s);

/* SHA-256 (FIPS 180-4). */
struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t	 blk[64];
	size_t	 n;
};
void	 sha256_init(struct sha256 *c);
void	 sha256_update(struct sha256 *c, const void *p, size_t n);
void	 sha256_final(struct sha256 *c, uint8_t out[32]);
/* Hex digest of a string, 64 chars + NUL. */
void	 sha256_hex(const void *p, size_t n, char out[65]);

/* Constant-time comparison of n bytes; 0 when equal. */
int	 ct_memcmp(const void *a, const void *b, size_t n);

#endif
