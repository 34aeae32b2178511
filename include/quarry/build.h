/*
 * Building an export: the one code path used by quarryd's workers and by
 * 'quarryctl export'.  A source yields rows, the definition's filters and
 * column selection apply, a writer encodes them.
 */
#ifndef QUARRY_BUILD_H
#define QUARRY_BUILD_H

#include <stdint.h>

#include "quarry/config.h"
#include "quarry/model.h"

/*
 * The build's progress: called at least every PROGRESS_MS (250 ms) while a
 * build works, whether its filters keep rows or drop them (the scheduler
 * renews the job's lease from it), and with the rows and bytes written so
 * far.  Non-zero stops the build (cancel).
 */
typedef int (*progress_fn)(void *arg, uint64_t rows, uint64_t bytes);
#define PROGRESS_MS	250

struct build_result {
	uint64_t rows;
	uint64_t bytes;
	int	 retry;		/* the failure is transient: try again later */
	char	 detail[512];	/* why it failed, for the job's statusDetail */
};

/* A row source: calls fn for each row with its column names known. */
struct source_rows {
	char	**columns;
	size_t	  ncolumns;
};

/* Writes the export of d with params in format f to fd. */
enum qerr build_to_fd(struct store *s, const struct conf *c,
	      const struct definition *d, const char *params, enum fmt f,
	      int fd, progress_fn pf, void *parg, struct build_result *res);

/*
 * Builds a job's file in the files directory: written to a temporary
 * name, fsync'ed, renamed to its final name (returned in file), and the
 * directory fsync'ed.  On failure nothing is left behind.  With the
 * definition's rows_per_file > 0 the file is "<id>.zip", a zip archive
 * of parts "<name>-part0001.<ext>" of that many rows each (header in
 * every part; at least one part, even with no rows).
 */
enum qerr build_job_file(struct store *s, const struct conf *c,
	      const struct definition *d, const struct job *j, progress_fn pf,
	      void *parg, char file[64], struct build_result *res);

/*
 * Removes every temporary file of job id from the files directory: the
 * "<id>.*.tmp*" names a build writes (the file, split parts, the zip
 * being written).  For a worker that died during a build.
 */
void	 build_discard(const struct conf *c, const char *id);


#endif
