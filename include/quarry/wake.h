/*
 * Waking the scheduler: job creation (and approve, requeue) nudges
 * quarryd at once through a FIFO named "quarryd.wake" in the store's
 * directory; quarryd also polls every poll_seconds as a fallback, so a
 * lost nudge only delays a job, it never loses one.
 */
#ifndef QUARRY_WAKE_H
#define QUARRY_WAKE_H

#include "quarry/config.h"

/* Nudges the scheduler; never blocks, and a missing reader is not an error. */
void	 wake_scheduler(const struct conf *c);

/*
 * quarryd's side: creates the FIFO if needed and returns a non-blocking
 * descriptor to poll for POLLIN, or -1 with errno set.
 */
int	 wake_listen(const struct conf *c);

/* Reads and discards every pending nudge on fd. */
void	 wake_drain(int fd);

#endif
