/*
 * Building an export into a file, atomically (SPEC section 7: a file is
 * only served when complete).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "quarry/build.h"
#include "quarry/format.h"
#include "quarry/log.h"
#include "quarry/seams.h"
#include "quarry/source.h"

/* The path of a file in the files directory; -1 if it does not fit. */
int
files_path(const struct conf *c, const char *file, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", c->files_dir, file);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void
io_detail(struct build_result *res, int err)
{
	if (err == ENOSPC)
		snprintf(res->detail, sizeof(res->detail), "writing the file "
		    "failed: no space left on device");
	else
		snprintf(res->detail, sizeof(res->detail), "writing the file "
		    "failed: %s", strerror(err ? err : EIO));
}

/* Writes the export of d with params in format f to fd. */
enum qerr
build_to_fd(struct store *s, const struct conf *c, const struct definition *d,
    const char *params, enum fmt f, int fd, progress_fn pf, void *parg,
    struct build_result *res)
{
	struct writer	w;
	enum qerr	e;

	(void)c;
	memset(res, 0, sizeof(*res));
	memset(&w, 0, sizeof(w));
	if (d->dataset != NULL)
		e = source_dataset(s, d, params, &w, f, fd, pf, parg, res);
	else {
		snprintf(res->detail, sizeof(res->detail), "extractor "
		    "programs are not supported by this version of quarryd");
		e = Q_INVALID;
	}
	res->rows = w.rows;
	res->bytes = w.bytes;
	if (e == Q_IO && res->detail[0] == '\0')
		io_detail(res, w.failed);
	if (e == Q_STATE)
		snprintf(res->detail, sizeof(res->detail), "cancelled");
	if (e != Q_OK && res->detail[0] == '\0')
		snprintf(res->detail, sizeof(res->detail), "%s", qerr_str(e));
	writer_free(&w);
	return e;
}

static int
fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = q_seams.fsync(fd);
	close(fd);
	return rc;
}

/* Builds a job's file atomically (see build.h). */
enum qerr
build_job_file(struct store *s, const struct conf *c,
    const struct definition *d, const struct job *j, progress_fn pf,
    void *parg, char file[64], struct build_result *res)
{
	char		 path[PATH_MAX], tmp[PATH_MAX + 32];
	int		 fd;
	enum qerr	 e;

	snprintf(file, 64, "%s.%s", j->id, fmt_extension(j->format));
	if (files_path(c, file, path, sizeof(path)) != 0) {
		memset(res, 0, sizeof(*res));
		snprintf(res->detail, sizeof(res->detail), "files_dir is too "
		    "long");
		return Q_INVALID;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		memset(res, 0, sizeof(*res));
		io_detail(res, errno);
		res->retry = errno != ENOSPC;
		return Q_IO;
	}
	e = build_to_fd(s, c, d, j->params, j->format, fd, pf, parg, res);
	if (e == Q_OK && q_seams.fsync(fd) != 0) {
		io_detail(res, errno);
		e = Q_IO;
	}
	if (close(fd) != 0 && e == Q_OK) {
		io_detail(res, errno);
		e = Q_IO;
	}
	if (e == Q_OK && rename(tmp, path) != 0) {
		io_detail(res, errno);
		e = Q_IO;
	}
	if (e == Q_OK && fsync_dir(c->files_dir) != 0) {
		io_detail(res, errno);
		unlink(path);
		e = Q_IO;
	}
	if (e != Q_OK) {
		unlink(tmp);
		qlog(LOG_WARN, "job %s: build failed: %s", j->id, res->detail);
	}
	return e;
}
