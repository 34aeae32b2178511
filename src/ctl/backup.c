/*
 * quarryctl backup DIR and quarryctl restore DIR VARDIR (issue 14,
 * docs/operations.md).
 *
 * A backup is made while everything runs: Berkeley DB's hot backup of
 * the store (database files, then the log files written meanwhile) into
 * DIR/db; that copy recovered on the spot (catastrophic recovery) to the
 * one moment its logs end at; the files of the jobs the copy knows as
 * completed into DIR/files (a file that expired meanwhile expires its job
 * in the copy); the configuration as DIR/quarry.conf; and last the
 * manifest DIR/BACKUP, fsync'ed: a directory without it is not a backup
 * (restore refuses it), and a backup that fails removes what it wrote.
 *
 * A restore makes VARDIR as make start lays one out (db/, files/,
 * extractors/, log/, run/, quarry.conf with its paths pointing there),
 * copies the store and the files, recovers the store catastrophically
 * again, and puts the jobs that were running back in the queue.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "quarry/seams.h"
#include "quarry/store.h"
#include "quarry/util.h"

#define MANIFEST "BACKUP"

/* "a/b" into out; -1 if it does not fit. */
static int
join(char *out, size_t len, const char *a, const char *b)
{
	int n = snprintf(out, len, "%s/%s", a, b);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Copies the file src to dst (which must not exist) with mode (0: src's),
 * fsync'ed; its bytes added to *bytes.  0, or -1 with errno set (ENOENT: no src).
 */
static int
copy_file(const char *src, const char *dst, mode_t mode,
    unsigned long long *bytes)
{
	char		 buf[1 << 16];
	struct stat	 st;
	ssize_t		 n;
	int		 in, out, saved;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(in, &st) != 0 || (out = open(dst, O_WRONLY | O_CREAT |
	    O_EXCL | O_CLOEXEC, mode ? mode : st.st_mode & 0777)) < 0) {
		saved = errno;
		close(in);
		errno = saved;
		return -1;
	}
	for (;;) {
		if ((n = read(in, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		if (write_all(out, buf, (size_t)n) != 0)
			goto fail;
		if (bytes != NULL)
			*bytes += (unsigned long long)n;
	}
	if (fsync(out) != 0)
		goto fail;
	close(in);
	if (close(out) != 0)
		return -1;
	return 0;
fail:
	saved = errno;
	close(in);
	close(out);
	errno = saved;
	return -1;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes dir and everything in it; the dir itself too if whole. */
static void
rm_tree(const char *dir, int whole)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[PATH_MAX];

	if (whole) {
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return;
	}
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0
		    && join(p, sizeof(p), dir, e->d_name) == 0)
			nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	closedir(d);
}

/* 1 if dir does not exist or is empty, 0 if it holds something. */
static int
dir_empty(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	int		 empty = 1;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* The files Berkeley DB's environment regions leave (never copied). */
static int
region_file(const char *name)
{
	return strncmp(name, "__db.", 5) == 0;
}

/* Removes the region files from dir (a recovered copy). */
static void
drop_regions(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[PATH_MAX];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (region_file(e->d_name) && join(p, sizeof(p), dir,
		    e->d_name) == 0)
			unlink(p);
	closedir(d);
}

struct completed {
	struct buf	ids;		/* ID_LEN + 1 + JOB_FILE_MAX each */
	size_t		n;
};

#define ENTRY (ID_LEN + 1 + JOB_FILE_MAX)

static int
add_completed(const struct job *j, void *arg)
{
	struct completed	*c = arg;
	char			 e[ENTRY];

	memset(e, 0, sizeof(e));
	memcpy(e, j->id, ID_LEN);
	snprintf(e + ID_LEN + 1, JOB_FILE_MAX, "%s", j->file);
	buf_add(&c->ids, e, sizeof(e));
	c->n++;
	return VISIT_NEXT;
}

/* The completed jobs of s (id and file name), in c. */
static enum qerr
list_completed(struct store *s, const struct caller *who,
    struct completed *c)
{
	struct job_query q;

	memset(&q, 0, sizeof(q));
	q.states = 1u << JS_COMPLETED;
	return job_list(s, who, &q, add_completed, c);
}

/* What a backup copied, for its report and its manifest. */
struct tally {
	unsigned long long	 bytes;
	size_t			 files, lost, store_files;
};

static int
backup_fail(const char *dir, int made, const char *what, int err)
{
	fprintf(stderr, "quarryctl: backup failed: %s: %s; nothing was "
	    "kept in %s\n", what, err == ENOSPC ? "no space left on device" :
	    strerror(err ? err : EIO), dir);
	rm_tree(dir, made);
	return 1;
}

/* Counts the files Berkeley DB copied into dir. */
static size_t
count_files(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	size_t		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && !region_file(e->d_name))
			n++;
	closedir(d);
	return n;
}

/* quarryctl backup DIR */
static int
backup(struct ctl *c, const char *dir)
{
	struct conf		 bc;
	struct store		*bs = NULL;
	struct completed	 done = { BUF_INIT, 0 };
	struct tally		 t;
	char			 dbdir[PATH_MAX], filesdir[PATH_MAX];
	char			 src[PATH_MAX], dst[PATH_MAX], when[RFC3339_LEN];
	const char		*id, *file;
	FILE			*m;
	size_t			 i;
	int			 made, fd;
	enum qerr		 e;

	memset(&t, 0, sizeof(t));
	if (!dir_empty(dir)) {
		fprintf(stderr, "quarryctl: backup: %s is not empty; a backup "
		    "goes into a new or empty directory\n", dir);
		return 1;
	}
	made = mkdir(dir, 0700) == 0;
	if (!made && errno != EEXIST) {
		fprintf(stderr, "quarryctl: backup: cannot create %s: %s\n",
		    dir, strerror(errno));
		return 1;
	}
	if (join(dbdir, sizeof(dbdir), dir, "db") != 0 ||
	    join(filesdir, sizeof(filesdir), dir, "files") != 0)
		return backup_fail(dir, made, "the path is too long",
		    ENAMETOOLONG);
	errno = 0;
	if ((e = store_backup(ctl_store(c), dbdir)) != Q_OK)
		return backup_fail(dir, made, "copying the store", errno);
	t.store_files = count_files(dbdir);
	/* The copy, recovered to the moment its logs end at. */
	bc = c->conf;
	snprintf(bc.db_dir, sizeof(bc.db_dir), "%s", dbdir);
	snprintf(bc.files_dir, sizeof(bc.files_dir), "%s", filesdir);
	bc.store_reserve = 0;
	if (mkdir(filesdir, 0750) != 0)
		return backup_fail(dir, made, "creating files/", errno);
	if ((e = store_open(&bc, STORE_RECOVER_FATAL, &bs)) != Q_OK)
		return backup_fail(dir, made, "recovering the copy", errno);
	if ((e = list_completed(bs, &c->who, &done)) != Q_OK) {
		store_close(bs);
		buf_free(&done.ids);
		return backup_fail(dir, made, "reading the copy", errno);
	}
	for (i = 0; i < done.n; i++) {
		id = done.ids.data + i * ENTRY;
		file = id + ID_LEN + 1;
		if (*file == '\0' || strchr(file, '/') != NULL)
			continue;
		if (join(src, sizeof(src), c->conf.files_dir, file) != 0 ||
		    join(dst, sizeof(dst), filesdir, file) != 0)
			continue;
		if (copy_file(src, dst, 0, &t.bytes) == 0) {
			t.files++;
			continue;
		}
		if (errno != ENOENT) {
			store_close(bs);
			buf_free(&done.ids);
			return backup_fail(dir, made, src, errno);
		}
		/* expired (or deleted) since the copy's moment */
		unlink(dst);
		if (job_expire(bs, &c->who, id, "the file expired while the "
		    "backup was made") != Q_OK) {
			store_close(bs);
			buf_free(&done.ids);
			return backup_fail(dir, made, "updating the copy", errno);
		}
		t.lost++;
	}
	buf_free(&done.ids);
	e = store_checkpoint(bs);
	store_close(bs);
	if (e != Q_OK)
		return backup_fail(dir, made, "checkpointing the copy", errno);
	drop_regions(dbdir);
	if (fsync_dir(filesdir) != 0 || fsync_dir(dbdir) != 0)
		return backup_fail(dir, made, "syncing", errno);
	if (c->conf.path[0] != '\0' && (join(dst, sizeof(dst), dir,
	    "quarry.conf") != 0 || copy_file(c->conf.path, dst, 0, NULL) != 0))
		return backup_fail(dir, made, "copying the configuration",
		    errno);
	/* Last, the manifest: what makes the directory a backup. */
	time_rfc3339(q_seams.now(), when);
	if (join(dst, sizeof(dst), dir, MANIFEST) != 0 ||
	    (fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return backup_fail(dir, made, "writing the manifest", errno);
	if ((m = fdopen(fd, "w")) == NULL) {
		close(fd);
		return backup_fail(dir, made, "writing the manifest", errno);
	}
	fprintf(m, "Quarry backup\nmade: %s\nstore: %s\nstore files: %zu\n"
	    "job files: %zu (%llu bytes)\nexpired while copying: %zu\n"
	    "configuration: %s\n", when, c->conf.db_dir, t.store_files,
	    t.files, t.bytes, t.lost, c->conf.path[0] ? c->conf.path :
	    "(none: every key at its default)");
	if (fflush(m) != 0 || fsync(fileno(m)) != 0) {
		fclose(m);
		return backup_fail(dir, made, "writing the manifest", errno);
	}
	if (fclose(m) != 0 || fsync_dir(dir) != 0)
		return backup_fail(dir, made, "writing the manifest", errno);
	printf("backup of %s in %s, made %s:\n"
	    "  store: %zu files (database and log files, recovered)\n"
	    "  job files: %zu (%llu bytes)%s\n"
	    "  configuration: %s\n", c->conf.db_dir, dir, when, t.store_files,
	    t.files, t.bytes, t.lost ? "; jobs whose file expired while "
	    "copying are expired in the backup" : "",
	    c->conf.path[0] ? "quarry.conf" : "none (defaults)");
	return 0;
}

/* The main-section keys a restore points into VARDIR. */
static const struct {
	const char *key, *rel;
} paths[] = {
	{ "db_dir", "db" },
	{ "files_dir", "files" },
	{ "extractors_dir", "extractors" },
	{ "log_file", "log/quarryd.log" },
	{ "pid_file", "run/quarryd.pid" },
};

/*
 * Writes VARDIR/quarry.conf: the backup's configuration (or none) with
 * its paths pointing into VARDIR; every other line as it was.
 */
static int
write_conf(const char *from, const char *vardir, const char *to)
{
	FILE	*in = NULL, *out;
	char	 line[4096], key[64];
	size_t	 i, n;
	int	 section = 0, done[sizeof(paths) / sizeof(paths[0])];

	memset(done, 0, sizeof(done));
	if ((out = fopen(to, "wx")) == NULL)
		return -1;
	fprintf(out, "# Restored by quarryctl restore: the backup's "
	    "configuration, its paths in %s.\n", vardir);
	if ((in = fopen(from, "r")) == NULL && errno != ENOENT)
		goto fail;
	while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
		n = strspn(line, " \t");
		if (line[n] == '[')
			section = 1;
		if (!section && sscanf(line + n, "%63[a-z_]", key) == 1) {
			for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
				if (strcmp(key, paths[i].key) == 0 &&
				    strchr(" \t=", line[n + strlen(key)]))
					break;
			if (i < sizeof(paths) / sizeof(paths[0])) {
				if (!done[i])
					fprintf(out, "%s = %s/%s\n", key,
					    vardir, paths[i].rel);
				done[i] = 1;
				continue;
			}
		}
		if (!section) {
			fputs(line, out);
			continue;
		}
		/* the [database] sections come after the paths */
		for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			if (!done[i]) {
				fprintf(out, "%s = %s/%s\n", paths[i].key,
				    vardir, paths[i].rel);
				done[i] = 1;
			}
		fputs(line, out);
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!done[i])
			fprintf(out, "%s = %s/%s\n", paths[i].key, vardir,
			    paths[i].rel);
	if (in != NULL && ferror(in))
		goto fail;
	if (in != NULL)
		fclose(in);
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		fclose(out);
		return -1;
	}
	return fclose(out);
fail:
	if (in != NULL)
		fclose(in);
	fclose(out);
	return -1;
}

/*
 * Copies every file of dir (but region files) into to, with mode (0:
 * each file's own).
 */
static int
copy_dir(const char *dir, const char *to, mode_t mode, size_t *n,
    unsigned long long *bytes)
{
	DIR		*d;
	struct dirent	*e;
	char		 s[PATH_MAX], t[PATH_MAX];
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || region_file(e->d_name))
			continue;
		if (join(s, sizeof(s), dir, e->d_name) != 0 ||
		    join(t, sizeof(t), to, e->d_name) != 0) {
			errno = ENAMETOOLONG;
			rc = -1;
		} else if ((rc = copy_file(s, t, mode, bytes)) == 0)
			(*n)++;
	}
	closedir(d);
	return rc == 0 ? fsync_dir(to) : -1;
}

/* quarryctl restore DIR VARDIR */
static int
restore(const char *dir, const char *vardir)
{
	static const char *const sub[] = { "db", "files", "extractors",
	    "log", "run" };
	struct conf		 rc;
	struct store		*s = NULL;
	struct caller		 sys;
	struct completed	 done = { BUF_INIT, 0 };
	char			 p[PATH_MAX], q[PATH_MAX], abs[PATH_MAX];
	char			 err[512];
	size_t			 i, nstore = 0, nfiles = 0;
	unsigned long long	 bytes = 0;
	unsigned		 requeued = 0;
	struct stat		 st;

	if (join(p, sizeof(p), dir, MANIFEST) != 0 || stat(p, &st) != 0) {
		fprintf(stderr, "quarryctl: restore: %s is not a complete "
		    "Quarry backup (it has no %s)\n", dir, MANIFEST);
		return 1;
	}
	if (join(p, sizeof(p), vardir, "db") == 0 && !dir_empty(p)) {
		fprintf(stderr, "quarryctl: restore: %s holds a store "
		    "already; restore into a new directory\n", vardir);
		return 1;
	}
	if (join(p, sizeof(p), vardir, "quarry.conf") == 0 &&
	    stat(p, &st) == 0) {
		fprintf(stderr, "quarryctl: restore: %s has a quarry.conf "
		    "already; restore into a new directory\n", vardir);
		return 1;
	}
	if (mkdir(vardir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "quarryctl: restore: cannot create %s: %s\n",
		    vardir, strerror(errno));
		return 1;
	}
	if (realpath(vardir, abs) == NULL)
		goto fail;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (join(p, sizeof(p), abs, sub[i]) != 0 ||
		    (mkdir(p, 0750) != 0 && errno != EEXIST))
			goto fail;
	if (join(p, sizeof(p), dir, "db") != 0 ||
	    join(q, sizeof(q), abs, "db") != 0 ||
	    copy_dir(p, q, 0660, &nstore, NULL) != 0 ||
	    join(p, sizeof(p), dir, "files") != 0 ||
	    join(q, sizeof(q), abs, "files") != 0 ||
	    copy_dir(p, q, 0, &nfiles, &bytes) != 0)
		goto fail;
	if (join(p, sizeof(p), dir, "quarry.conf") != 0 ||
	    join(q, sizeof(q), abs, "quarry.conf") != 0 ||
	    write_conf(p, abs, q) != 0)
		goto fail;
	if (conf_load(&rc, q, err, sizeof(err)) != Q_OK) {
		fprintf(stderr, "quarryctl: restore: %s\n", err);
		return 1;
	}
	caller_system(&sys, NULL);
	if (store_open(&rc, STORE_RECOVER_FATAL, &s) != Q_OK ||
	    job_requeue_stale(s, 1, rc.max_attempts, 0, NULL, 0,
	    &requeued) != Q_OK || list_completed(s, &sys, &done) != Q_OK ||
	    store_checkpoint(s) != Q_OK) {
		store_close(s);
		buf_free(&done.ids);
		fprintf(stderr, "quarryctl: restore: recovering the store in "
		    "%s failed (see the log above)\n", rc.db_dir);
		return 1;
	}
	store_close(s);
	/* the next opener makes the environment anew, tracking threads */
	drop_regions(rc.db_dir);
	printf("restored %s into %s:\n"
	    "  store: %zu files, recovered; %zu completed jobs\n"
	    "  job files: %zu (%llu bytes)\n"
	    "  running jobs put back in the queue: %u\n"
	    "  configuration: %s\n"
	    "start it with: make start VARDIR=%s (or quarryd -c %s)\n",
	    dir, abs, nstore, done.n, nfiles, bytes, requeued, q, abs, q);
	buf_free(&done.ids);
	return 0;
fail:
	fprintf(stderr, "quarryctl: restore into %s failed: %s\n", vardir,
	    errno == ENOSPC ? "no space left on device" : strerror(errno));
	return 1;
}

int
cmd_backup(struct ctl *c, int argc, char **argv)
{
	if (argc != 2)
		return 2;
	return backup(c, argv[1]);
}

int
cmd_restore(struct ctl *c, int argc, char **argv)
{
	(void)c;
	if (argc != 3)
		return 2;
	return restore(argv[1], argv[2]);
}

static void
say_line(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
	fflush(stdout);
}

/* quarryctl verify [--deep] [--repair] */
int
cmd_verify(struct ctl *c, int argc, char **argv)
{
	struct verify_result	 r;
	int			 i, repair = 0, deep = 0;
	unsigned		 deep_problems = 0;
	enum qerr		 e;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--repair") == 0)
			repair = 1;
		else if (strcmp(argv[i], "--deep") == 0)
			deep = 1;
		else
			return 2;
	e = store_verify(ctl_store(c), repair, say_line, NULL, &r);
	if (e != Q_OK) {
		fprintf(stderr, "quarryctl: verify could not read the store: "
		    "%s\n", qerr_str(e));
		return 1;
	}
	if (deep && (e = store_verify_deep(ctl_store(c), say_line, NULL,
	    &deep_problems)) != Q_OK) {
		fprintf(stderr, "quarryctl: verify --deep failed: %s\n",
		    qerr_str(e));
		return 1;
	}
	printf("verify: %llu records, %llu index entries, %llu files; "
	    "%u problem%s%s", r.records, r.entries, r.files,
	    r.problems + deep_problems, r.problems + deep_problems == 1 ?
	    "" : "s", deep ? " (with Berkeley DB's structural check)" : "");
	if (repair)
		printf(", %u mended", r.mended);
	printf("\n");
	return r.problems - r.mended + deep_problems > 0 ? 1 : 0;
}
