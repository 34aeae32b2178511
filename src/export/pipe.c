/*
 * The export pipeline, stage 2: the pipe every source writes through
 * (see export.h): filters,
 * column selection, the writer, split parts and progress.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "quarry/export.h"
#include "quarry/format.h"
#include "quarry/params.h"
#include "quarry/export.h"

/* Source rows between two looks at the clock (a power of two). */
#define CLOCK_EVERY	64

/* Clears p and sets where its output goes. */
void
rowpipe_init(struct rowpipe *p, enum fmt f, int fd, uint64_t rows_per_file,
    const struct part_sink *sink, progress_fn pf, void *parg)
{
	memset(p, 0, sizeof(*p));
	p->fmt = f;
	p->fd = fd;
	p->rows_per_file = sink != NULL ? rows_per_file : 0;
	p->sink = sink;
	p->pf = pf;
	p->parg = parg;
	p->part_fd = -1;
	p->last_report = mono_ms();
}

/* Opens the next part (or the one file) and writes its header. */
static int
start_file(struct rowpipe *p)
{
	int fd = p->fd;

	if (p->rows_per_file > 0) {
		if ((fd = p->sink->open(p->sink->arg, p->part + 1)) < 0) {
			p->failed = errno ? errno : EIO;
			return -1;
		}
		p->part++;
		p->part_fd = fd;
	}
	writer_free(&p->w);
	if (writer_begin(&p->w, p->fmt, fd, p->cols, p->nout,
	    (p->guard ? WRITER_GUARD : 0) | (p->typed ? WRITER_TYPED : 0)) !=
	    0) {
		p->failed = p->w.failed;
		return -1;
	}
	return 0;
}

/* Ends the current file: trailer, flush, and the part closed. */
static int
end_file(struct rowpipe *p)
{
	int fd;

	if (writer_end(&p->w) != 0) {
		p->failed = p->w.failed;
		return -1;
	}
	p->done_bytes += p->w.bytes;
	p->w.bytes = 0;
	if (p->part_fd >= 0) {
		fd = p->part_fd;
		p->part_fd = -1;
		if (p->sink->close(p->sink->arg, p->part, fd) != 0) {
			p->failed = errno ? errno : EIO;
			return -1;
		}
	}
	return 0;
}

/* Opens the pipeline for a source's columns (see source.h). */
enum qerr
rowpipe_begin(struct rowpipe *p, const struct definition *d,
    char *const *columns, size_t ncolumns, const char *params,
    const char *what, char *detail, size_t detaillen)
{
	char *const	*want;
	size_t		 i, j, n;
	enum qerr	 e;

	n = d->ncolumns ? d->ncolumns : ncolumns;
	want = d->ncolumns ? d->columns : columns;
	p->guard = d->formula_guard;
	p->cols = calloc(n ? n : 1, sizeof(char *));
	p->pick = calloc(n ? n : 1, sizeof(size_t));
	p->out = calloc(n ? n : 1, sizeof(char *));
	p->outlen = calloc(n ? n : 1, sizeof(size_t));
	p->outtypes = calloc(n ? n : 1, sizeof(enum vtype));
	if (p->cols == NULL || p->pick == NULL || p->out == NULL ||
	    p->outlen == NULL || p->outtypes == NULL)
		return Q_NOMEM;
	for (i = 0; i < n; i++) {
		for (j = 0; j < ncolumns; j++)
			if (strcmp(want[i], columns[j]) == 0)
				break;
		if (j == ncolumns) {
			snprintf(detail, detaillen, "column '%s' is not in %s",
			    want[i], what);
			return Q_INVALID;
		}
		if ((p->cols[i] = strdup(want[i])) == NULL)
			return Q_NOMEM;
		p->nout = i + 1;
		p->pick[i] = j;
	}
	if ((e = filters_compile(d, columns, ncolumns, params, &p->fs, detail,
	    detaillen)) != Q_OK)
		return e;
	p->begun = 1;
	return start_file(p) == 0 ? Q_OK : Q_IO;
}

/* Reports progress now; non-zero = stop. */
int
rowpipe_progress(struct rowpipe *p)
{
	int	pm = -1;

	p->last_report = mono_ms();
	if (p->total > 0)
		pm = p->seen >= p->total ? 1000 :
		    (int)(p->seen * 1000 / p->total);
	if (p->pf != NULL &&
	    p->pf(p->parg, p->rows, rowpipe_bytes(p), pm) != 0)
		p->stopped = 1;
	return p->stopped;
}

/* Takes one source row (see source.h). */
int
rowpipe_row(const char *const *fields, const size_t *lens, size_t n,
    void *arg)
{
	struct rowpipe	*p = arg;
	size_t		 i;

	(void)n;
	/*
	 * Progress goes by time, not by rows written: a build whose filters
	 * drop nearly every row still reports (and renews its lease).
	 */
	if ((++p->seen & (CLOCK_EVERY - 1)) == 0 &&
	    mono_ms() - p->last_report >= PROGRESS_MS && rowpipe_progress(p))
		return VISIT_STOP;
	if (!filters_match(&p->fs, fields, lens))
		return 0;
	if (p->rows_per_file > 0 && p->w.rows == p->rows_per_file &&
	    (end_file(p) != 0 || start_file(p) != 0))
		return Q_IO;
	for (i = 0; i < p->nout; i++) {
		p->out[i] = fields[p->pick[i]];
		p->outlen[i] = lens[p->pick[i]];
	}
	if (p->types != NULL) {
		for (i = 0; i < p->nout; i++)
			p->outtypes[i] = p->types[p->pick[i]];
		p->w.types = p->outtypes;
	} else
		p->w.types = NULL;
	if (writer_row(&p->w, p->out, p->outlen) != 0) {
		p->failed = p->w.failed;
		return Q_IO;
	}
	p->rows++;
	return 0;
}

/* Ends the last file. */
enum qerr
rowpipe_end(struct rowpipe *p)
{
	return end_file(p) == 0 ? Q_OK : Q_IO;
}

/* Bytes written so far, over all parts. */
uint64_t
rowpipe_bytes(const struct rowpipe *p)
{
	return p->done_bytes + p->w.bytes;
}

/* Frees what the pipeline holds. */
void
rowpipe_free(struct rowpipe *p)
{
	size_t i;

	if (p->part_fd >= 0) {
		close(p->part_fd);
		p->part_fd = -1;
	}
	writer_free(&p->w);
	filters_free(&p->fs);
	if (p->cols != NULL)
		for (i = 0; i < p->nout; i++)
			free(p->cols[i]);
	free(p->cols);
	free(p->pick);
	free(p->out);
	free(p->outlen);
	free(p->outtypes);
	p->outtypes = NULL;
	p->cols = NULL;
	p->pick = NULL;
	p->out = NULL;
	p->outlen = NULL;
	p->nout = 0;
}
