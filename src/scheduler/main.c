/*
 * quarryd: the scheduler daemon (SPEC section 8).  Wires the
 * configuration and the log to the master loop; docs/scheduler.md says
 * what it does.
 */
#include <stdio.h>
#include <string.h>

#include "quarry/config.h"
#include "quarry/log.h"
#include "sched.h"

#define GRACE_SECONDS 10

static void
usage(void)
{
	fputs("usage: quarryd [-c CONF] [-f] [--drain]\n", stderr);
}

int
main(int argc, char **argv)
{
	struct conf		c;
	struct sched_opts	o;
	char			err[512];
	int			i;

	memset(&o, 0, sizeof(o));
	o.grace_seconds = GRACE_SECONDS;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			o.conf_path = argv[++i];
		else if (strcmp(argv[i], "-f") == 0)
			continue;	/* always in the foreground */
		else if (strcmp(argv[i], "--drain") == 0)
			o.drain = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage();
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	if (conf_load(&c, o.conf_path, err, sizeof(err)) != Q_OK) {
		fprintf(stderr, "quarryd: %s\n", err);
		return 1;
	}
	if (log_open("quarryd", c.log_file) != 0) {
		fprintf(stderr, "quarryd: cannot open the log %s\n",
		    c.log_file);
		return 1;
	}
	return master_run(&c, &o);
}
