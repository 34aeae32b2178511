/*
 * Fault seams: the few system calls whose failure Quarry must survive go
 * through these pointers, so tests can make them fail (a full disk, a
 * failing fsync) or fix the clock.  Production code never changes them.
 */
#ifndef QUARRY_SEAMS_H
#define QUARRY_SEAMS_H

#include <sys/types.h>
#include <time.h>

struct seams {
	ssize_t	(*write)(int fd, const void *buf, size_t n);
	int	(*fsync)(int fd);
	time_t	(*now)(void);	/* seconds since the epoch, UTC */
};

extern struct seams q_seams;

/* Restores the real system calls. */
void	seams_reset(void);

/* Writes all n bytes to fd through the seam; 0, or -1 with errno set. */
int	write_all(int fd, const void *buf, size_t n);

#endif
