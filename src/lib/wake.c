/*
 * Waking the scheduler through a FIFO in the store's directory (see
 * wake.h).  Nudges carry no data: one byte means "look at the queue".
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "quarry/wake.h"

#define WAKE_NAME "quarryd.wake"

/* The FIFO's path; -1 if it does not fit. */
static int
wake_path(const struct conf *c, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", c->db_dir, WAKE_NAME);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * Nudges the scheduler.  Never blocks: with no reader (quarryd not
 * running) or a full FIFO (a nudge is already pending) it does nothing.
 */
void
wake_scheduler(const struct conf *c)
{
	char	path[PATH_MAX];
	int	fd;

	if (wake_path(c, path, sizeof(path)) != 0)
		return;
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;		/* ENOENT, ENXIO (no reader): nothing to do */
	(void)!write(fd, "w", 1);	/* EAGAIN: a nudge is already pending */
	close(fd);
}

/*
 * Creates the FIFO if it is missing and opens it for reading.  Opened
 * read-write so the descriptor never sees end-of-file when the last
 * writer goes; non-blocking so wake_drain never waits.  A FIFO it makes
 * is the group's to write (mode 0660).  Returns -1 with
 * errno set (EEXIST if the name is taken by something that is not a
 * FIFO).
 */
int
wake_listen(const struct conf *c)
{
	struct stat	st;
	char		path[PATH_MAX];
	int		fd;

	if (wake_path(c, path, sizeof(path)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/*
	 * The group's to write whatever the umask: the web programs may run
	 * as another user of the store's group (docs/store.md, "Opening").
	 */
	if (mkfifo(path, 0660) == 0)
		(void)chmod(path, 0660);
	else if (errno != EEXIST)
		return -1;
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		errno = EEXIST;
		return -1;
	}
	return fd;
}

/* Reads and discards every pending nudge on fd; never blocks. */
void
wake_drain(int fd)
{
	char	buf[256];
	ssize_t	n;

	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
}
