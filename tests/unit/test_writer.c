/*
 * The four streaming writers: exact bytes for rows with special
 * characters, the formula guard, and write failures through the seam.
 */
#include <fcntl.h>

#include "testutil.h"

#include "quarry/export.h"
#include "quarry/format.h"

static char *const columns[] = { "id", "name", "note" };

static const char *const rows[][3] = {
	{ "1", "Smith, J", "said \"hi\"" },
	{ "2", "caf\xc3\xa9 <b> & 'q'", "two\r\nlines\ttab\\" },
	{ "3", "", "ctl\x01" },
};

/* Writes the rows in format f to a file in dir; returns its bytes. */
static char *
write_rows(const char *dir, enum fmt f, size_t nrows, int guard,
    const char *const (*r)[3], size_t *len)
{
	struct writer	 w;
	char		 path[PATH_MAX], *data;
	size_t		 i, lens[3], j;
	FILE		*in;
	int		 fd;
	long		 n;

	tu_path(path, dir, "out");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(writer_begin(&w, f, fd, columns, 3, guard), 0);
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < 3; j++)
			lens[j] = strlen(r[i][j]);
		assert_int_equal(writer_row(&w, r[i], lens), 0);
	}
	assert_int_equal(writer_end(&w), 0);
	assert_true(w.rows == nrows);
	writer_free(&w);
	close(fd);
	in = fopen(path, "rb");
	assert_non_null(in);
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	rewind(in);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, in), (size_t)n);
	data[n] = '\0';
	fclose(in);
	assert_true(w.bytes == (uint64_t)n);
	*len = (size_t)n;
	return data;
}

#define EXPECT_FILE(fmt, nrows, guard, r, expect) do {			\
	size_t n_;							\
	char *d_ = write_rows(t->dir, fmt, nrows, guard, r, &n_);	\
	assert_int_equal(n_, sizeof(expect) - 1);			\
	assert_memory_equal(d_, expect, n_);				\
	free(d_);							\
} while (0)

static void
test_csv(void **state)
{
	struct tu *t = *state;

	EXPECT_FILE(FMT_CSV, 3, 0, rows,
	    "id,name,note\r\n"
	    "1,\"Smith, J\",\"said \"\"hi\"\"\"\r\n"
	    "2,caf\xc3\xa9 <b> & 'q',\"two\r\nlines\ttab\\\"\r\n"
	    "3,,ctl\x01\r\n");
	EXPECT_FILE(FMT_CSV, 0, 0, rows, "id,name,note\r\n");
}

static void
test_tsv(void **state)
{
	struct tu *t = *state;

	EXPECT_FILE(FMT_TSV, 3, 0, rows,
	    "id\tname\tnote\n"
	    "1\tSmith, J\tsaid \"hi\"\n"
	    "2\tcaf\xc3\xa9 <b> & 'q'\ttwo\\r\\nlines\\ttab\\\\\n"
	    "3\t\tctl\x01\n");
}

static void
test_json(void **state)
{
	struct tu *t = *state;

	EXPECT_FILE(FMT_JSON, 3, 0, rows,
	    "[\n"
	    "{\"id\":\"1\",\"name\":\"Smith, J\",\"note\":\"said \\\"hi\\\"\"},\n"
	    "{\"id\":\"2\",\"name\":\"caf\xc3\xa9 <b> & 'q'\","
	    "\"note\":\"two\\r\\nlines\\ttab\\\\\"},\n"
	    "{\"id\":\"3\",\"name\":\"\",\"note\":\"ctl\\u0001\"}\n"
	    "]\n");
	EXPECT_FILE(FMT_JSON, 0, 0, rows, "[]\n");
}

