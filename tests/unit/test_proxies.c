/*
 * Unit tests of trusted_proxies and the base of absolute URLs
 * (docs/http.md, "Absolute URLs"): the list's strict parser and its
 * error messages, address matching at CIDR boundaries in IPv4 and IPv6,
 * X-Forwarded-Proto and X-Forwarded-Host honoured only from a trusted
 * REMOTE_ADDR and only when well formed, and every absolute URL of every
 * dialect's answers (headers and bodies) built on that base, so that
 * behind TLS all of them are https.
 */
#include "testutil.h"

#include <ctype.h>

#include "api/api.h"
#include "http/http.h"
#include "quarry/model.h"

#include "memio.h"

/* ---- the list ---- */

/* Parses v as a fresh configuration's trusted_proxies. */
static enum qerr
parse(struct conf *c, const char *v, char *why, size_t len)
{
	conf_defaults(c);
	why[0] = '\0';
	return conf_set_proxies(c, v, why, len);
}

static void
test_list_parses(void **state)
{
	struct conf	c;
	char		why[256];

	(void)state;
	assert_int_equal(parse(&c, "", why, sizeof(why)), Q_OK);
	assert_int_equal(c.ntrusted_proxies, 0);
	assert_int_equal(parse(&c, "  \t ", why, sizeof(why)), Q_OK);
	assert_int_equal(c.ntrusted_proxies, 0);
	assert_int_equal(parse(&c, "127.0.0.1 ::1 10.0.0.0/8", why,
	    sizeof(why)), Q_OK);
	assert_int_equal(c.ntrusted_proxies, 3);
	assert_int_equal(c.trusted_proxies[0].v6, 0);
	assert_int_equal(c.trusted_proxies[0].prefix, 32);
	assert_int_equal(c.trusted_proxies[1].v6, 1);
	assert_int_equal(c.trusted_proxies[1].prefix, 128);
	assert_int_equal(c.trusted_proxies[2].prefix, 8);
	/* commas, with or without spaces, and every kind of blank */
	assert_int_equal(parse(&c, "192.168.0.0/16,172.16.0.0/12 , "
	    "2001:db8::/32,\tfe80::/10", why, sizeof(why)), Q_OK);
	assert_int_equal(c.ntrusted_proxies, 4);
	assert_int_equal(parse(&c, "0.0.0.0/0 ::/0", why, sizeof(why)), Q_OK);
	assert_int_equal(c.ntrusted_proxies, 2);
	/* an IPv4-mapped IPv6 entry is its IPv4 network */
	assert_int_equal(parse(&c, "::ffff:10.1.0.0/112", why, sizeof(why)),
	    Q_OK);
	assert_int_equal(c.trusted_proxies[0].v6, 0);
	assert_int_equal(c.trusted_proxies[0].prefix, 16);
	/* through conf_set too */
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "trusted_proxies", "127.0.0.1"), Q_OK);
	assert_int_equal(c.ntrusted_proxies, 1);
	assert_int_equal(conf_set(&c, "trusted_proxies", "127.0.0.1/33"),
	    Q_INVALID);
	assert_int_equal(c.ntrusted_proxies, 1);	/* unchanged */
	assert_int_equal(conf_set(&c, "trusted_proxies", ""), Q_OK);
	assert_int_equal(c.ntrusted_proxies, 0);
}

