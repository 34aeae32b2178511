/*
 * The export pipeline: the one code path that turns a definition and a
 * job's parameters into a file, used by quarryd's workers and by
 * 'quarryctl export'.  Its stages, in the order the data flows, each in
 * its own file of src/export/:
 *
 *   1. sources (source.c dispatches on the definition's source):
 *      source_dataset.c (rows imported into the store) and
 *      source_command.c (an extractor program's CSV).  A source knows its
 *      columns once it has started; it opens the pipe with them, hands it
 *      every row and ends it.
 *   2. the pipe (pipe.c): the one place where the definition's filters
 *      (filter.c) and column selection apply, where output is split into
 *      parts of rows_per_file rows, and where progress is reported (so a
 *      cancel reaches every source);
 *   3. encoding (encode.c): the csv, tsv, json and xml writers;
 *   4. the atomic file (file.c): a temporary name, fsync, rename, the
 *      directory fsync'ed; the parts of a split build stored in a zip.
 *
 * A new source is a file of stage 1 and a case in source.c; a new output
 * format is a writer in encode.c and a name in enum fmt.
 */
#ifndef QUARRY_EXPORT_H
#define QUARRY_EXPORT_H

#include <sys/types.h>

#include <stdint.h>

#include "quarry/buf.h"
#include "quarry/config.h"
#include "quarry/model.h"
#include "quarry/sqltext.h"

/*
 * The build's progress: called at least every PROGRESS_MS (250 ms) while a
 * build works, whether its filters keep rows or drop them (the scheduler
 * renews the job's lease from it), and with the rows and bytes written so
 * far.  Non-zero stops the build (the build then ends with Q_CANCELLED).
 */
/*
 * A build's progress: rows and bytes written so far, and permille, how
 * much of the source has been read in thousandths when the source knows
 * its size (a dataset), else -1.  Non-zero = stop.
 */
typedef int (*progress_fn)(void *arg, uint64_t rows, uint64_t bytes,
	    int permille);
#define PROGRESS_MS	250

struct build_result {
	uint64_t rows;
	uint64_t bytes;
	int	 retry;		/* the failure is transient: try again later */
	char	 detail[512];	/* why it failed, for the job's statusDetail */
};

/* What to export: a definition, canonical parameters and a format. */
struct export_spec {
	const struct definition	*d;
	const char		*params;	/* canonical JSON object */
	enum fmt		 format;
};

/* ---- 2. the pipe: its filters (filter.c) ---- */

struct compiled_filter {
	size_t		 col;	/* index in the source's columns */
	enum fop	 op;
	enum ptype	 type;
	char		*value;
};

struct filter_set {
	struct compiled_filter	*f;
	size_t			 n;
};

/*
 * Compiles d's filters for a source with these columns and the job's
 * canonical parameters; filters whose parameter is absent are skipped.
 */
enum qerr filters_compile(const struct definition *d, char *const *columns,
	      size_t ncolumns, const char *params, struct filter_set *out,
	      char *err, size_t errlen);
int	 filters_match(const struct filter_set *fs, const char *const *fields,
	     const size_t *lens);
void	 filters_free(struct filter_set *fs);

/* ---- 3. encoding (encode.c); declared before the pipe that holds one ---- */

/*
 * Streaming file writers: csv (RFC 4180, CRLF, header row), tsv (header
 * row, LF, backslash escapes), json (an array of objects) and xml (rows of
 * elements named by column).  Each buffers at most WRITER_BUF bytes and
 * writes through the write seam; memory does not grow with the rows.
 *
 * Values are text, unless a source knows their types (a SQL source,
 * docs/sources.md): then a row comes with a vtype per field, and a NULL
 * value is a NULL field pointer.  csv and tsv write every value as its
 * text and NULL as an empty field; json writes VT_NUMBER as a number
 * (when its text is one), VT_BOOL as true or false and NULL as null; xml
 * marks NULL with xsi:nil="true" (an empty element is an empty string).
 */
enum vtype { VT_TEXT = 0, VT_NUMBER, VT_BOOL };

/* writer_begin's flags. */
#define WRITER_GUARD	0x1	/* the formula guard (SPEC: formula_guard) */
#define WRITER_TYPED	0x2	/* rows come with types (xml: the xsi prefix) */
#define WRITER_BUF (256 * 1024)
/* Written bytes between two starts of write-back (sync_file_range). */
#define WRITEBACK_EVERY (8 * 1024 * 1024)

struct writer {
	enum fmt	 fmt;
	int		 fd;
	int		 formula_guard;
	int		 typed;		/* WRITER_TYPED */
	const enum vtype *types;	/* this row's, set before writer_row;
					   NULL: all text */
	char		**columns;	/* as given (csv/tsv/json) */
	char		**tags;		/* xml element names */
	size_t		 ncolumns;
	struct buf	 out;
	uint64_t	 rows;
	uint64_t	 bytes;		/* written to fd so far */
	uint64_t	 queued;	/* of those, sent to write-back */
	int		 failed;	/* errno of a failed write */
};