static void
test_xml(void **state)
{
	struct tu *t = *state;

	EXPECT_FILE(FMT_XML, 2, 0, rows,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rows>\n"
	    "<row><id>1</id><name>Smith, J</name>"
	    "<note>said &quot;hi&quot;</note></row>\n"
	    "<row><id>2</id><name>caf\xc3\xa9 &lt;b&gt; &amp; &apos;q&apos;"
	    "</name><note>two&#13;\nlines\ttab\\</note></row>\n"
	    "</rows>\n");
	EXPECT_FILE(FMT_XML, 0, 0, rows,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rows>\n</rows>\n");
}

static void
test_xml_tag_names(void **state)
{
	struct tu	*t = *state;
	struct writer	 w;
	char		*const cols[] = { "2nd col", "a:b", "ok_1-x.y", "\xc3\xa9" };
	const char	*f[] = { "v", "w", "x", "y" };
	size_t		 l[] = { 1, 1, 1, 1 };
	char		 path[PATH_MAX], got[512];
	int		 fd;
	ssize_t		 n;
	static const char expect[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rows>\n"
	    "<row><_2nd_col>v</_2nd_col><a_b>w</a_b>"
	    "<ok_1-x.y>x</ok_1-x.y><___>y</___></row>\n</rows>\n";

	tu_path(path, t->dir, "tags");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(writer_begin(&w, FMT_XML, fd, cols, 4, 0), 0);
	assert_int_equal(writer_row(&w, f, l), 0);
	assert_int_equal(writer_end(&w), 0);
	writer_free(&w);
	n = pread(fd, got, sizeof(got), 0);
	close(fd);
	assert_int_equal(n, sizeof(expect) - 1);
	assert_memory_equal(got, expect, (size_t)n);
}

/*
 * Typed rows (a SQL source, issue 12): NULL is an empty csv/tsv field,
 * json null, xml xsi:nil; numbers and booleans keep their type in json
 * when their text is one; an empty string stays an empty string.
 */
static void
test_typed_values(void **state)
{
	static char *const cols[] = { "n", "num", "flag", "s" };
	static const enum vtype types[] = { VT_NUMBER, VT_NUMBER, VT_BOOL,
	    VT_TEXT };
	static const struct {
		enum fmt	 f;
		const char	*want;
	} cases[] = {
		{ FMT_CSV, "n,num,flag,s\r\n"
		    "42,-1.5e3,t,\r\n"
		    ",NaN,f,\"a,b\"\r\n"
		    "0,007,maybe,\r\n" },
		{ FMT_TSV, "n\tnum\tflag\ts\n42\t-1.5e3\tt\t\n"
		    "\tNaN\tf\ta,b\n0\t007\tmaybe\t\n" },
		{ FMT_JSON, "[\n{\"n\":42,\"num\":-1.5e3,\"flag\":true,"
		    "\"s\":\"\"},\n"
		    "{\"n\":null,\"num\":\"NaN\",\"flag\":false,"
		    "\"s\":\"a,b\"},\n"
		    "{\"n\":0,\"num\":\"007\",\"flag\":\"maybe\","
		    "\"s\":null}\n]\n" },
		{ FMT_XML, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<rows xmlns:xsi=\"http://www.w3.org/2001/"
		    "XMLSchema-instance\">\n"
		    "<row><n>42</n><num>-1.5e3</num><flag>t</flag><s></s>"
		    "</row>\n"
		    "<row><n xsi:nil=\"true\"/><num>NaN</num><flag>f</flag>"
		    "<s>a,b</s></row>\n"
		    "<row><n>0</n><num>007</num><flag>maybe</flag>"
		    "<s xsi:nil=\"true\"/></row>\n</rows>\n" },
	};
	const char	*rows[3][4] = {
		{ "42", "-1.5e3", "t", "" },
		{ NULL, "NaN", "f", "a,b" },
		{ "0", "007", "maybe", NULL },
	};
	struct tu	*t = *state;
	struct writer	 w;
	size_t		 lens[4], c, r, j;
	char		 path[PATH_MAX], got[1024];
	ssize_t		 n;
	int		 fd;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		tu_path(path, t->dir, "typed");
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(writer_begin(&w, cases[c].f, fd, cols, 4,
		    WRITER_TYPED), 0);
		for (r = 0; r < 3; r++) {
			for (j = 0; j < 4; j++)
				lens[j] = rows[r][j] ? strlen(rows[r][j]) : 0;
			w.types = types;
			assert_int_equal(writer_row(&w, rows[r], lens), 0);
		}
		assert_int_equal(writer_end(&w), 0);
		writer_free(&w);
		n = pread(fd, got, sizeof(got) - 1, 0);
		close(fd);
		assert_true(n >= 0);
		got[n] = '\0';
		assert_string_equal(got, cases[c].want);
	}
}

static const char *const risky[][3] = {
	{ "=SUM(A1)", "+1", "-2" },
	{ "@cmd", "\tx", "\rx" },
	{ "a=b", "", "1-2" },
};

static void
test_formula_guard(void **state)
{
	struct tu *t = *state;

	EXPECT_FILE(FMT_CSV, 3, 1, risky,
	    "id,name,note\r\n"
	    "'=SUM(A1),'+1,'-2\r\n"
	    "'@cmd,'\tx,\"'\rx\"\r\n"
	    "a=b,,1-2\r\n");
	EXPECT_FILE(FMT_JSON, 1, 1, risky,
	    "[\n{\"id\":\"'=SUM(A1)\",\"name\":\"'+1\",\"note\":\"'-2\"}\n]\n");
	/* Without the guard, values are written unchanged. */
	EXPECT_FILE(FMT_CSV, 1, 0, risky,
	    "id,name,note\r\n=SUM(A1),+1,-2\r\n");
}

static int	writes_left;	/* calls that succeed before ENOSPC */
static size_t	max_chunk;	/* bytes one successful call writes */

static ssize_t
limited_write(int fd, const void *buf, size_t n)
{
	if (writes_left-- <= 0) {
		errno = ENOSPC;
		return -1;
	}
	return write(fd, buf, n < max_chunk ? n : max_chunk);
}

static void
test_short_writes(void **state)
{
	struct tu *t = *state;

	/* A write that takes one byte at a time still writes everything. */
	writes_left = 1 << 30;
	max_chunk = 1;
	q_seams.write = limited_write;
	EXPECT_FILE(FMT_CSV, 1, 0, rows,
	    "id,name,note\r\n1,\"Smith, J\",\"said \"\"hi\"\"\"\r\n");
}

static void
test_disk_full_at_end(void **state)
{
	struct tu	*t = *state;
	struct writer	 w;
	const char	*f[] = { "1", "2", "3" };
	size_t		 l[] = { 1, 1, 1 };
	char		 path[PATH_MAX];
	int		 fd;

	tu_path(path, t->dir, "full");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	writes_left = 0;
	max_chunk = 1 << 30;
	q_seams.write = limited_write;
	assert_int_equal(writer_begin(&w, FMT_CSV, fd, columns, 3, 0), 0);
	assert_int_equal(writer_row(&w, f, l), 0);	/* still buffered */
	assert_int_equal(writer_end(&w), -1);
	assert_int_equal(w.failed, ENOSPC);
	/* A failed writer stays failed. */
	assert_int_equal(writer_row(&w, f, l), -1);
	assert_int_equal(writer_end(&w), -1);
	writer_free(&w);
	close(fd);
}

static void
test_disk_full_mid_file(void **state)
{
	struct tu	*t = *state;
	struct writer	 w;
	char		*big;
	const char	*f[3];
	size_t		 l[3], i;
	char		 path[PATH_MAX];
	int		 fd, rc = 0;

	big = malloc(4096);
	assert_non_null(big);
	memset(big, 'x', 4096);
	f[0] = f[1] = f[2] = big;
	l[0] = l[1] = l[2] = 4096;
	tu_path(path, t->dir, "full");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	/* The first flush half succeeds, then the disk is full. */
	writes_left = 1;
	max_chunk = WRITER_BUF / 2;
	q_seams.write = limited_write;
	assert_int_equal(writer_begin(&w, FMT_JSON, fd, columns, 3, 0), 0);
	for (i = 0; i < 1000 && rc == 0; i++)
		rc = writer_row(&w, f, l);
	assert_int_equal(rc, -1);
	assert_true(i < 100);	/* failed at the first flush */
	assert_int_equal(w.failed, ENOSPC);
	assert_true(w.bytes == 0);
	assert_int_equal(writer_end(&w), -1);
	writer_free(&w);
	close(fd);
	free(big);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(fmt_content_type(FMT_CSV),
	    "text/csv; charset=utf-8");
	assert_string_equal(fmt_content_type(FMT_TSV),
	    "text/tab-separated-values; charset=utf-8");
	assert_string_equal(fmt_content_type(FMT_JSON), "application/json");
	assert_string_equal(fmt_content_type(FMT_XML), "application/xml");
	assert_string_equal(fmt_extension(FMT_TSV), "tsv");
}

/* Controls XML 1.0 cannot hold become U+FFFD; tab and LF stay. */
static void
test_xml_controls(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	xml_escape(&b, "a\001b\tc\nd\re<", 10);
	assert_string_equal(buf_str(&b), "a\xef\xbf\xbd" "b\tc\nd&#13;e&lt;");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_csv),
		TU_TEST(test_tsv),
		TU_TEST(test_json),
		TU_TEST(test_xml),
		TU_TEST(test_xml_tag_names),
		TU_TEST(test_typed_values),
		TU_TEST(test_formula_guard),
		TU_TEST(test_short_writes),
		TU_TEST(test_disk_full_at_end),
		TU_TEST(test_disk_full_mid_file),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_xml_controls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
