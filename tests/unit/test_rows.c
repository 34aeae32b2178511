/*
 * Dataset rows in the store (docs/store.md): imports write blocks of rows
 * (record 'R' version 2) that read back in order whatever their number
 * and size; rows an older version wrote one a record ('R' version 1) are
 * still read; a damaged block is an error, never a crash.
 */
#include "testutil.h"

#include "quarry/model.h"
#include "quarry/rec.h"

static enum qerr
import_buf(struct store *s, const char *name, const struct buf *b)
{
	FILE		*f;
	char		 err[256];
	enum qerr	 e;

	f = fmemopen(b->data, b->len, "r");
	assert_non_null(f);
	e = dataset_import(s, "acme", name, f, 0, err, sizeof(err));
	fclose(f);
	if (e != Q_OK)
		fail_msg("import: %s", err);
	return e;
}

/* Rows seen by a scan, re-encoded as "f1|f2|...\n". */
static int
collect(const char *const *fields, const size_t *lens, size_t n, void *arg)
{
	struct buf	*b = arg;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(b, '|');
		buf_add(b, fields[i], lens[i]);
	}
	buf_addc(b, '\n');
	return 0;
}

static int
count_records(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	++*(int *)arg;
	return 0;
}

/* Many rows of varied sizes (one larger than a block) round-trip. */
static void
test_blocks_round_trip(void **state)
{
	struct tu	*t = *state;
	struct buf	 csv = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	struct dataset	 d;
	int		 i, j, records = 0;

	buf_adds(&csv, "id,text,empty\n");
	for (i = 0; i < 20000; i++) {
		buf_printf(&csv, "%d,", i);
		buf_printf(&want, "%d|", i);
		for (j = 0; j < (i == 777 ? 9000 : i % 300); j++) {
			buf_addc(&csv, (char)('a' + (i + j) % 26));
			buf_addc(&want, (char)('a' + (i + j) % 26));
		}
		buf_adds(&csv, ",\n");
		buf_adds(&want, "|\n");
	}
	import_buf(t->s, "many", &csv);
	assert_int_equal(dataset_get(t->s, "acme", "many", &d), Q_OK);
	assert_true(d.nrows == 20000);
	assert_int_equal(dataset_scan(t->s, &d, collect, &got), Q_OK);
	assert_true(got.len == want.len);
	assert_memory_equal(got.data, want.data, want.len);
	/* Blocks, not rows: far fewer records than rows. */
	assert_int_equal(store_scan(t->s, T_ROWS, d.uid, ID_LEN,
	    count_records, &records), Q_OK);
	assert_true(records > 1 && records < 20000 / 10);
	dataset_free(&d);
	buf_free(&csv);
	buf_free(&want);
	buf_free(&got);
}

struct rewrite {
	const struct dataset	*d;
	int			 damage;
};

/* Replaces the dataset's rows by the records an older import wrote. */
static enum qerr
tx_rows_v1(struct stx *tx, void *arg)
{
	struct rewrite	*rw = arg;
	const char	*rows[3][2] = { { "1", "x,y" }, { "2", "" },
			    { "3", "\"q\"" } };
	unsigned char	 key[ID_LEN + 8];
	struct buf	 v = BUF_INIT;
	uint64_t	 i;
	enum qerr	 e = Q_OK;

	memcpy(key, rw->d->uid, ID_LEN);
	be64_put(key + ID_LEN, 0);
	stx_del(tx, T_ROWS, key, sizeof(key));
	for (i = 0; i < 3 && e == Q_OK; i++) {
		be64_put(key + ID_LEN, i);
		rec_begin(&v, 'R', 1);
		rec_u64(&v, rw->damage && i == 1 ? 3 : 2);
		rec_bytes(&v, rows[i][0], strlen(rows[i][0]));
		rec_bytes(&v, rows[i][1], strlen(rows[i][1]));
		e = stx_put(tx, T_ROWS, key, sizeof(key), v.data, v.len);
	}
	buf_free(&v);
	return e;
}