static void
test_list_refuses_bad_entries(void **state)
{
	static const struct { const char *v, *why; } bad[] = {
		{ "localhost", "'localhost' is not an IPv4 or IPv6" },
		{ "10.0.0.0/33", "'10.0.0.0/33': an IPv4 prefix is 0 to 32" },
		{ "::1/129", "'::1/129': an IPv6 prefix is 0 to 128" },
		{ "10.0.0.1/8", "'10.0.0.1/8' has bits set past its prefix "
		    "(the network is 10.0.0.0/8)" },
		{ "2001:db8::1/32", "(the network is 2001:db8::/32)" },
		{ "10.0.0.0/", "'10.0.0.0/': the prefix length" },
		{ "10.0.0.0/08", "'10.0.0.0/08': the prefix length" },
		{ "10.0.0.0/+8", "the prefix length" },
		{ "10.0.0.0/-1", "the prefix length" },
		{ "10.0.0.0/8/8", "the prefix length" },
		{ "/8", "'/8' is not" },
		{ "300.1.1.1", "'300.1.1.1' is not" },
		{ "1.2.3", "'1.2.3' is not" },
		{ "01.2.3.4", "'01.2.3.4' is not" },
		{ "1.2.3.4.5", "is not" },
		{ "fe80::1%eth0", "'fe80::1%eth0' is not" },
		{ "[::1]", "'[::1]' is not" },
		{ "::1::2", "is not" },
		{ "127.0.0.1 ; 10.0.0.1", "';' is not" },
		{ "127.0.0.1 10.0.0.0/8x", "'10.0.0.0/8x'" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa",
		    "is not an IPv4 or IPv6" },
	};
	struct conf	c;
	char		why[256], many[64 * 12 + 16];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&c, bad[i].v, why, sizeof(why)),
		    Q_INVALID);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].v, why,
			    bad[i].why);
		assert_int_equal(c.ntrusted_proxies, 0);
	}
	/* 64 entries, and not one more */
	many[0] = '\0';
	for (i = 0; i < CONF_PROXIES_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "10.0.%zu.1 ", i);
	assert_int_equal(parse(&c, many, why, sizeof(why)), Q_OK);
	assert_int_equal(c.ntrusted_proxies, CONF_PROXIES_MAX);
	strcat(many, "10.1.0.1");
	assert_int_equal(parse(&c, many, why, sizeof(why)), Q_INVALID);
	assert_non_null(strstr(why, "more than 64 entries"));
}

/* A bad entry in quarry.conf is an error naming FILE:LINE and itself. */
static void
test_conf_file_error(void **state)
{
	static const char text[] = "max_body = 4096\n"
	    "trusted_proxies = 127.0.0.1 10.0.0.0/8\n"
	    "trusted_proxies = ::1, 10.0.0.256\n";
	struct conf	 c;
	FILE		*f;
	char		 err[512];

	(void)state;
	conf_defaults(&c);
	assert_non_null(f = fmemopen((void *)text, strlen(text), "r"));
	assert_int_equal(conf_read(&c, f, "q.conf", err, sizeof(err)),
	    Q_INVALID);
	fclose(f);
	assert_string_equal(err, "q.conf:3: trusted_proxies: '10.0.0.256' "
	    "is not an IPv4 or IPv6 address or range");
	/* the later line replaces the earlier */
	conf_defaults(&c);
	assert_non_null(f = fmemopen((void *)text, strlen(text) - 12, "r"));
	assert_int_equal(conf_read(&c, f, "q.conf", err, sizeof(err)), Q_OK);
	fclose(f);
	assert_int_equal(c.ntrusted_proxies, 1);
	assert_true(conf_proxy_trusted(&c, "::1"));
	assert_false(conf_proxy_trusted(&c, "127.0.0.1"));
}

/* ---- matching ---- */

