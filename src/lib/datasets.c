/*
 * Datasets: named tables imported from CSV.
 *
 * Record 'D' version 1 (key tenant NUL name): tenant, name, uid, created,
 * nrows, ncolumns, then each column name.  Rows live in T_ROWS under
 * uid + be64(number of the record's first row).  Record 'R' version 2, a
 * block of consecutive rows (what imports write): varint nfields, varint
 * nrows, then for each row each field as varint length + bytes, the block
 * closed once it holds about BLOCK_BYTES.  Record 'R' version 1, one row
 * (older imports, still read): u64 nfields, then each field as a str.
 * Varints are unsigned LEB128 (7 bits a byte, low first).
 *
 * An import writes its rows under a fresh uid in batches, then publishes
 * the dataset record in one transaction; until then no reader sees them.
 * A replaced dataset's old rows are deleted after the switch.
 */
#include <stdlib.h>
#include <string.h>

#include "quarry/csv.h"
#include "quarry/log.h"
#include "quarry/model.h"
#include "quarry/rec.h"
#include "quarry/seams.h"
#include "records.h"

#define DATASET_V	1
#define ROW_V1		1	/* one row a record */
#define ROW_V		2	/* a block of rows a record */
#define BATCH_ROWS	5000
#define BLOCK_BYTES	4000	/* about one 4 KB overflow page a block */
#define COLUMN_NAME_MAX	256

void
dataset_free(struct dataset *d)
{
	size_t i;

	for (i = 0; i < d->ncolumns; i++)
		free(d->columns[i]);
	free(d->columns);
	d->columns = NULL;
	d->ncolumns = 0;
}

static void
dataset_key(struct buf *k, const char *tenant, const char *name)
{
	buf_reset(k);
	buf_adds(k, tenant);
	buf_addc(k, '\0');
	buf_adds(k, name);
}

static void
dataset_encode(struct buf *b, const struct dataset *d)
{
	size_t i;

	rec_begin(b, 'D', DATASET_V);
	rec_str(b, d->tenant);
	rec_str(b, d->name);
	rec_str(b, d->uid);
	rec_u64(b, (uint64_t)d->created);
	rec_u64(b, d->nrows);
	rec_u64(b, d->ncolumns);
	for (i = 0; i < d->ncolumns; i++)
		rec_str(b, d->columns[i]);
}

enum qerr
dataset_decode(const void *p, size_t n, struct dataset *d)
{
	struct rec_reader	r;
	uint64_t		nc, i;

	memset(d, 0, sizeof(*d));
	rec_open(&r, p, n, 'D');
	if (r.version != DATASET_V)
		return Q_STORE;
	rec_get_strn(&r, d->tenant, sizeof(d->tenant));
	rec_get_strn(&r, d->name, sizeof(d->name));
	rec_get_strn(&r, d->uid, sizeof(d->uid));
	d->created = (time_t)rec_get_u64(&r);
	d->nrows = rec_get_u64(&r);
	nc = rec_get_u64(&r);
	if (r.err || nc == 0 || nc > DATASET_MAX_COLUMNS)
		return Q_STORE;
	if ((d->columns = calloc(nc, sizeof(char *))) == NULL)
		return Q_NOMEM;
	for (i = 0; i < nc && !r.err; i++) {
		d->columns[i] = rec_get_str(&r);
		d->ncolumns++;
	}
	if (r.err) {
		dataset_free(d);
		return Q_STORE;
	}
	return Q_OK;
}

/* ---- import ---- */

struct import {
	struct store	*s;
	struct dataset	 d;
	struct buf	 batch;		/* encoded (key, value) pairs */
	size_t		 nbatch;	/* rows in batch and block */
	struct buf	 block;		/* rows of the open block */
	struct buf	 row;		/* scratch: one row's fields */
	struct buf	 rec;		/* scratch: one block's record */
	uint64_t	 block_first;	/* number of the block's first row */
	uint64_t	 block_rows;
	int		 header_done;
	enum qerr	 e;
	char		*err;
	size_t		 errlen;
};

