/*
 * trusted_proxies (docs/configuration.md, docs/http.md): the reverse
 * proxies whose X-Forwarded-Proto and X-Forwarded-Host a web program
 * believes.  A list of IPv4 and IPv6 addresses and CIDR ranges, parsed
 * strictly (a typo must not widen the list or silently trust nobody), and
 * a match of a request's REMOTE_ADDR against it.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "quarry/config.h"

/* The IPv4-mapped IPv6 prefix ::ffff:0:0/96. */
static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * Parses an address (no prefix) into a: IPv6 if it holds a ':', else
 * dotted-quad IPv4 (inet_pton: four decimal parts, no leading zeros).  An
 * IPv4-mapped IPv6 address becomes its IPv4 address, its prefix shortened
 * by 96 when prefix is not NULL (-1 if that leaves less than nothing).
 */
static int
addr_parse(const char *s, struct net_range *a, unsigned *prefix)
{
	unsigned char b[16];

	memset(a, 0, sizeof(*a));
	if (strchr(s, ':') == NULL) {
		if (inet_pton(AF_INET, s, b) != 1)
			return -1;
		memcpy(a->addr, b, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) != 1)
		return -1;
	if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0 &&
	    (prefix == NULL || *prefix >= 96)) {
		memcpy(a->addr, b + 12, 4);
		if (prefix != NULL)
			*prefix -= 96;
		return 0;
	}
	memcpy(a->addr, b, 16);
	a->v6 = 1;
	return 0;
}

/* True if the first prefix bits of a and b are equal. */
static int
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
	unsigned	n = prefix / 8, rest = prefix % 8;
	unsigned char	mask;

	if (memcmp(a, b, n) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[n] & mask) == (b[n] & mask);
}

/* Zeroes every bit of a past prefix. */
static void
clear_host(unsigned char *a, unsigned prefix, unsigned bits)
{
	unsigned i;

	for (i = prefix; i < bits; i++)
		a[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
}

/*
 * One entry, "ADDRESS" or "ADDRESS/PREFIX", into *out; -1 with why in
 * why[whylen] if it is not one.
 */
static int
entry_parse(const char *e, struct net_range *out, char *why, size_t whylen)
{
	char		 a[INET6_ADDRSTRLEN + 8], shown[INET6_ADDRSTRLEN];
	const char	*slash, *p;
	unsigned	 prefix, bits;
	unsigned char	 net[16];
	size_t		 n = strlen(e);
	int		 has_prefix = 0;

	if (n >= sizeof(a)) {
		snprintf(why, whylen, "'%.60s...' is not an IPv4 or IPv6 "
		    "address or range", e);
		return -1;
	}
	slash = strchr(e, '/');
	n = slash ? (size_t)(slash - e) : n;
	memcpy(a, e, n);
	a[n] = '\0';
	prefix = 0;
	if (slash != NULL) {
		p = slash + 1;
		/* 1 to 3 digits, no sign, no leading zero */
		if (*p == '\0' || strspn(p, "0123456789") != strlen(p) ||
		    strlen(p) > 3 || (p[0] == '0' && p[1] != '\0')) {
			snprintf(why, whylen, "'%s': the prefix length after "
			    "'/' must be a number", e);
			return -1;
		}
		for (; *p != '\0'; p++)
			prefix = prefix * 10 + (unsigned)(*p - '0');
		has_prefix = 1;
	}
	if (addr_parse(a, out, has_prefix ? &prefix : NULL) != 0) {
		snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address "
		    "or range", e);
		return -1;
	}
	bits = out->v6 ? 128 : 32;
	if (!has_prefix)
		prefix = bits;
	if (prefix > bits) {
		snprintf(why, whylen, "'%s': an %s prefix is 0 to %u bits", e,
		    out->v6 ? "IPv6" : "IPv4", bits);
		return -1;
	}
	memcpy(net, out->addr, sizeof(net));
	clear_host(net, prefix, bits);
	if (memcmp(net, out->addr, sizeof(net)) != 0) {
		inet_ntop(out->v6 ? AF_INET6 : AF_INET, net, shown,
		    sizeof(shown));
		snprintf(why, whylen, "'%s' has bits set past its prefix "
		    "(the network is %s/%u)", e, shown, prefix);
		return -1;
	}
	out->prefix = prefix;
	return 0;
}

/* Parses a trusted_proxies value into c (see config.h). */
enum qerr
conf_set_proxies(struct conf *c, const char *v, char *why, size_t whylen)
{
	struct net_range	 list[CONF_PROXIES_MAX];
	char			 e[INET6_ADDRSTRLEN + 8 + 1], dummy[8];
	size_t			 n = 0, len;
	const char		*p = v;

	if (why == NULL || whylen == 0) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t\r\n\v\f");
		if (n == CONF_PROXIES_MAX) {
			snprintf(why, whylen, "more than %d entries",
			    CONF_PROXIES_MAX);
			return Q_INVALID;
		}
		/* one too long is kept long enough to be refused as such */
		snprintf(e, sizeof(e), "%.*s", (int)len, p);
		if (entry_parse(e, &list[n], why, whylen) != 0)
			return Q_INVALID;
		n++;
		p += len;
	}
	memcpy(c->trusted_proxies, list, n * sizeof(list[0]));
	c->ntrusted_proxies = n;
	return Q_OK;
}

/* True if addr lies in trusted_proxies (see config.h). */
int
conf_proxy_trusted(const struct conf *c, const char *addr)
{
	struct net_range	a;
	size_t			i;

	if (c->ntrusted_proxies == 0 || addr == NULL ||
	    strlen(addr) >= INET6_ADDRSTRLEN || addr_parse(addr, &a, NULL) != 0)
		return 0;
	for (i = 0; i < c->ntrusted_proxies; i++)
		if (c->trusted_proxies[i].v6 == a.v6 &&
		    prefix_equal(c->trusted_proxies[i].addr, a.addr,
		    c->trusted_proxies[i].prefix))
			return 1;
	return 0;
}