static void
test_match_cidr_boundaries(void **state)
{
	static const struct { const char *list, *addr; int in; } t[] = {
		/* nothing trusted: nobody */
		{ "", "127.0.0.1", 0 },
		{ "127.0.0.1", "127.0.0.1", 1 },
		{ "127.0.0.1", "127.0.0.2", 0 },
		{ "10.0.0.0/8", "10.0.0.0", 1 },
		{ "10.0.0.0/8", "10.255.255.255", 1 },
		{ "10.0.0.0/8", "9.255.255.255", 0 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		{ "192.168.1.128/25", "192.168.1.127", 0 },
		{ "192.168.1.128/25", "192.168.1.128", 1 },
		{ "192.168.1.128/25", "192.168.1.255", 1 },
		{ "192.168.1.128/25", "192.168.2.128", 0 },
		{ "172.16.0.0/12", "172.31.255.255", 1 },
		{ "172.16.0.0/12", "172.32.0.0", 0 },
		{ "172.16.0.0/12", "172.15.255.255", 0 },
		{ "203.0.113.6/31", "203.0.113.5", 0 },
		{ "203.0.113.6/31", "203.0.113.7", 1 },
		{ "0.0.0.0/0", "198.51.100.1", 1 },
		{ "0.0.0.0/0", "::1", 0 },	/* IPv4 entries: IPv4 only */
		{ "::/0", "198.51.100.1", 0 },
		{ "::/0", "2001:db8::1", 1 },
		{ "::1", "::1", 1 },
		{ "::1", "0:0:0:0:0:0:0:1", 1 },
		{ "::1", "::2", 0 },
		{ "::1", "127.0.0.1", 0 },
		{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2001:db8::/32", "2001:db9::", 0 },
		{ "2001:db8::/32", "2001:db7:ffff::1", 0 },
		{ "fe80::/10", "febf:ffff::1", 1 },
		{ "fe80::/10", "fec0::1", 0 },
		{ "2001:db8:0:2::/63", "2001:db8:0:2:ffff::1", 1 },
		{ "2001:db8:0:2::/63", "2001:db8:0:1:ffff::1", 0 },
		{ "2001:db8:0:2::/63", "2001:db8:0:3::1", 1 },
		{ "2001:db8:0:2::/63", "2001:db8:0:4::", 0 },
		/* an IPv4-mapped REMOTE_ADDR is its IPv4 address */
		{ "127.0.0.1", "::ffff:127.0.0.1", 1 },
		{ "10.0.0.0/8", "::ffff:10.9.8.7", 1 },
		{ "10.0.0.0/8", "::ffff:11.0.0.1", 0 },
		{ "::ffff:127.0.0.0/104", "127.9.9.9", 1 },
		/* not an address: not trusted */
		{ "0.0.0.0/0 ::/0", "", 0 },
		{ "0.0.0.0/0 ::/0", "localhost", 0 },
		{ "0.0.0.0/0 ::/0", "127.0.0.1 ", 0 },
		{ "0.0.0.0/0 ::/0", "127.0.0.1, 10.0.0.1", 0 },
		{ "0.0.0.0/0 ::/0", "fe80::1%eth0", 0 },
		{ "0.0.0.0/0 ::/0", "[::1]", 0 },
	};
	struct conf	c;
	char		why[256];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (parse(&c, t[i].list, why, sizeof(why)) != Q_OK)
			fail_msg("%s: %s", t[i].list, why);
		if (conf_proxy_trusted(&c, t[i].addr) != t[i].in)
			fail_msg("%s in [%s]: want %d", t[i].addr, t[i].list,
			    t[i].in);
	}
	assert_false(conf_proxy_trusted(&c, NULL));
}

/* ---- the base of a request ---- */

/*
 * The base http_request_init gives a GET with the CGI variables of the
 * NULL-ended list (Host example.test:8080 unless one of them names
 * another) under c, into out.
 */
static void
base_of(const struct conf *c, char *out, size_t len, ...)
{
	struct mem		 m;
	struct transport	 io = { mem_read, mem_write, mem_getenv, &m,
				    NULL, NULL };
	struct request		 r;
	const char		*e;
	va_list			 ap;
	int			 i = 0, host = 0;

	memset(&m, 0, sizeof(m));
	m.env[i++] = "REQUEST_METHOD=GET";
	m.env[i++] = "REQUEST_URI=/api/v1/exportJobs";
	va_start(ap, len);
	while ((e = va_arg(ap, const char *)) != NULL) {
		assert_true(i < ENV_MAX - 2);
		if (strncmp(e, "HTTP_HOST=", 10) == 0)
			host = 1;
		m.env[i++] = e;
	}
	va_end(ap);
	if (!host)
		m.env[i++] = "HTTP_HOST=example.test:8080";
	http_request_init(&r, &io, c, NULL, PROG_JOBS);
	snprintf(out, len, "%s", r.base);
	http_request_free(&r);
}

#define XFP(v)	"HTTP_X_FORWARDED_PROTO=" v
#define XFH(v)	"HTTP_X_FORWARDED_HOST=" v
#define FROM(v)	"REMOTE_ADDR=" v

static void
test_forwarded_only_from_trusted(void **state)
{
	struct conf	c;
	char		b[300], why[256];

	(void)state;
	/* none trusted (the default): ignored, from anywhere */
	conf_defaults(&c);
	base_of(&c, b, sizeof(b), FROM("127.0.0.1"), XFP("https"),
	    XFH("public.example"), NULL);
	assert_string_equal(b, "http://example.test:8080");
	/* HTTPS=on from the web server itself is believed */
	base_of(&c, b, sizeof(b), "HTTPS=on", NULL);
	assert_string_equal(b, "https://example.test:8080");
	base_of(&c, b, sizeof(b), "HTTPS=off", NULL);
	assert_string_equal(b, "http://example.test:8080");

	assert_int_equal(parse(&c, "127.0.0.1 10.0.0.0/8 2001:db8::/32", why,
	    sizeof(why)), Q_OK);
	/* an untrusted client: ignored */
	base_of(&c, b, sizeof(b), FROM("192.0.2.1"), XFP("https"),
	    XFH("public.example"), NULL);
	assert_string_equal(b, "http://example.test:8080");
	base_of(&c, b, sizeof(b), FROM("11.0.0.1"), XFP("https"),
	    XFH("public.example"), NULL);
	assert_string_equal(b, "http://example.test:8080");
	base_of(&c, b, sizeof(b), FROM("2001:db9::1"), XFP("https"), NULL);
	assert_string_equal(b, "http://example.test:8080");
	/* no REMOTE_ADDR at all: untrusted */
	base_of(&c, b, sizeof(b), XFP("https"), XFH("public.example"), NULL);
	assert_string_equal(b, "http://example.test:8080");
	/* a client's X-Forwarded-For naming a proxy changes nothing */
	base_of(&c, b, sizeof(b), FROM("192.0.2.1"),
	    "HTTP_X_FORWARDED_FOR=127.0.0.1", XFP("https"), NULL);
	assert_string_equal(b, "http://example.test:8080");

	/* a trusted proxy: both, or either */
	base_of(&c, b, sizeof(b), FROM("127.0.0.1"), XFP("https"),
	    XFH("public.example"), NULL);
	assert_string_equal(b, "https://public.example");
	base_of(&c, b, sizeof(b), FROM("10.20.30.40"), XFP("https"), NULL);
	assert_string_equal(b, "https://example.test:8080");
	base_of(&c, b, sizeof(b), FROM("2001:db8::5"),
	    XFH("public.example:8443"), NULL);
	assert_string_equal(b, "http://public.example:8443");
	base_of(&c, b, sizeof(b), FROM("::ffff:10.0.0.1"), XFP("HTTPS"),
	    XFH("[2001:db8::1]:443"), NULL);
	assert_string_equal(b, "https://[2001:db8::1]:443");
	/* the proxy's word wins over how it reached the server */
	base_of(&c, b, sizeof(b), FROM("127.0.0.1"), "HTTPS=on", XFP("http"),
	    NULL);
	assert_string_equal(b, "http://example.test:8080");
	/* no Host header: the forwarded host, else the server's name */
	base_of(&c, b, sizeof(b), FROM("127.0.0.1"), "HTTP_HOST=",
	    XFP("https"), "SERVER_NAME=backend", "SERVER_PORT=8080", NULL);
	assert_string_equal(b, "https://backend:8080");
	/* base_url beats everything */
	assert_int_equal(conf_set(&c, "base_url", "https://q.example/"), Q_OK);
	base_of(&c, b, sizeof(b), FROM("127.0.0.1"), XFP("http"),
	    XFH("public.example"), NULL);
	assert_string_equal(b, "https://q.example");
}

static void
test_forwarded_bad_values_ignored(void **state)
{
	static const struct { const char *proto, *host, *want; } t[] = {
		/* lists: the first value, blanks around it dropped */
		{ XFP("https, http"), NULL, "https://example.test:8080" },
		{ XFP(" https "), NULL, "https://example.test:8080" },
		{ XFP("http,https"), "HTTPS=on", "http://example.test:8080" },
		{ NULL, XFH("a.example, b.example"), "http://a.example" },
		{ NULL, XFH("\ta.example:81 ,b.example"),
		    "http://a.example:81" },
		/* not http or https: ignored */
		{ XFP("ftp"), NULL, "http://example.test:8080" },
		{ XFP("httpsx"), NULL, "http://example.test:8080" },
		{ XFP("https://"), NULL, "http://example.test:8080" },
		{ XFP("htt ps"), NULL, "http://example.test:8080" },
		{ XFP(""), NULL, "http://example.test:8080" },
		{ XFP(","), NULL, "http://example.test:8080" },
		{ XFP(", https"), NULL, "http://example.test:8080" },
		{ XFP("wss"), "HTTPS=on", "https://example.test:8080" },
		/* not a host[:port]: ignored, the Host header stays */
		{ NULL, XFH("evil.example/path"), "http://example.test:8080" },
		{ NULL, XFH("evil.example?x"), "http://example.test:8080" },
		{ NULL, XFH("evil example"), "http://example.test:8080" },
		{ NULL, XFH("user@evil.example"), "http://example.test:8080" },
		{ NULL, XFH("evil.example\r\nX-A: b"),
		    "http://example.test:8080" },
		{ NULL, XFH("\"evil\""), "http://example.test:8080" },
		{ NULL, XFH(""), "http://example.test:8080" },
		{ NULL, XFH(" , a.example"), "http://example.test:8080" },
		{ NULL, XFH("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example"),
		    "http://example.test:8080" },
	};
	struct conf	c;
	char		b[300], why[256];
	size_t		i;

	(void)state;
	assert_int_equal(parse(&c, "127.0.0.1", why, sizeof(why)), Q_OK);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *a = t[i].proto, *h = t[i].host;

		/* a NULL ends the list early: shuffle the set ones first */
		if (a == NULL) {
			a = h;
			h = NULL;
		}
		base_of(&c, b, sizeof(b), FROM("127.0.0.1"), a, h, NULL);
		if (strcmp(b, t[i].want) != 0)
			fail_msg("%s %s: got %s, want %s", t[i].proto ?
			    t[i].proto : "-", t[i].host ? t[i].host : "-", b,
			    t[i].want);
	}
}

