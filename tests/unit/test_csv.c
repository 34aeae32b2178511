/*
 * The RFC 4180 reader and the field writer: quoting, line ends, UTF-8,
 * chunk boundaries, malformed input with its line number, limits, and a
 * round trip.
 */
#include "testutil.h"

#include "quarry/buf.h"
#include "quarry/csv.h"

/*
 * Records as text: each field's bytes then '|', each record "@LINE:"
 * before and '\n' after, so a whole parse compares as one string.
 */
struct got {
	struct buf	 text;
	int		 stop_at;	/* record number that stops, 0 = none */
	int		 n;
};

static int
on_record(char **fields, size_t *lens, size_t n, unsigned long line,
    void *arg)
{
	struct got	*g = arg;
	size_t		 i;

	buf_printf(&g->text, "@%lu:", line);
	for (i = 0; i < n; i++) {
		if (strlen(fields[i]) != lens[i])
			return 99;	/* fields must be NUL-terminated */
		buf_add(&g->text, fields[i], lens[i]);
		buf_addc(&g->text, '|');
	}
	buf_addc(&g->text, '\n');
	return ++g->n == g->stop_at ? 7 : 0;
}

/* Parses in one chunk; returns the reader's result, text in g. */
static int
parse(const char *in, size_t n, char sep, struct got *g, char *err)
{
	struct csv_reader	r;
	int			rc;

	buf_reset(&g->text);
	g->n = 0;
	csv_reader_init(&r, sep, on_record, g);
	rc = csv_feed(&r, in, n);
	if (rc == 0)
		rc = csv_finish(&r);
	if (err != NULL)
		snprintf(err, 256, "%s", r.err);
	csv_reader_free(&r);
	return rc;
}

/* Parses in chunks of at most step bytes, starting with one of first. */
static int
parse_chunked(const char *in, size_t n, size_t first, size_t step,
    struct got *g, char *err)
{
	struct csv_reader	r;
	size_t			off = 0, len;
	int			rc = 0;

	buf_reset(&g->text);
	g->n = 0;
	csv_reader_init(&r, ',', on_record, g);
	len = first < n ? first : n;
	while (rc == 0 && off < n) {
		rc = csv_feed(&r, in + off, len);
		off += len;
		len = n - off < step ? n - off : step;
	}
	if (rc == 0)
		rc = csv_finish(&r);
	if (err != NULL)
		snprintf(err, 256, "%s", r.err);
	csv_reader_free(&r);
	return rc;
}

#define PARSE_OK(in, expect) do {					\
	struct got g_ = { BUF_INIT, 0, 0 };				\
	assert_int_equal(parse(in, sizeof(in) - 1, ',', &g_, NULL), 0);	\
	assert_string_equal(buf_str(&g_.text), expect);			\
	buf_free(&g_.text);						\
} while (0)

#define PARSE_ERR(in, expect) do {					\
	struct got g_ = { BUF_INIT, 0, 0 };				\
	char e_[256];							\
	assert_int_equal(parse(in, sizeof(in) - 1, ',', &g_, e_), -1);	\
	assert_string_equal(e_, expect);				\
	buf_free(&g_.text);						\
} while (0)

static void
test_simple(void **state)
{
	(void)state;
	PARSE_OK("a,b,c\r\n1,2,3\r\n", "@1:a|b|c|\n@2:1|2|3|\n");
	PARSE_OK("a,b\n1,2\n", "@1:a|b|\n@2:1|2|\n");
	/* The last record may lack a line break. */
	PARSE_OK("a,b\n1,2", "@1:a|b|\n@2:1|2|\n");
	/* Empty fields, also at the end of a record and of the input. */
	PARSE_OK("a,,c\n,\nx,", "@1:a||c|\n@2:||\n@3:x||\n");
	/* Spaces are part of a field. */
	PARSE_OK(" a , b \n", "@1: a | b |\n");
	PARSE_OK("", "");
}

static void
test_quoted(void **state)
{
	(void)state;
	PARSE_OK("\"a,b\",\"say \"\"hi\"\"\",\"\"\r\n",
	    "@1:a,b|say \"hi\"||\n");
	/* Line breaks inside quotes, CRLF and LF, are kept. */
	PARSE_OK("\"one\r\ntwo\",\"x\ny\"\r\nnext,row\r\n",
	    "@1:one\r\ntwo|x\ny|\n@4:next|row|\n");
	/* A quoted last field without a final line break. */
	PARSE_OK("a,\"b\"", "@1:a|b|\n");
	PARSE_OK("\"\"\"\"", "@1:\"|\n");
}

static void
test_utf8(void **state)
{
	(void)state;
	PARSE_OK("caf\xc3\xa9,\xe6\x97\xa5\xe6\x9c\xac,\xf0\x9f\x98\x80\n"
	    "\"\xe2\x82\xac,\"\n",
	    "@1:caf\xc3\xa9|\xe6\x97\xa5\xe6\x9c\xac|\xf0\x9f\x98\x80|\n"
	    "@2:\xe2\x82\xac,|\n");
	/*
	 * The largest code point that is text (U+10FFFF is a
	 * noncharacter) and the last before the surrogates.
	 */
	PARSE_OK("\xf4\x8f\xbf\xbd,\xed\x9f\xbf\n",
	    "@1:\xf4\x8f\xbf\xbd|\xed\x9f\xbf|\n");
}

