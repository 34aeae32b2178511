/*
 * Building an export into a file, atomically (SPEC section 7: a file is
 * only served when complete).  A definition with rows_per_file > 0 is
 * built as numbered part files that are then stored in one zip archive
 * (SPEC section 3); the parts are temporary files beside the archive.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "quarry/build.h"
#include "quarry/format.h"
#include "quarry/log.h"
#include "quarry/seams.h"
#include "quarry/source.h"

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

/* Runs d's source through p and fills res (see build_to_fd). */
static enum qerr
build_rows(struct store *s, const struct conf *c, const struct definition *d,
    const char *params, struct rowpipe *p, struct build_result *res)
{
	enum qerr e;

	memset(res, 0, sizeof(*res));
	if (d->dataset != NULL)
		e = source_dataset(s, d, params, p, res);
	else if (d->command != NULL)
		e = source_command(c, d, params, p, res);
	else {
		snprintf(res->detail, sizeof(res->detail), "the definition "
		    "has no source");
		e = Q_INVALID;
	}
	res->rows = p->rows;
	res->bytes = rowpipe_bytes(p);
	if (e == Q_IO && res->detail[0] == '\0')
		io_detail(res, p->failed);
	if (e == Q_STATE)
		snprintf(res->detail, sizeof(res->detail), "cancelled");
	if (e != Q_OK && res->detail[0] == '\0')
		snprintf(res->detail, sizeof(res->detail), "%s", qerr_str(e));
	rowpipe_free(p);
	return e;
}

/*
 * Writes the export of d with params in format f to fd, as one file (a
 * definition's rows_per_file applies to job files, see build_job_file).
 */
enum qerr
build_to_fd(struct store *s, const struct conf *c, const struct definition *d,
    const char *params, enum fmt f, int fd, progress_fn pf, void *parg,
    struct build_result *res)
{
	struct rowpipe p;