/* ---- every absolute URL of the answers ---- */

static struct tu	*T;
static char		 secret[TOKEN_SECRET_LEN + 1];
static char		 def_id[ID_LEN + 1];

static int
setup_world(void **state)
{
	static const char *doc =
	    "{\"tenant\":\"acme\",\"name\":\"Std Extract\","
	    "\"source\":{\"dataset\":\"expenses\"},"
	    "\"parameters\":[{\"name\":\"n\",\"type\":\"string\"}],"
	    "\"columns\":[\"id\",\"amount\"],\"formats\":[\"csv\"]}";
	struct definition	 d;
	struct token		 tok;
	char			 err[256], csvp[PATH_MAX];
	FILE			*f;

	if (tu_setup_store(state) != 0)
		return -1;
	T = *state;
	if (link_key_create(&T->conf) != Q_OK ||
	    token_create(T->s, "acme", ROLE_ADMIN, "a", 0, secret, &tok) !=
	    Q_OK)
		return -1;
	tu_path(csvp, T->dir, "e.csv");
	if (tu_write_file(csvp, "id,amount\n1,2.50\n2,3\n") != 0 ||
	    (f = fopen(csvp, "r")) == NULL)
		return -1;
	if (dataset_import(T->s, "acme", "expenses", f, 0, err,
	    sizeof(err)) != Q_OK) {
		fclose(f);
		return -1;
	}
	fclose(f);
	if (tu_definition(T->s, doc, &d) != Q_OK)
		return -1;
	memcpy(def_id, d.id, sizeof(def_id));
	definition_free(&d);
	return 0;
}