static void
test_tab_separator(void **state)
{
	struct got	g = { BUF_INIT, 0, 0 };
	static const char in[] = "a\tb,c\t\"d\te\"\n";

	(void)state;
	assert_int_equal(parse(in, sizeof(in) - 1, '\t', &g, NULL), 0);
	assert_string_equal(buf_str(&g.text), "@1:a|b,c|d\te|\n");
	buf_free(&g.text);
}

static const char tricky[] =
    "id,name,note\r\n"
    "1,\"Smith, J\",\"said \"\"no\"\"\"\r\n"
    "2,\xc3\x89milie,\"two\r\nlines\"\r\n"
    "3,\xf0\x9f\x98\x80,\"lf\nonly\"\n"
    "4,,\"\"\n"
    "5,\"\xe2\x82\xac\",end";

static void
test_every_chunk_boundary(void **state)
{
	struct got	whole = { BUF_INIT, 0, 0 }, g = { BUF_INIT, 0, 0 };
	size_t		n = sizeof(tricky) - 1, cut;

	(void)state;
	assert_int_equal(parse(tricky, n, ',', &whole, NULL), 0);
	assert_int_equal(whole.n, 6);
	/* One byte at a time. */
	assert_int_equal(parse_chunked(tricky, n, 1, 1, &g, NULL), 0);
	assert_string_equal(buf_str(&g.text), buf_str(&whole.text));
	/* Two chunks, cut at every byte. */
	for (cut = 0; cut <= n; cut++) {
		assert_int_equal(parse_chunked(tricky, n, cut, n, &g, NULL), 0);
		assert_string_equal(buf_str(&g.text), buf_str(&whole.text));
	}
	buf_free(&whole.text);
	buf_free(&g.text);
}

static void
test_errors(void **state)
{
	(void)state;
	PARSE_ERR("a,b\nc,d\"e\n", "line 2: quote inside an unquoted field");
	PARSE_ERR("\"a\"b,c\n", "line 1: text after a closing quote");
	PARSE_ERR("a\n\"x\",\"y\" \n", "line 2: text after a closing quote");
	PARSE_ERR("a\n\"never closed\nmore\n",
	    "line 2: unterminated quoted field");
	PARSE_ERR("ok\n\xff\n", "line 2: invalid UTF-8");
	PARSE_ERR("ok\n\"\xc0\xaf\"\n", "line 2: invalid UTF-8");  /* overlong */
	PARSE_ERR("\xe0\x80\x80\n", "line 1: invalid UTF-8");	    /* overlong */
	PARSE_ERR("\xed\xa0\x80\n", "line 1: invalid UTF-8");	    /* surrogate */
	PARSE_ERR("\xf4\x90\x80\x80\n", "line 1: invalid UTF-8"); /* > U+10FFFF */
	/* noncharacters: U+10FFFF, U+FFFE, U+FDD0 */
	PARSE_ERR("\xf4\x8f\xbf\xbf\n", "line 1: invalid UTF-8");
	PARSE_ERR("a,b\nc,\xef\xbf\xbe\n", "line 2: invalid UTF-8");
	PARSE_ERR("\"\xef\xb7\x90\"\n", "line 1: invalid UTF-8");
	PARSE_ERR("a\xc3", "line 1: invalid UTF-8 at end of input");
	PARSE_ERR("a\xc3,b\n", "line 1: invalid UTF-8");
	PARSE_ERR("a\nb\0c\n", "line 2: NUL byte");
	/* The line is the one the bad record starts on, after quoted breaks. */
	PARSE_ERR("\"x\ny\",1\r\n\"p\r\nq\"\r\nbad\"q\n",
	    "line 5: quote inside an unquoted field");
}

static void
test_error_chunked_line(void **state)
{
	static const char in[] = "h1,h2\n\"multi\nline\",v\nx,y\"z\n";
	struct got	g = { BUF_INIT, 0, 0 };
	char		err[256];

	(void)state;
	assert_int_equal(parse_chunked(in, sizeof(in) - 1, 1, 1, &g, err), -1);
	assert_string_equal(err, "line 4: quote inside an unquoted field");
	/* Records before the error were delivered, none after. */
	assert_string_equal(buf_str(&g.text),
	    "@1:h1|h2|\n@2:multi\nline|v|\n");
	buf_free(&g.text);
}

