/*
 * The export pipeline, stage 4: the atomic file (SPEC section 7: a file
 * is only served when complete).  An export is written under a temporary
 * name, fsync'ed, renamed to its final name and the directory fsync'ed.
 * A definition with rows_per_file > 0 is built as numbered part files
 * that are then stored in one zip archive (SPEC section 3); the parts
 * are temporary files beside the archive.
 *
 * Every temporary name of a build is "<stem>.<...>.tmp": the stem (a
 * job's id, or a random id for 'quarryctl export') is how a failed or
 * killed build's leftovers are found (build_discard).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "quarry/export.h"
#include "quarry/format.h"
#include "quarry/log.h"
#include "quarry/seams.h"

#define TMP_SUFFIX ".tmp"

/* Says in res why writing failed (see export.h). */
void
build_write_detail(struct build_result *res, int err)
{
	snprintf(res->detail, sizeof(res->detail), "writing the file failed: "
	    "%s", err == ENOSPC ? "no space left on device" :
	    strerror(err ? err : EIO));
}

/* Writes the export x to fd (see export.h). */
enum qerr
build_to_fd(struct store *s, const struct conf *c, const struct export_spec *x,
    int fd, progress_fn pf, void *parg, struct build_result *res)
{
	struct rowpipe p;

	rowpipe_init(&p, x->format, fd, 0, NULL, pf, parg);
	return source_run(s, c, x, &p, res);
}

/* "<dir>/<name>" into out; -1 if it does not fit. */
static int
path_in(const char *dir, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
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

/* True if name is a temporary file of a build with this stem. */
static int
is_tmp_of(const char *name, const char *stem)
{
	size_t n = strlen(stem);

	return strncmp(name, stem, n) == 0 && name[n] == '.' &&
	    strstr(name + n, TMP_SUFFIX) != NULL;
}

/*
 * Removes the temporary files in dir of the build with this stem, or of
 * every build (stem NULL: names "<id>.<...>.tmp<...>" of a well-formed
 * id, as a build's stem always is).
 */
static unsigned
discard(const char *dir, const char *stem)
{
	DIR		*dp;
	struct dirent	*de;
	char		 path[PATH_MAX], id[ID_LEN + 1];
	unsigned	 n = 0;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		if (stem == NULL) {
			if (strlen(de->d_name) <= ID_LEN + 1)
				continue;
			memcpy(id, de->d_name, ID_LEN);
			id[ID_LEN] = '\0';
			if (!id_valid(id) || !is_tmp_of(de->d_name, id))
				continue;
		} else if (!is_tmp_of(de->d_name, stem))
			continue;
		if (path_in(dir, de->d_name, path, sizeof(path)) != 0 ||
		    unlink(path) != 0)
			continue;
		n++;
		if (stem == NULL)
			qlog(LOG_INFO, "removed the partial file %s",
			    de->d_name);
	}
	closedir(dp);
	return n;
}

/* Removes the temporary files of one build (see export.h). */
unsigned
build_discard(const char *dir, const char *stem)
{
	return discard(dir, stem);
}

/* Removes the temporary files of every build (see export.h). */
void
build_discard_all(const char *dir)
{
	discard(dir, NULL);
}

/* ---- split builds ---- */

struct parts {
	const char	*dir;
	const char	*stem;
	const char	*ext;
	mode_t		 mode;
	unsigned	 n;		/* parts opened */
	uint64_t	 rows;		/* for progress while zipping */
	uint64_t	 bytes;
	progress_fn	 pf;
	void		*parg;
	int		 stop;
};

static int
part_path(const struct parts *ps, unsigned n, char *out, size_t len)
{
	char file[NAME_MAX + 1];

	snprintf(file, sizeof(file), "%s.p%04u.%s" TMP_SUFFIX, ps->stem, n,
	    ps->ext);
	return path_in(ps->dir, file, out, len);
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
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, ps->mode);
}

static int
part_close(void *arg, unsigned n, int fd)
{
	(void)arg;
	(void)n;
	return close(fd);
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
	if (ps->pf != NULL && ps->pf(ps->parg, ps->rows, ps->bytes, -1) != 0)
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
		build_write_detail(res, errno);
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
		snprintf(res->detail, sizeof(res->detail), "cancelled");
		return Q_CANCELLED;
	}
	snprintf(res->detail, sizeof(res->detail), "writing the zip archive "
	    "failed: %s", zip_strerror(z));
	zip_discard(z);
	return Q_IO;
}