static enum qerr
tx_put_batch(struct stx *tx, void *arg)
{
	struct import		*im = arg;
	struct rec_reader	 r;
	const char		*k, *v;
	size_t			 kl, vl;
	enum qerr		 e;

	r.p = (const unsigned char *)im->batch.data;
	r.n = im->batch.len;
	r.err = 0;
	while (r.n > 0) {
		k = rec_get_ref(&r, &kl);
		v = rec_get_ref(&r, &vl);
		if (r.err)
			return Q_STORE;
		if ((e = stx_put(tx, T_ROWS, k, kl, v, vl)) != Q_OK)
			return e;
	}
	return Q_OK;
}

/* Appends v as an unsigned LEB128 varint. */
static void
put_varint(struct buf *b, uint64_t v)
{
	unsigned char	t[10];
	size_t		n = 0;

	do {
		t[n] = v & 0x7f;
		v >>= 7;
		if (v != 0)
			t[n] |= 0x80;
		n++;
	} while (v != 0);
	buf_add(b, t, n);
}

/* Reads a varint at *p (before end); -1 if it is cut short or too long. */
static int
get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	unsigned	shift = 0;
	uint64_t	x = 0;

	while (*p < end && shift < 64) {
		x |= (uint64_t)(**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0) {
			*v = x;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

/* Moves the open block, as one record under its first row, to the batch. */
static void
close_block(struct import *im)
{
	unsigned char key[ID_LEN + 8];

	if (im->block_rows == 0)
		return;
	memcpy(key, im->d.uid, ID_LEN);
	be64_put(key + ID_LEN, im->block_first);
	rec_begin(&im->rec, 'R', ROW_V);
	put_varint(&im->rec, im->d.ncolumns);
	put_varint(&im->rec, im->block_rows);
	buf_add(&im->rec, im->block.data, im->block.len);
	if (im->block.oom)
		im->rec.oom = 1;
	rec_bytes(&im->batch, key, sizeof(key));
	rec_bytes(&im->batch, im->rec.data, im->rec.len);
	if (im->rec.oom)
		im->batch.oom = 1;
	buf_reset(&im->block);
	im->block_rows = 0;
}

static int
flush_batch(struct import *im)
{
	close_block(im);
	if (im->nbatch == 0)
		return 0;
	if (im->batch.oom)
		im->e = Q_NOMEM;
	else
		im->e = store_txn(im->s, tx_put_batch, im);
	buf_reset(&im->batch);
	im->nbatch = 0;
	if (im->e != Q_OK) {
		snprintf(im->err, im->errlen, "writing rows: %s",
		    qerr_str(im->e));
		return -1;
	}
	return 0;
}

static int
import_record(char **fields, size_t *lens, size_t n, unsigned long line,
    void *arg)
{
	struct import	*im = arg;
	size_t		 i, j;

	if (!im->header_done) {
		if ((im->d.columns = calloc(n, sizeof(char *))) == NULL)
			goto nomem;
		for (i = 0; i < n; i++) {
			if (lens[i] == 0 || lens[i] > COLUMN_NAME_MAX) {
				snprintf(im->err, im->errlen, "line %lu: "
				    "column %zu: a column name must have 1 "
				    "to %d bytes", line, i + 1,
				    COLUMN_NAME_MAX);
				goto invalid;
			}
			for (j = 0; j < i; j++)
				if (strcmp(fields[i], fields[j]) == 0) {
					snprintf(im->err, im->errlen,
					    "line %lu: duplicate column "
					    "name '%s'", line, fields[i]);
					goto invalid;
				}
			if ((im->d.columns[i] = strdup(fields[i])) == NULL)
				goto nomem;
			im->d.ncolumns++;
		}
		im->header_done = 1;
		return 0;
	}
	if (n == 1 && lens[0] == 0 && im->d.ncolumns > 1)
		return 0;	/* a blank line */
	if (n != im->d.ncolumns) {
		snprintf(im->err, im->errlen, "line %lu: expected %zu fields, "
		    "found %zu", line, im->d.ncolumns, n);
		goto invalid;
	}
	buf_reset(&im->row);
	for (i = 0; i < n; i++) {
		put_varint(&im->row, lens[i]);
		buf_add(&im->row, fields[i], lens[i]);
	}
	if (im->row.oom)
		goto nomem;
	if (im->block_rows > 0 && im->block.len + im->row.len > BLOCK_BYTES)
		close_block(im);
	if (im->block_rows++ == 0)
		im->block_first = im->d.nrows;
	buf_add(&im->block, im->row.data, im->row.len);
	im->d.nrows++;
	if (++im->nbatch >= BATCH_ROWS && flush_batch(im) != 0)
		return -1;
	return 0;
nomem:
	snprintf(im->err, im->errlen, "out of memory");
	im->e = Q_NOMEM;
	return -1;
invalid:
	im->e = Q_INVALID;
	return -1;
}

struct rows_delete {
	const char	*uid;
	enum table	 t;
	struct buf	 keys;
	size_t		 n;
};

static int
collect_row_key(const void *k, size_t kl, const void *v, size_t vl,
    void *arg)
{
	struct rows_delete *rd = arg;

	(void)v;
	(void)vl;
	rec_bytes(&rd->keys, k, kl);
	return ++rd->n >= BATCH_ROWS ? VISIT_STOP : VISIT_NEXT;
}

static enum qerr
tx_delete_rows(struct stx *tx, void *arg)
{
	struct rows_delete	*rd = arg;
	struct rec_reader	 r;
	const char		*k;
	size_t			 kl;
	enum qerr		 e;

	buf_reset(&rd->keys);
	rd->n = 0;
	if ((e = stx_scan(tx, rd->t, rd->uid, ID_LEN, NULL, 0,
	    collect_row_key, rd)) != Q_OK)
		return e;
	if (rd->keys.oom)
		return Q_NOMEM;
	r.p = (const unsigned char *)rd->keys.data;
	r.n = rd->keys.len;
	r.err = 0;
	while (r.n > 0) {
		k = rec_get_ref(&r, &kl);
		if (r.err)
			return Q_STORE;
		if ((e = stx_del(tx, rd->t, k, kl)) != Q_OK)
			return e;
	}
	return Q_OK;
}

/* Deletes every row stored under uid, in batches (older stores too). */
static enum qerr
delete_rows(struct store *s, const char *uid)
{
	struct rows_delete	rd = { uid, T_ROWS, BUF_INIT, 0 };
	enum qerr		e;

	do {
		e = store_txn(s, tx_delete_rows, &rd);
	} while (e == Q_OK && rd.n > 0);
	rd.t = T_ROWS_OLD;
	while (e == Q_OK) {
		e = store_txn(s, tx_delete_rows, &rd);
		if (rd.n == 0)
			break;
	}
	buf_free(&rd.keys);
	return e;
}

struct publish {
	const struct dataset	*d;
	int			 replace;
	char			 old_uid[ID_LEN + 1];
};

static enum qerr
tx_publish(struct stx *tx, void *arg)
{
	struct publish	*p = arg;
	struct buf	 k = BUF_INIT, v = BUF_INIT;
	struct dataset	 old;
	enum qerr	 e;

	p->old_uid[0] = '\0';
	dataset_key(&k, p->d->tenant, p->d->name);
	e = stx_get(tx, T_DATASETS, k.data, k.len, &v);
	if (e == Q_OK) {
		if (!p->replace) {
			e = Q_EXISTS;
			goto out;
		}
		if ((e = dataset_decode(v.data, v.len, &old)) != Q_OK)
			goto out;
		memcpy(p->old_uid, old.uid, sizeof(old.uid));
		dataset_free(&old);
	} else if (e != Q_NOTFOUND)
		goto out;
	dataset_encode(&v, p->d);
	e = v.oom || k.oom ? Q_NOMEM :
	    stx_put(tx, T_DATASETS, k.data, k.len, v.data, v.len);
out:
	buf_free(&k);
	buf_free(&v);
	return e;
}

/* Imports CSV as dataset tenant/name (see model.h). */
enum qerr
dataset_import(struct store *s, const char *tenant, const char *name,
    FILE *in, int replace, char *err, size_t errlen)
{
	struct import		im;
	struct csv_reader	r;
	struct publish		pub;
	struct dataset		existing;
	enum qerr		e;
	int			rc;

	if (!name_valid(tenant) || !name_valid(name)) {
		snprintf(err, errlen, "tenant and dataset names are 1 to 32 "
		    "of a-z, 0-9, '_' and '-'");
		return Q_INVALID;
	}
	if (!replace && dataset_get(s, tenant, name, &existing) == Q_OK) {
		dataset_free(&existing);
		snprintf(err, errlen, "dataset %s already exists (use "
		    "--replace)", name);
		return Q_EXISTS;
	}
	memset(&im, 0, sizeof(im));
	im.s = s;
	im.err = err;
	im.errlen = errlen;
	snprintf(im.d.tenant, sizeof(im.d.tenant), "%s", tenant);
	snprintf(im.d.name, sizeof(im.d.name), "%s", name);
	im.d.created = q_seams.now();
	if ((e = id_new(im.d.uid)) != Q_OK)
		return e;
	csv_reader_init(&r, ',', import_record, &im);
	rc = csv_read_stream(&r, in);
	if (rc == -1 && r.failed) {
		snprintf(err, errlen, "%s", r.err);
		e = Q_INVALID;
	} else if (rc != 0)
		e = im.e != Q_OK ? im.e : Q_INVALID;
	else if (!im.header_done) {
		snprintf(err, errlen, "line 1: no header row");
		e = Q_INVALID;
	} else if (flush_batch(&im) != 0)
		e = im.e;
	else {
		pub.d = &im.d;
		pub.replace = replace;
		e = store_txn(s, tx_publish, &pub);
		if (e == Q_EXISTS)
			snprintf(err, errlen, "dataset %s already exists",
			    name);
		else if (e != Q_OK)
			snprintf(err, errlen, "publishing: %s", qerr_str(e));
	}
	csv_reader_free(&r);
	buf_free(&im.batch);
	buf_free(&im.block);
	buf_free(&im.row);
	buf_free(&im.rec);
	if (e != Q_OK) {
		if (delete_rows(s, im.d.uid) != Q_OK)
			qlog(LOG_WARN, "dataset %s/%s: rows of a failed import "
			    "under %s remain", tenant, name, im.d.uid);
	} else if (pub.old_uid[0] != '\0' && delete_rows(s, pub.old_uid) !=
	    Q_OK)
		qlog(LOG_WARN, "dataset %s/%s: old rows under %s remain",
		    tenant, name, pub.old_uid);
	dataset_free(&im.d);
	return e;
}

/* ---- lookups ---- */

struct dataset_find {
	const char	*tenant;
	const char	*name;
	struct dataset	*d;
};

static enum qerr
tx_dataset_get(struct stx *tx, void *arg)
{
	struct dataset_find	*f = arg;
	struct buf		 k = BUF_INIT, v = BUF_INIT;
	enum qerr		 e;

	dataset_key(&k, f->tenant, f->name);
	if ((e = stx_get(tx, T_DATASETS, k.data, k.len, &v)) == Q_OK)
		e = dataset_decode(v.data, v.len, f->d);
	buf_free(&k);
	buf_free(&v);
	return e;
}

enum qerr
dataset_get(struct store *s, const char *tenant, const char *name,
    struct dataset *out)
{
	struct dataset_find f = { tenant, name, out };

	memset(out, 0, sizeof(*out));
	if (!name_valid(tenant) || !name_valid(name))
		return Q_NOTFOUND;
	return store_txn(s, tx_dataset_get, &f);
}

static enum qerr
tx_dataset_rm(struct stx *tx, void *arg)
{
	struct dataset_find	*f = arg;
	struct buf		 k = BUF_INIT;
	enum qerr		 e;

	dataset_key(&k, f->tenant, f->name);
	if ((e = tx_dataset_get(tx, arg)) == Q_OK) {
		e = stx_del(tx, T_DATASETS, k.data, k.len);
		if (e != Q_OK)
			dataset_free(f->d);
	}
	buf_free(&k);
	return e;
}

enum qerr
dataset_rm(struct store *s, const char *tenant, const char *name)
{
	struct dataset		d;
	struct dataset_find	f = { tenant, name, &d };
	enum qerr		e;

	if (!name_valid(tenant) || !name_valid(name))
		return Q_NOTFOUND;
	if ((e = store_txn(s, tx_dataset_rm, &f)) != Q_OK)
		return e;
	e = delete_rows(s, d.uid);
	dataset_free(&d);
	return e;
}

struct dataset_listing {
	const char	*tenant;
	dataset_cb	 cb;
	void		*arg;
};

static int
scan_dataset(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct dataset_listing	*l = arg;
	struct dataset		 d;
	int			 rc;

	(void)k;
	(void)kl;
	if (dataset_decode(v, vl, &d) != Q_OK)
		return Q_STORE;
	rc = l->cb(&d, l->arg);
	dataset_free(&d);
	return rc;
}

static enum qerr
tx_dataset_list(struct stx *tx, void *arg)
{
	struct dataset_listing	*l = arg;
	struct buf		 p = BUF_INIT;
	enum qerr		 e;

	if (l->tenant != NULL) {
		buf_adds(&p, l->tenant);
		buf_addc(&p, '\0');
	}
	e = stx_scan(tx, T_DATASETS, p.data ? p.data : "", p.len, NULL, 0,
	    scan_dataset, l);
	buf_free(&p);
	return e;
}

enum qerr
dataset_list(struct store *s, const char *tenant, dataset_cb cb, void *arg)
{
	struct dataset_listing l = { tenant, cb, arg };

	return store_txn(s, tx_dataset_list, &l);
}

/* ---- reading rows ---- */

struct row_scan {
	const struct dataset	*d;
	row_cb			 fn;
	void			*arg;
	const char		**fields;
	size_t			*lens;
	uint64_t		 seen;
};

/* A version 1 record: one row. */
static int
scan_row_v1(struct row_scan *rs, struct rec_reader *r)
{
	uint64_t n, i;

	n = rec_get_u64(r);
	if (r->err || n != rs->d->ncolumns)
		return Q_STORE;
	for (i = 0; i < n; i++)
		rs->fields[i] = rec_get_ref(r, &rs->lens[i]);
	if (r->err)
		return Q_STORE;
	rs->seen++;
	return rs->fn(rs->fields, rs->lens, (size_t)n, rs->arg);
}

/* A version 2 record: a block of rows, each passed to fn in turn. */
static int
scan_block(struct row_scan *rs, const unsigned char *p,
    const unsigned char *end)
{
	uint64_t	nf, nr, len, i, j;
	int		rc;

	if (get_varint(&p, end, &nf) != 0 || nf != rs->d->ncolumns ||
	    get_varint(&p, end, &nr) != 0 || nr == 0)
		return Q_STORE;
	for (j = 0; j < nr; j++) {
		for (i = 0; i < nf; i++) {
			if (get_varint(&p, end, &len) != 0 ||
			    len > (uint64_t)(end - p))
				return Q_STORE;
			rs->fields[i] = (const char *)p;
			rs->lens[i] = (size_t)len;
			p += len;
		}
		rs->seen++;
		if ((rc = rs->fn(rs->fields, rs->lens, (size_t)nf,
		    rs->arg)) != 0)
			return rc;
	}
	return p == end ? 0 : Q_STORE;
}

static int
scan_row(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct row_scan		*rs = arg;
	struct rec_reader	 r;

	(void)k;
	(void)kl;
	rec_open(&r, v, vl, 'R');
	if (r.err)
		return Q_STORE;
	if (r.version == ROW_V1)
		return scan_row_v1(rs, &r);
	if (r.version == ROW_V)
		return scan_block(rs, r.p, r.p + r.n);
	return Q_STORE;
}

/*
 * Calls fn with each row in import order.  Fields point into the store's
 * memory and are not NUL-terminated; they live until fn returns.  A
 * dataset replaced during the scan is reported as Q_RETRY.
 */
enum qerr
dataset_scan(struct store *s, const struct dataset *d, row_cb fn, void *arg)
{
	struct row_scan	rs;
	enum qerr	e;

	memset(&rs, 0, sizeof(rs));
	rs.d = d;
	rs.fn = fn;
	rs.arg = arg;
	rs.fields = calloc(d->ncolumns, sizeof(char *));
	rs.lens = calloc(d->ncolumns, sizeof(size_t));
	if (rs.fields == NULL || rs.lens == NULL)
		e = Q_NOMEM;
	else
		e = store_scan(s, T_ROWS, d->uid, ID_LEN, scan_row, &rs);
	/* Rows imported before T_ROWS had its own file. */
	if (e == Q_OK && rs.seen == 0 && d->nrows > 0)
		e = store_scan(s, T_ROWS_OLD, d->uid, ID_LEN, scan_row, &rs);
	if (e == Q_OK && rs.seen != d->nrows)
		e = Q_RETRY;
	free(rs.fields);
	free(rs.lens);
	return e;
}