/*
 * Runs one request (the extra CGI variables of the NULL-ended list) as
 * program p; the whole CGI output is in out (caller frees).
 */
static int
run(enum prog p, const char *method, const char *uri, const char *auth,
    const char *body, struct buf *out, ...)
{
	struct mem		 m;
	struct transport	 io = { mem_read, mem_write, mem_getenv, &m,
				    NULL, NULL };
	struct request		 r;
	char			 mline[64], uline[PATH_MAX_LEN + 64];
	char			 aline[256], cl[64];
	const char		*e;
	va_list			 ap;
	int			 i = 0, status;

	memset(&m, 0, sizeof(m));
	snprintf(mline, sizeof(mline), "REQUEST_METHOD=%s", method);
	snprintf(uline, sizeof(uline), "REQUEST_URI=%s", uri);
	m.env[i++] = mline;
	m.env[i++] = uline;
	m.env[i++] = "HTTP_HOST=example.test:8080";
	if (auth != NULL && strncmp(auth, "HTTP_", 5) == 0)
		m.env[i++] = auth;	/* another header than Authorization */
	else {
		snprintf(aline, sizeof(aline), "HTTP_AUTHORIZATION=%s", auth);
		m.env[i++] = aline;
	}
	if (body != NULL) {
		m.body = body;
		m.body_len = strlen(body);
		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", m.body_len);
		m.env[i++] = cl;
		if (*body == '{')
			m.env[i++] = "CONTENT_TYPE=application/json";
	}
	va_start(ap, out);
	while ((e = va_arg(ap, const char *)) != NULL) {
		assert_true(i < ENV_MAX - 1);
		m.env[i++] = e;
	}
	va_end(ap);
	http_request_init(&r, &io, &T->conf, T->s, p);
	http_dispatch(&r);
	status = r.status;
	http_request_free(&r);
	*out = m.out;
	return status;
}

