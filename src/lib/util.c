#include <sys/random.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quarry/util.h"

/* Milliseconds on the monotonic clock (see util.h). */
long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True if code point cp may stand in text (see util.h). */
int
utf8_text_cp(uint32_t cp)
{
	return cp != 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) &&
	    !(cp >= 0xfdd0 && cp <= 0xfdef) && (cp & 0xfffe) != 0xfffe;
}

/* The length of the character of text at s (see util.h). */
size_t
utf8_char(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len, k;
	uint32_t		 cp, min;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return p[0] != 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	return cp >= min && utf8_text_cp(cp) ? len : 0;
}

/*
 * Checks text for strict UTF-8 without noncharacters (see util.h).  Runs
 * of ASCII go eight bytes at a time (no high bit, no NUL in the word):
 * the check is on every value of every export.
 */
size_t
utf8_check(const char *s, size_t n)
{
	const uint64_t	hi = 0x8080808080808080ULL;
	const uint64_t	lo = 0x0101010101010101ULL;
	uint64_t	w;
	size_t		i = 0, k;

	while (i < n) {
		while (n - i >= 8) {
			memcpy(&w, s + i, 8);
			if ((w & hi) != 0 || ((w - lo) & ~w & hi) != 0)
				break;
			i += 8;
		}
		while (i < n && (unsigned char)s[i] - 1U < 0x7fU)
			i++;		/* ASCII but NUL, a byte at a time */
		if (i == n || (unsigned char)s[i] < 0x80)
			break;		/* the end, or a NUL */
		if ((k = utf8_char(s + i, n - i)) == 0)
			break;
		i += k;
	}
	return i;
}

/* RFC 3339 section 5.6, UTC with a Z. */
void
time_rfc3339(time_t t, char out[RFC3339_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(out, "1970-01-01T00:00:00Z");
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	*out = v;
	return 0;
}

/* Parses an RFC 3339 date-time (section 5.6); 0 on success. */
int
time_parse_rfc3339(const char *s, time_t *out)
{
	struct tm	 tm;
	int		 y, mo, d, h, mi, se, oh, om, sign;
	const char	*p;
	static const int mdays[] = {31,29,31,30,31,30,31,31,30,31,30,31};

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	oh = om = 0;
	sign = 1;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
	    !digits(p + 1, 2, &oh) && p[3] == ':' && !digits(p + 4, 2, &om) &&
	    oh < 24 && om < 60)
		sign = *p == '-' ? -1 : 1;
	else
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm) - sign * (oh * 3600 + om * 60);
	return 0;
}

/* Parses "90s", "15m", "12h", "7d", "2w" or plain seconds; 0 on success. */
int
duration_parse(const char *s, long long *seconds)
{
	char		*end;
	long long	 v, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	switch (*end) {
	case '\0': mult = 1; break;
	case 's': mult = 1; end++; break;
	case 'm': mult = 60; end++; break;
	case 'h': mult = 3600; end++; break;
	case 'd': mult = 86400; end++; break;
	case 'w': mult = 7 * 86400; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > (long long)100 * 366 * 86400 / mult)
		return -1;
	*seconds = v * mult;
	return 0;
}

/* Fills n bytes with random bits from the kernel. */
enum qerr
random_bytes(void *p, size_t n)
{
	unsigned char	*q = p;
	ssize_t		 r;

	while (n > 0) {
		r = getrandom(q, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return Q_IO;
		}
		q += r;
		n -= (size_t)r;
	}
	return Q_OK;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* A new ID of 128 random bits, base64url (RFC 4648 section 5). */
enum qerr
id_new(char out[ID_LEN + 1])
{
	unsigned char	 r[17];
	unsigned	 bits = 0, nbits = 0;
	size_t		 i, j = 0;
	enum qerr	 e;

	if ((e = random_bytes(r, 16)) != Q_OK)
		return e;
	r[16] = 0;
	for (i = 0; i < 17 && j < ID_LEN; i++) {
		bits = (bits << 8) | r[i];
		nbits += 8;
		while (nbits >= 6 && j < ID_LEN) {
			out[j++] = b64url[(bits >> (nbits - 6)) & 63];
			nbits -= 6;
		}
	}
	out[ID_LEN] = '\0';
	return Q_OK;
}

/* True if s is exactly a well-formed ID. */
int
id_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < ID_LEN; i++)
		if (s[i] == '\0' || strchr(b64url, s[i]) == NULL)
			return 0;
	return s[ID_LEN] == '\0';
}

/* Tenant and dataset names: 1-32 of [a-z0-9_-], starting alphanumeric. */
int
name_valid(const char *s)
{
	size_t i;

	if (s == NULL || !(islower((unsigned char)s[0]) ||
	    isdigit((unsigned char)s[0])))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 32)
			return 0;
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return 1;
}

/* Constant-time comparison of n bytes; 0 when equal. */
int
ct_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char	*x = a, *y = b;
	unsigned char		 d = 0;

	while (n-- > 0)
		d |= *x++ ^ *y++;
	return d;
}