	rowpipe_init(&p, f, fd, 0, NULL, pf, parg);
	return build_rows(s, c, d, params, &p, res);
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

/* Removes the temporary files of job id (see build.h). */
void
build_discard(const struct conf *c, const char *id)
{
	DIR		*dir;
	struct dirent	*de;
	char		 path[PATH_MAX];
	size_t		 n = strlen(id);

	if ((dir = opendir(c->files_dir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL)
		if (strncmp(de->d_name, id, n) == 0 && de->d_name[n] == '.' &&
		    strstr(de->d_name + n, ".tmp") != NULL &&
		    files_path(c, de->d_name, path, sizeof(path)) == 0)
			unlink(path);
	closedir(dir);
}

/* ---- split builds ---- */

struct parts {
	const struct conf	*c;
	const struct job	*j;
	const char		*ext;
	unsigned		 n;		/* parts opened */
	uint64_t		 rows;		/* for progress while zipping */
	uint64_t		 bytes;
	progress_fn		 pf;
	void			*parg;
	int			 stop;
};

static int
part_path(const struct parts *ps, unsigned n, char *out, size_t len)
{
	char file[96];

	snprintf(file, sizeof(file), "%s.p%04u.%s.tmp", ps->j->id, n, ps->ext);
	return files_path(ps->c, file, out, len);
}

static int
part_open(void *arg, unsigned n)
{
	struct parts	*ps = arg;
	char		 path[PATH_MAX];

	if (part_path(ps, n, path, sizeof(path)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	ps->n = n;
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
}

static int
part_close(void *arg, unsigned n, int fd)
{
	int rc;

	(void)arg;
	(void)n;
	rc = close(fd);
	return rc;
}

/* A safe base name for the parts: the definition's name, else "export". */
static void
part_base(const struct definition *d, char *out, size_t len)
{
	const unsigned char	*p;
	size_t			 o = 0;

	for (p = (const unsigned char *)(d->name ? d->name : "");
	    *p != '\0' && o + 1 < len && o < 100; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
			out[o++] = (char)*p;
		else if (o > 0 && out[o - 1] != '_')
			out[o++] = '_';
	}
	while (o > 0 && out[o - 1] == '_')
		o--;
	out[o] = '\0';
	if (o == 0)
		snprintf(out, len, "export");
}

/* libzip's cancel callback: the build's progress callback, while zipping. */
static int
zip_cancel(zip_t *z, void *arg)
{
	struct parts *ps = arg;

	(void)z;
	if (ps->pf != NULL && ps->pf(ps->parg, ps->rows, ps->bytes) != 0)
		ps->stop = 1;
	return ps->stop;
}

/*
 * Stores the ps->n parts in a new zip archive at path (written by libzip
 * through its own temporary file, then renamed to path), fsync'ed.
 */
static enum qerr
zip_parts(struct parts *ps, const struct definition *d, const char *path,
    struct build_result *res)
{
	zip_t		*z;
	zip_source_t	*src;
	char		 part[PATH_MAX], base[128], name[192];
	unsigned	 i;
	int		 zerr, fd;
	struct stat	 st;

	if ((z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr)) == NULL) {
		snprintf(res->detail, sizeof(res->detail), "creating the zip "
		    "archive failed (libzip error %d)", zerr);
		return Q_IO;
	}
	zip_register_cancel_callback_with_state(z, zip_cancel, NULL, ps);
	part_base(d, base, sizeof(base));
	for (i = 1; i <= ps->n; i++) {
		snprintf(name, sizeof(name), "%s-part%04u.%s", base, i,
		    ps->ext);
		if (part_path(ps, i, part, sizeof(part)) != 0 ||
		    (src = zip_source_file(z, part, 0, -1)) == NULL)
			goto zerr;
		if (zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8) < 0) {
			zip_source_free(src);
			goto zerr;
		}
	}
	if (zip_close(z) != 0)
		goto zerr;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    q_seams.fsync(fd) != 0 || fstat(fd, &st) != 0) {
		io_detail(res, errno);
		if (fd >= 0)
			close(fd);
		return Q_IO;
	}
	close(fd);
	res->bytes = (uint64_t)st.st_size;
	return Q_OK;
zerr:
	if (ps->stop) {
		zip_discard(z);
		return Q_STATE;
	}
	snprintf(res->detail, sizeof(res->detail), "writing the zip archive "
	    "failed: %s", zip_strerror(z));
	zip_discard(z);
	return Q_IO;
}

/* Builds the parts of j and stores them in a zip archive at tmp. */
static enum qerr
build_split(struct store *s, const struct conf *c, const struct definition *d,
    const struct job *j, progress_fn pf, void *parg, const char *tmp,
    struct build_result *res)
{
	struct parts		 ps;
	struct part_sink	 sink;
	struct rowpipe		 p;
	enum qerr		 e;

	memset(&ps, 0, sizeof(ps));
	ps.c = c;
	ps.j = j;
	ps.ext = fmt_extension(j->format);
	ps.pf = pf;
	ps.parg = parg;
	sink.open = part_open;
	sink.close = part_close;
	sink.arg = &ps;
	rowpipe_init(&p, j->format, -1, d->rows_per_file, &sink, pf, parg);
	if ((e = build_rows(s, c, d, j->params, &p, res)) != Q_OK)
		return e;
	ps.rows = res->rows;
	ps.bytes = res->bytes;
	if ((e = zip_parts(&ps, d, tmp, res)) == Q_STATE)
		snprintf(res->detail, sizeof(res->detail), "cancelled");
	return e;
}

/* Builds a job's file atomically (see build.h). */
enum qerr
build_job_file(struct store *s, const struct conf *c,
    const struct definition *d, const struct job *j, progress_fn pf,
    void *parg, char file[64], struct build_result *res)
{
	char		 path[PATH_MAX], tmp[PATH_MAX + 32];
	int		 fd, split = d->rows_per_file > 0;
	enum qerr	 e;

	snprintf(file, 64, "%s.%s", j->id, split ? "zip" :
	    fmt_extension(j->format));
	if (files_path(c, file, path, sizeof(path)) != 0) {
		memset(res, 0, sizeof(*res));
		snprintf(res->detail, sizeof(res->detail), "files_dir is too "
		    "long");
		return Q_INVALID;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (split) {
		e = build_split(s, c, d, j, pf, parg, tmp, res);
		goto done;
	}
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
done:
	if (e == Q_OK && rename(tmp, path) != 0) {
		io_detail(res, errno);
		e = Q_IO;
	}
	if (e == Q_OK && fsync_dir(c->files_dir) != 0) {
		io_detail(res, errno);
		unlink(path);
		e = Q_IO;
	}
	if (split || e != Q_OK)
		build_discard(c, j->id);
	if (e != Q_OK)
		qlog(LOG_WARN, "job %s: build failed: %s", j->id, res->detail);
	return e;
}
