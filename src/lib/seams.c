#include <errno.h>
#include <unistd.h>

#include "quarry/seams.h"

static time_t
real_now(void)
{
	return time(NULL);
}

struct seams q_seams = { write, fsync, real_now };

/* Restores the real system calls. */
void
seams_reset(void)
{
	q_seams.write = write;
	q_seams.fsync = fsync;
	q_seams.now = real_now;
}

/* Writes all n bytes to fd through the seam; 0, or -1 with errno set. */
int
write_all(int fd, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		w = q_seams.write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