/* Builds the parts of x and stores them in a zip archive at tmp. */
static enum qerr
build_split(struct store *s, const struct conf *c, const struct export_spec *x,
    struct parts *ps, const char *tmp, struct build_result *res)
{
	struct part_sink	 sink;
	struct rowpipe		 p;
	enum qerr		 e;

	sink.open = part_open;
	sink.close = part_close;
	sink.arg = ps;
	rowpipe_init(&p, x->format, -1, x->d->rows_per_file, &sink, ps->pf,
	    ps->parg);
	if ((e = source_run(s, c, x, &p, res)) != Q_OK)
		return e;
	ps->rows = res->rows;
	ps->bytes = res->bytes;
	return zip_parts(ps, x->d, tmp, res);
}

/* Builds one file (no split) at tmp, fsync'ed. */
static enum qerr
build_whole(struct store *s, const struct conf *c, const struct export_spec *x,
    const struct parts *ps, const char *tmp, struct build_result *res)
{
	enum qerr	e;
	int		fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, ps->mode);
	if (fd < 0) {
		memset(res, 0, sizeof(*res));
		build_write_detail(res, errno);
		res->retry = errno != ENOSPC;
		return Q_IO;
	}
	e = build_to_fd(s, c, x, fd, ps->pf, ps->parg, res);
	if (e == Q_OK && q_seams.fsync(fd) != 0) {
		build_write_detail(res, errno);
		e = Q_IO;
	}
	if (close(fd) != 0 && e == Q_OK) {
		build_write_detail(res, errno);
		e = Q_IO;
	}
	return e;
}

/* Builds an export into a file atomically (see export.h). */
enum qerr
build_file(struct store *s, const struct conf *c, const struct export_spec *x,
    const char *dir, const char *stem, const char *final, mode_t mode,
    progress_fn pf, void *parg, struct build_result *res)
{
	struct parts	 ps;
	char		 name[NAME_MAX + 1], tmp[PATH_MAX];
	int		 split = x->d->rows_per_file > 0;
	enum qerr	 e;

	memset(&ps, 0, sizeof(ps));
	ps.dir = dir;
	ps.stem = stem;
	ps.ext = fmt_extension(x->format);
	ps.mode = mode;
	ps.pf = pf;
	ps.parg = parg;
	snprintf(name, sizeof(name), "%s.%s" TMP_SUFFIX, stem, split ? "zip" :
	    ps.ext);
	if (path_in(dir, name, tmp, sizeof(tmp)) != 0) {
		memset(res, 0, sizeof(*res));
		snprintf(res->detail, sizeof(res->detail), "the directory "
		    "name is too long");
		return Q_INVALID;
	}
	e = split ? build_split(s, c, x, &ps, tmp, res) :
	    build_whole(s, c, x, &ps, tmp, res);
	if (e == Q_OK && rename(tmp, final) != 0) {
		build_write_detail(res, errno);
		e = Q_IO;
	}
	if (e == Q_OK && fsync_dir(dir) != 0) {
		build_write_detail(res, errno);
		unlink(final);
		e = Q_IO;
	}
	if (split || e != Q_OK)
		build_discard(dir, stem);
	return e;
}

/* Builds a job's file in the files directory (see export.h). */
enum qerr
build_job_file(struct store *s, const struct conf *c,
    const struct definition *d, const struct job *j, progress_fn pf,
    void *parg, char file[JOB_FILE_MAX], struct build_result *res)
{
	struct export_spec	 x = { d, j->params, j->format };
	char			 path[PATH_MAX];
	enum qerr		 e;

	snprintf(file, JOB_FILE_MAX, "%s.%s", j->id, d->rows_per_file > 0 ?
	    "zip" : fmt_extension(j->format));
	if (files_path(c, file, path, sizeof(path)) != 0) {
		memset(res, 0, sizeof(*res));
		snprintf(res->detail, sizeof(res->detail), "files_dir is too "
		    "long");
		return Q_INVALID;
	}
	e = build_file(s, c, &x, c->files_dir, j->id, path, 0640, pf, parg,
	    res);
	if (e != Q_OK)
		qlog(LOG_WARN, "job %s: build failed: %s", j->id, res->detail);
	return e;
}
