/*
 * Row sources.  Each writes the rows of a definition's source through a
 * writer it starts itself (the source knows the columns).
 */
#ifndef QUARRY_SOURCE_H
#define QUARRY_SOURCE_H

#include "quarry/build.h"
#include "quarry/format.h"

/* The dataset source; detail in res on failure. */
enum qerr source_dataset(struct store *s, const struct definition *d,
	      const char *params, struct writer *w, enum fmt f, int fd,
	      progress_fn pf, void *parg, struct build_result *res);

#endif