/* Starts a file: writes the header; 0, or -1 with w->failed set. */
int	 writer_begin(struct writer *w, enum fmt f, int fd,
	     char *const *columns, size_t n, unsigned flags);
int	 writer_row(struct writer *w, const char *const *fields,
	     const size_t *lens);
/* Writes the trailer and flushes; the caller fsyncs and closes fd. */
int	 writer_end(struct writer *w);
void	 writer_free(struct writer *w);

/* ---- 2. the pipe (pipe.c) ---- */

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
	/*
	 * Set by a source that knows its values' types, before
	 * rowpipe_begin (typed) and before each row (types, one per source
	 * column; NULL fields are NULL values).
	 */
	int			 typed;
	const enum vtype	*types;
	enum vtype		*outtypes;
	int			 begun;
	unsigned		 part;		/* current part (1-based), 0 none */
	int			 part_fd;
	uint64_t		 rows;		/* rows written, all parts */
	uint64_t		 done_bytes;	/* bytes of finished parts */
	uint64_t		 seen;		/* source rows taken, kept or not */
	uint64_t		 total;		/* rows the source has, 0 unknown */
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
 * NUL-terminated).  Returns VISIT_NEXT to go on, Q_IO when a write
 * failed, or VISIT_STOP when the progress callback asked to stop
 * (p->stopped is then set).  Calls the progress callback once
 * PROGRESS_MS have passed since the last report, looking at the clock
 * every 64 source rows whether the filters keep them or not.  Its
 * signature is a row_cb's, with the pipeline as argument.
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

/* ---- 1. sources (source.c, source_*.c) ---- */

/*
 * Runs the source of x->d through p (which it frees) and fills res: rows
 * and bytes written, and on failure why (res->detail) and whether to try
 * again later (res->retry).  Q_CANCELLED when the progress callback
 * stopped it.
 */
enum qerr source_run(struct store *s, const struct conf *c,
	      const struct export_spec *x, struct rowpipe *p,
	      struct build_result *res);

/* The dataset source; detail in res on failure. */
enum qerr source_dataset(struct store *s, const struct definition *d,
	      const char *params, struct rowpipe *p, struct build_result *res);

/*
 * The extractor program source (SPEC section 3, docs/extractors.md): runs
 * d's command from c->extractors_dir and reads its CSV.  On failure res
 * says why (the tail of its stderr for a failed run); Q_TRANSIENT (with
 * res->retry set) for exit status 75, Q_TIMEOUT when it ran past
 * extractor_timeout.  Q_CANCELLED when the progress callback stopped it;
 * the program's whole process group is then killed and reaped.
 */
enum qerr source_command(const struct conf *c, const struct definition *d,
	      const char *params, struct rowpipe *p, struct build_result *res);

/*
 * The SQL source (docs/sources.md): runs d's query against its
 * configured database with the job's parameters bound, streaming the
 * rows through p.  Q_TRANSIENT (res->retry) for what may pass (a refused
 * connection, a server going down, a deadlock or serialization failure);
 * Q_INVALID for what will not (a syntax or permission error, a writing
 * query), res->detail holding the database's message; Q_TIMEOUT past
 * the database's query_timeout; Q_CANCELLED when the progress callback
 * stopped it (the query is cancelled on the server first).
 */
enum qerr source_sql(const struct conf *c, const struct definition *d,
	      const char *params, struct rowpipe *p, struct build_result *res);

/* ---- 1a. the SQL drivers (sql_*.c), behind one interface ---- */

/* A bound value: s NULL for SQL NULL (an optional parameter not given). */
struct sql_value {
	const char	*s;
	enum ptype	 type;
};

/* What a driver hands its rows to. */
struct sql_sink {
	/* The result's columns, once before the first row: Q_OK to go on. */
	enum qerr	(*begin)(void *arg, char *const *names, size_t n);
	/*
	 * One row: n fields (NULL for SQL NULL, text otherwise, UTF-8
	 * checked by the caller) with their types.  VISIT_NEXT to go on,
	 * VISIT_STOP to stop (cancel), or an error.
	 */
	int		(*row)(void *arg, const char *const *fields,
			    const size_t *lens, const enum vtype *types,
			    size_t n);
	/* Called at least every PROGRESS_MS while waiting: non-zero stops. */
	int		(*tick)(void *arg);
	void		*arg;
};

/* A driver's failure: the database's message, never a credential. */
struct sql_error {
	char	msg[400];
	int	transient;	/* may pass: try again later */
	int	timeout;	/* query_timeout ran out */
};

struct sql_conn;
struct json_object;