/*
 * Checks that every absolute URL in a whole CGI output (headers and
 * body; JSON's "\/" read as "/") is on base, namespaces and OSDI's
 * curies template aside; returns how many there were.
 */
static int
urls_on(const struct buf *out, const char *base, const char *what)
{
	static const char *const fixed[] = {
	    "http://www.concursolutions.com/api/expense/extract/2010/02",
	    "http://www.w3.org/",
	    "https://opensupporter.github.io/osdi-docs/" };
	char		*text, *p, *q, *start;
	size_t		 i, n = 0, blen = strlen(base);
	int		 known;

	assert_non_null(text = strdup(buf_str(out)));
	for (p = q = text; *p != '\0'; p++) {	/* unescape "\/" */
		if (p[0] == '\\' && p[1] == '/')
			p++;
		*q++ = *p;
	}
	*q = '\0';
	for (p = text; (p = strstr(p, "://")) != NULL; p += 3) {
		start = p;
		while (start > text && isalpha((unsigned char)start[-1]))
			start--;
		for (known = 0, i = 0; i < sizeof(fixed) / sizeof(fixed[0]);
		    i++)
			if (strncmp(start, fixed[i], strlen(fixed[i])) == 0)
				known = 1;
		if (known)
			continue;
		if (strncmp(start, base, blen) != 0 || start[blen] != '/')
			fail_msg("%s: a URL not on %s: %.80s\n%s", what, base,
			    start, text);
		n++;
	}
	free(text);
	return n;
}