static void
test_field_limit(void **state)
{
	struct got	 g = { BUF_INIT, 0, 0 };
	char		*in, err[256];
	size_t		 n = CSV_FIELD_MAX + 1;

	(void)state;
	in = malloc(n + 2);
	assert_non_null(in);
	memset(in, 'x', n);
	in[n] = '\n';
	/* Exactly the limit is allowed (one byte less than n). */
	assert_int_equal(parse(in + 1, n, ',', &g, NULL), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(parse(in, n + 1, ',', &g, err), -1);
	assert_string_equal(err, "line 1: field too long");
	free(in);
	buf_free(&g.text);
}

static void
test_record_limit(void **state)
{
	struct got	 g = { BUF_INIT, 0, 0 };
	struct buf	 in = BUF_INIT;
	char		 err[256];
	size_t		 i;

	(void)state;
	buf_adds(&in, "ok\n");
	for (i = 0; i < CSV_FIELDS_MAX; i++)
		buf_adds(&in, i ? ",f" : "f");
	buf_addc(&in, '\n');
	assert_int_equal(parse(in.data, in.len, ',', &g, NULL), 0);
	assert_int_equal(g.n, 2);
	in.len--;
	buf_adds(&in, ",one too many\n");
	assert_int_equal(parse(in.data, in.len, ',', &g, err), -1);
	assert_string_equal(err, "line 2: too many fields");
	buf_free(&in);
	buf_free(&g.text);
}

static void
test_callback_stops(void **state)
{
	struct got		g = { BUF_INIT, 2, 0 };
	struct csv_reader	r;
	static const char	in[] = "a\nb\nc\nd\n";

	(void)state;
	csv_reader_init(&r, ',', on_record, &g);
	assert_int_equal(csv_feed(&r, in, sizeof(in) - 1), 7);
	assert_int_equal(g.n, 2);
	csv_reader_free(&r);
	buf_free(&g.text);
}

static void
test_read_stream(void **state)
{
	struct got		 g = { BUF_INIT, 0, 0 };
	struct csv_reader	 r;
	FILE			*f;
	static char		 in[] = "x,y\n\"1\n2\",3\n";

	(void)state;
	f = fmemopen(in, sizeof(in) - 1, "r");
	assert_non_null(f);
	csv_reader_init(&r, ',', on_record, &g);
	assert_int_equal(csv_read_stream(&r, f), 0);
	assert_string_equal(buf_str(&g.text), "@1:x|y|\n@2:1\n2|3|\n");
	csv_reader_free(&r);
	fclose(f);
	buf_free(&g.text);
}

#define PUT(in, sep, expect) do {					\
	struct buf b_ = BUF_INIT;					\
	csv_put_field(&b_, in, sizeof(in) - 1, sep);			\
	assert_string_equal(buf_str(&b_), expect);			\
	buf_free(&b_);							\
} while (0)

static void
test_put_field(void **state)
{
	(void)state;
	PUT("plain", ',', "plain");
	PUT("", ',', "");
	PUT("a,b", ',', "\"a,b\"");
	PUT("say \"hi\"", ',', "\"say \"\"hi\"\"\"");
	PUT("\"", ',', "\"\"\"\"");
	PUT("two\nlines", ',', "\"two\nlines\"");
	PUT("cr\r", ',', "\"cr\r\"");
	PUT(" spaced ", ',', " spaced ");
	PUT("caf\xc3\xa9", ',', "caf\xc3\xa9");
	PUT("a,b", '\t', "a,b");
	PUT("a\tb", '\t', "\"a\tb\"");
}

static void
test_round_trip(void **state)
{
	static const char *const cells[] = {
		"", "plain", "a,b", "\"", "say \"\"x\"\"", "line\r\nbreak",
		"lf\n", "\r", " lead", "trail ", "caf\xc3\xa9",
		"\xf0\x9f\x98\x80,\"\n", ",,,", "=1+2",
	};
	const size_t	 nc = sizeof(cells) / sizeof(cells[0]);
	struct buf	 out = BUF_INIT, expect = BUF_INIT;
	struct got	 g = { BUF_INIT, 0, 0 };
	size_t		 row, col, i;
	unsigned long	 line = 1;

	(void)state;
	/* Rows of 3 cells, cycling through every cell in every column. */
	for (row = 0; row < nc; row++) {
		buf_printf(&expect, "@%lu:", line);
		for (col = 0; col < 3; col++) {
			const char *c = cells[(row + col * 5) % nc];
			if (col > 0)
				buf_addc(&out, ',');
			csv_put_field(&out, c, strlen(c), ',');
			buf_adds(&expect, c);
			buf_addc(&expect, '|');
			for (i = 0; c[i] != '\0'; i++)
				line += c[i] == '\n';
		}
		buf_adds(&out, "\r\n");
		buf_addc(&expect, '\n');
		line++;
	}
	assert_int_equal(parse(out.data, out.len, ',', &g, NULL), 0);
	assert_int_equal(g.n, (int)nc);
	assert_string_equal(buf_str(&g.text), buf_str(&expect));
	buf_free(&out);
	buf_free(&expect);
	buf_free(&g.text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_tab_separator),
		cmocka_unit_test(test_every_chunk_boundary),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_chunked_line),
		cmocka_unit_test(test_field_limit),
		cmocka_unit_test(test_record_limit),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_read_stream),
		cmocka_unit_test(test_put_field),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