struct sql_driver {
	enum db_driver	 id;
	/* Connects (read-only where the database can say so). */
	enum qerr	(*connect)(const struct db_conf *db, const char *password,
			    struct sql_conn **out, struct sql_error *err);
	/*
	 * Runs sql (with the driver's placeholders) read-only, values bound
	 * in order, within db->query_timeout, and streams the rows to sink.
	 */
	enum qerr	(*query)(struct sql_conn *c, const char *sql,
			    const struct sql_value *v, size_t nv,
			    const struct sql_sink *sink, struct sql_error *err);
	/* The server's version, for 'quarryctl database test'. */
	enum qerr	(*version)(struct sql_conn *c, char *out, size_t len,
			    struct sql_error *err);
	/*
	 * The result columns of sql without running it, for 'quarryctl
	 * definition check' (names and types into *cols, "name type" each).
	 */
	enum qerr	(*describe)(struct sql_conn *c, const char *sql,
			    const struct sql_value *v, size_t nv, struct buf *cols,
			    struct sql_error *err);
	void		(*close)(struct sql_conn *c);
};

/* A SQL source's query, ready to run (sql_plan). */
struct sql_plan {
	const struct db_conf	*db;
	const struct sql_driver	*drv;
	struct sql_text		*t;
	struct json_object	*given;		/* the job's parameters */
	struct buf		 sql;		/* with the driver's placeholders */
	struct sql_value	 v[SQL_PLACEHOLDERS_MAX];
	size_t			 nv;
};

/*
 * Checks d's query against c (definition_sql), finds its driver, and
 * renders it with the values of params (canonical JSON; NULL or "{}":
 * every value NULL) to bind.  On failure detail says why.  Free with
 * sql_plan_free, whatever it returned.
 */
enum qerr sql_plan(const struct conf *c, const struct definition *d,
	      const char *params, struct sql_plan *pl, char *detail,
	      size_t detaillen);
void	 sql_plan_free(struct sql_plan *pl);
/*
 * Connects to db with its driver and its password_file: Q_TRANSIENT
 * for a failure that may pass, err saying why.
 */
enum qerr sql_connect(const struct db_conf *db, struct sql_conn **conn,
	      struct sql_error *err);

/*
 * An RFC 3339 time as "YYYY-MM-DD HH:MM:SS" in UTC, the text MariaDB's
 * DATETIME and SQLite take for a datetime parameter; -1 if it is none.
 */
int	 sql_utc_text(const char *rfc3339, char out[32]);
/* The driver for d, or NULL if this build has none. */
const struct sql_driver *sql_driver(enum db_driver d);
extern const struct sql_driver sql_driver_sqlite;
extern const struct sql_driver sql_driver_pg;
extern const struct sql_driver sql_driver_mysql;
extern const struct sql_driver sql_driver_odbc;
/*
 * A REAL's text as SQLite itself writes it ("%!.15g") into out (room for
 * 24 bytes) when the value has at most four decimals and lies below
 * 1e11 in magnitude: its length, or -1 for any other value (SQLite
 * converts those).  The SQLite driver's fast path.
 */
int	 sqlite_real_text(double d, char *out);

/*
 * Reads db's password_file (its first line) into out; "" without one.
 * -1 with why in err (which names the file, never its content).
 */
int	 sql_password(const struct db_conf *db, char *out, size_t len,
	     char *err, size_t errlen);

/* ---- 4. the atomic file (file.c) ---- */

/* Says in res->detail why writing the file failed (errno err). */
void	 build_write_detail(struct build_result *res, int err);

/* Writes the export x to fd, as one file (rows_per_file does not apply). */
enum qerr build_to_fd(struct store *s, const struct conf *c,
	      const struct export_spec *x, int fd, progress_fn pf, void *parg,
	      struct build_result *res);

/*
 * Builds the export x into the file final, atomically: it is written in
 * directory dir under temporary names that start with stem and end in
 * ".tmp" ("<stem>.<ext>.tmp"; for a split build the parts
 * "<stem>.pNNNN.<ext>.tmp" and the zip being written), fsync'ed, renamed
 * to final (which must be in dir), and dir fsync'ed.  New files get mode
 * (less the umask).  With the definition's rows_per_file > 0 final is a
 * zip archive of parts "<name>-part0001.<ext>" of that many rows each
 * (header in every part; at least one part, even with no rows).  On
 * failure nothing is left behind and final is as it was.
 */
enum qerr build_file(struct store *s, const struct conf *c,
	      const struct export_spec *x, const char *dir, const char *stem,
	      const char *final, mode_t mode, progress_fn pf, void *parg,
	      struct build_result *res);

/*
 * A job's file: build_file into the files directory with the job's id as
 * stem; its name there ("<id>.<ext>", "<id>.zip" when split) is returned
 * in file.
 */
enum qerr build_job_file(struct store *s, const struct conf *c,
	      const struct definition *d, const struct job *j, progress_fn pf,
	      void *parg, char file[JOB_FILE_MAX], struct build_result *res);

/*
 * Removes every temporary file a build with this stem left in dir
 * ("<stem>.*.tmp*"): the file, split parts, the zip being written.  For
 * a build that failed, and a worker that died during one.  Returns how
 * many it removed.
 */
unsigned build_discard(const char *dir, const char *stem);
/* The same for every build in dir: at start, when no build runs. */
void	 build_discard_all(const char *dir);

#endif