static void
test_every_absolute_url_is_on_the_base(void **state)
{
	static const char *const bases[][4] = {
	    /* the web server says TLS */
	    { "https://example.test:8080", "HTTPS=on", NULL, NULL },
	    /* a trusted proxy in front says so */
	    { "https://public.example", FROM("127.0.0.1"), XFP("https"),
	      XFH("public.example") },
	};
	struct buf		 out;
	struct job		 j;
	char			 bearer[128], oauth[128], osdi[128], uri[256];
	char			 body[256];
	char			 job_id[ID_LEN + 1], why[256], fpath[PATH_MAX];
	const char		*p;
	size_t			 b;
	int			 n, i;

	(void)state;
	assert_int_equal(conf_set_proxies(&T->conf, "127.0.0.1", why,
	    sizeof(why)), Q_OK);
	snprintf(bearer, sizeof(bearer), "Bearer %s", secret);
	snprintf(oauth, sizeof(oauth), "OAuth %s", secret);
	snprintf(osdi, sizeof(osdi), "HTTP_OSDI_API_TOKEN=%s", secret);
	/* three jobs, one of them completed with its file */
	for (i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"definitionId\":\"%s\","
		    "\"parameters\":{\"n\":\"%d\"}}", def_id, i);
		assert_int_equal(run(PROG_JOBS, "POST", "/api/v1/exportJobs",
		    bearer, body, &out, bases[0][1], NULL), 201);
		n = urls_on(&out, bases[0][0], "Graph's create");
		assert_int_equal(n, 1);		/* Location */
		assert_non_null(strstr(buf_str(&out), "Location: https://"));
		buf_free(&out);
	}
	assert_int_equal(job_claim(T->s, 7, 30, &j), Q_OK);
	memcpy(job_id, j.id, sizeof(job_id));
	job_free(&j);
	tu_path(fpath, T->conf.files_dir, "f.csv");
	assert_int_equal(tu_write_file(fpath, "id,amount\r\n1,2.50\r\n"), 0);
	assert_int_equal(job_complete(T->s, job_id, 7, "f.csv", 19, 1, 3600),
	    Q_OK);

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		const char *base = bases[b][0], *e1 = bases[b][1],
		    *e2 = bases[b][2], *e3 = bases[b][3];

		/* Graph: a list page with its @odata.nextLink */
		assert_int_equal(run(PROG_JOBS, "GET",
		    "/api/v1/exportJobs?$top=1", bearer, NULL, &out, e1, e2,
		    e3, NULL), 200);
		assert_non_null(strstr(buf_str(&out), "@odata.nextLink"));
		urls_on(&out, base, "Graph's list");
		buf_free(&out);
		/* Graph: the completed job, resourceLocation, downloadUrl */
		snprintf(uri, sizeof(uri), "/api/v1/exportJobs/%s", job_id);
		assert_int_equal(run(PROG_STATUS, "GET", uri, bearer, NULL,
		    &out, e1, e2, e3, NULL), 200);
		assert_non_null(strstr(buf_str(&out), "resourceLocation"));
		assert_non_null(p = strstr(buf_str(&out),
		    "@microsoft.graph.downloadUrl"));
		assert_true(urls_on(&out, base, "Graph's job") >= 2);
		buf_free(&out);
		/* Graph: the definitions */
		assert_int_equal(run(PROG_DEFINITIONS, "GET",
		    "/api/v1/definitions", bearer, NULL, &out, e1, e2, e3,
		    NULL), 200);
		urls_on(&out, base, "Graph's definitions");
		buf_free(&out);
		/* Concur: definitions, the job list, the status, file-link */
		assert_int_equal(run(PROG_DEFINITIONS, "GET",
		    "/api/expense/extract/v1.0", oauth, NULL, &out, e1, e2,
		    e3, NULL), 200);
		assert_true(urls_on(&out, base, "Concur's definitions") >= 2);
		buf_free(&out);
		snprintf(uri, sizeof(uri), "/api/expense/extract/v1.0/%s/job",
		    def_id);
		assert_int_equal(run(PROG_JOBS, "GET", uri, oauth, NULL, &out,
		    e1, e2, e3, NULL), 200);
		assert_true(urls_on(&out, base, "Concur's jobs") >= 6);
		buf_free(&out);
		snprintf(uri, sizeof(uri), "/api/expense/extract/v1.0/%s/job/"
		    "%s/status", def_id, job_id);
		assert_int_equal(run(PROG_STATUS, "GET", uri, oauth, NULL,
		    &out, e1, e2, e3, NULL), 200);
		assert_non_null(strstr(buf_str(&out), "<file-link>https://"));
		assert_true(urls_on(&out, base, "Concur's status") >= 3);
		buf_free(&out);
		/* OSDI: the entry point, a page of exports, one export */
		assert_int_equal(run(PROG_JOBS, "GET", "/osdi/v1/", osdi,
		    NULL, &out, e1, e2, e3, NULL), 200);
		urls_on(&out, base, "OSDI's entry point");
		buf_free(&out);
		assert_int_equal(run(PROG_JOBS, "GET",
		    "/osdi/v1/exports?per_page=1&page=2", osdi, NULL, &out,
		    e1, e2, e3, NULL), 200);
		assert_true(urls_on(&out, base, "OSDI's list") >= 4);
		buf_free(&out);
		snprintf(uri, sizeof(uri), "/osdi/v1/exports/%s", job_id);
		assert_int_equal(run(PROG_STATUS, "GET", uri, osdi, NULL,
		    &out, e1, e2, e3, NULL), 200);
		assert_non_null(strstr(buf_str(&out), "download"));
		assert_true(urls_on(&out, base, "OSDI's export") >= 3);
		buf_free(&out);
	}
	/* a Concur create's Location too */
	snprintf(uri, sizeof(uri), "/api/expense/extract/v1.0/%s/job", def_id);
	assert_int_equal(run(PROG_JOBS, "POST", uri, oauth, "", &out,
	    bases[1][1], bases[1][2], bases[1][3], NULL), 201);
	assert_non_null(strstr(buf_str(&out), "Location: https://"
	    "public.example/"));
	urls_on(&out, bases[1][0], "Concur's create");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_parses),
		cmocka_unit_test(test_list_refuses_bad_entries),
		cmocka_unit_test(test_conf_file_error),
		cmocka_unit_test(test_match_cidr_boundaries),
		cmocka_unit_test(test_forwarded_only_from_trusted),
		cmocka_unit_test(test_forwarded_bad_values_ignored),
		cmocka_unit_test_setup_teardown(
		    test_every_absolute_url_is_on_the_base, setup_world,
		    tu_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