/* Rows of record version 1 (one row a record) are still read. */
static void
test_version_1_rows_still_read(void **state)
{
	struct tu	*t = *state;
	struct buf	 csv = BUF_INIT, got = BUF_INIT;
	struct dataset	 d;
	struct rewrite	 rw;

	buf_adds(&csv, "id,v\n1,a\n2,b\n3,c\n");
	import_buf(t->s, "old", &csv);
	assert_int_equal(dataset_get(t->s, "acme", "old", &d), Q_OK);
	rw.d = &d;
	rw.damage = 0;
	assert_int_equal(store_txn(t->s, tx_rows_v1, &rw), Q_OK);
	assert_int_equal(dataset_scan(t->s, &d, collect, &got), Q_OK);
	assert_string_equal(buf_str(&got), "1|x,y\n2|\n3|\"q\"\n");
	/* A record whose field count is wrong is an error. */
	rw.damage = 1;
	assert_int_equal(store_txn(t->s, tx_rows_v1, &rw), Q_OK);
	buf_reset(&got);
	assert_int_equal(dataset_scan(t->s, &d, collect, &got), Q_STORE);
	assert_int_equal(dataset_rm(t->s, "acme", "old"), Q_OK);
	dataset_free(&d);
	buf_free(&csv);
	buf_free(&got);
}

struct cut {
	const struct dataset	*d;
	size_t			 keep;	/* bytes of the block kept */
	size_t			 len;	/* the block's length before */
};

static int
first_key(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct buf *b = arg;

	(void)kl;
	rec_bytes(b, k, ID_LEN + 8);
	rec_bytes(b, v, vl);
	return VISIT_STOP;
}

static enum qerr
tx_cut_block(struct stx *tx, void *arg)
{
	struct cut		*c = arg;
	struct buf		 b = BUF_INIT;
	struct rec_reader	 r;
	const char		*k, *v;
	size_t			 kl, vl;
	enum qerr		 e;

	if ((e = stx_scan(tx, T_ROWS, c->d->uid, ID_LEN, NULL, 0, first_key,
	    &b)) != Q_OK)
		goto out;
	r.p = (const unsigned char *)b.data;
	r.n = b.len;
	r.err = 0;
	k = rec_get_ref(&r, &kl);
	v = rec_get_ref(&r, &vl);
	if (r.err) {
		e = Q_STORE;
		goto out;
	}
	c->len = vl;
	if (c->keep < vl)
		e = stx_put(tx, T_ROWS, k, kl, v, c->keep);
out:
	buf_free(&b);
	return e;
}

/* A block cut short anywhere is Q_STORE. */
static void
test_damaged_block(void **state)
{
	struct tu	*t = *state;
	struct buf	 csv = BUF_INIT, got = BUF_INIT;
	struct dataset	 d;
	struct cut	 c;
	size_t		 keep;

	buf_adds(&csv, "id,v\n1,abc\n2,de\n");
	import_buf(t->s, "cut", &csv);
	assert_int_equal(dataset_get(t->s, "acme", "cut", &d), Q_OK);
	c.d = &d;
	c.keep = SIZE_MAX;
	assert_int_equal(store_txn(t->s, tx_cut_block, &c), Q_OK);
	/* 'R', 2, nfields, nrows, then each field's length and bytes. */
	assert_int_equal(c.len, 4 + 6 + 5);
	for (keep = c.len - 1; keep >= 2; keep--) {
		c.keep = keep;
		assert_int_equal(store_txn(t->s, tx_cut_block, &c), Q_OK);
		buf_reset(&got);
		if (dataset_scan(t->s, &d, collect, &got) != Q_STORE)
			fail_msg("a block cut to %zu bytes was read", keep);
	}
	dataset_free(&d);
	buf_free(&csv);
	buf_free(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_blocks_round_trip),
		TU_STORE_TEST(test_version_1_rows_still_read),
		TU_STORE_TEST(test_damaged_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
