/*
 * Row sources and the row pipeline they write through.
 *
 * A source (a dataset, an extractor program) knows its columns only once
 * it has started; it then opens the pipeline with them, hands it every
 * row, and ends it.  The pipeline is the one place where a definition's
 * filters and column selection apply, where rows are encoded by a writer
 * in the job's format, where output is split into parts of rows_per_file
 * rows, and where progress is reported (so cancel reaches every source).
 */
#ifndef QUARRY_SOURCE_H
#define QUARRY_SOURCE_H

#include "quarry/build.h"
#include "quarry/format.h"
#include "quarry/params.h"

/*
 * Where the parts of a split build go.  open returns the descriptor of
 * part n (1-based), or -1 with errno set; close fsyncs and closes it
 * (0, or -1 with errno set).
 */
struct part_sink {
	int	(*open)(void *arg, unsigned n);
	int	(*close)(void *arg, unsigned n, int fd);
	void	*arg;
};

struct rowpipe {
	/* Set by the caller before the source runs. */
	enum fmt		 fmt;
	int			 fd;		/* the output, when not split */
	uint64_t		 rows_per_file;	/* 0 = one file */
	const struct part_sink	*sink;		/* the parts, when split */
	progress_fn		 pf;
	void			*parg;
	/* Kept by the pipeline. */
	struct writer		 w;
	struct filter_set	 fs;
	char			**cols;		/* output column names */
	size_t			*pick;		/* source index per output col */
	size_t			 nout;
	const char		**out;
	size_t			*outlen;
	int			 guard;		/* the definition's formula_guard */
	int			 begun;
	unsigned		 part;		/* current part (1-based), 0 none */
	int			 part_fd;
	uint64_t		 rows;		/* rows written, all parts */
	uint64_t		 done_bytes;	/* bytes of finished parts */
	uint64_t		 seen;		/* source rows taken, kept or not */
	int64_t			 last_report;	/* ms (monotonic), last progress */
	int			 stopped;	/* the progress callback said stop */
	int			 failed;	/* errno of a failed write */
};

/* Clears p and sets where its output goes. */
void	 rowpipe_init(struct rowpipe *p, enum fmt f, int fd,
	     uint64_t rows_per_file, const struct part_sink *sink,
	     progress_fn pf, void *parg);
/*
 * Opens the pipeline for a source with these columns (copied): selects
 * d's columns (every column if d names none), compiles d's filters with
 * the job's canonical params, and starts the first file.  what names the
 * source in errors ("dataset 'x'").  Q_INVALID with detail on a column or
 * filter the source cannot serve; Q_IO if the first write fails.
 */
enum qerr rowpipe_begin(struct rowpipe *p, const struct definition *d,
	      char *const *columns, size_t ncolumns, const char *params,
	      const char *what, char *detail, size_t detaillen);
/*
 * Takes one source row (as many fields as columns; fields need not be
 * NUL-terminated).  Returns 0 to go on, Q_IO when a write failed, or 1
 * when the progress callback asked to stop (p->stopped is then set).
 * Calls the progress callback once PROGRESS_MS have passed since the last
 * report, looking at the clock every 64 source rows whether the filters
 * keep them or not.  Its signature is a row_cb's, with the pipeline as
 * argument.
 */
int	 rowpipe_row(const char *const *fields, const size_t *lens, size_t n,
	     void *p);
/* Reports progress now (a source waiting for input); non-zero = stop. */
int	 rowpipe_progress(struct rowpipe *p);
/* Ends the last file (trailer, flush, part closed): Q_OK or Q_IO. */
enum qerr rowpipe_end(struct rowpipe *p);
/* Bytes written so far, over all parts. */
uint64_t rowpipe_bytes(const struct rowpipe *p);
/* Frees what the pipeline holds; an unfinished part is closed. */
void	 rowpipe_free(struct rowpipe *p);

/* The dataset source; detail in res on failure. */
enum qerr source_dataset(struct store *s, const struct definition *d,
	      const char *params, struct rowpipe *p, struct build_result *res);

/*
 * The extractor program source (SPEC section 3, docs/extractors.md): runs
 * d's command from c->extractors_dir and reads its CSV.  On failure res
 * says why (the tail of its stderr for a failed run) and res->retry is set
 * for exit status 75.  Q_STATE when the progress callback stopped it; the
 * program's whole process group is then killed and reaped.
 */
enum qerr source_command(const struct conf *c, const struct definition *d,
	      const char *params, struct rowpipe *p, struct build_result *res);

#endif
