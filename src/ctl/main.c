/*
 * quarryctl: the admin CLI (SPEC section 9).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "quarry/log.h"
#include "quarry/store.h"

static const struct {
	const char *name;
	int (*fn)(struct ctl *, int, char **);
} commands[] = {
	{ "init", cmd_init },
	{ "token", cmd_token },
	{ "user", cmd_user },
	{ "dataset", cmd_dataset },
	{ "definition", cmd_definition },
	{ "job", cmd_job },
	{ "export", cmd_export },
	{ "database", cmd_database },
	{ "backup", cmd_backup },
	{ "restore", cmd_restore },
	{ "verify", cmd_verify },
	{ "stats", cmd_stats },
	{ "audit", cmd_audit },
	{ "link-key", cmd_link_key },
};

static void
usage(void)
{
	fputs("usage: quarryctl [-c CONF] COMMAND ...\n"
	    "  init\n"
	    "  token create --tenant T --role admin|user [--name N] "
	    "[--expires 30d]\n"
	    "  token list [--tenant T] | token revoke TOKEN_ID\n"
	    "  user add NAME --tenant T --role admin|user\n"
	    "  user list [--tenant T] | user remove NAME\n"
	    "  dataset import --tenant T NAME FILE.csv|- [--replace]\n"
	    "  dataset list [--tenant T] | dataset rm --tenant T NAME\n"
	    "  definition add FILE.json | definition list [--tenant T]\n"
	    "  definition show ID | definition rm ID | definition check ID\n"
	    "  job list [--tenant T] [--state S] | job show ID\n"
	    "  job cancel ID | job approve ID | job reject ID [--reason R]\n"
	    "  job requeue ID\n"
	    "  export DEFINITION_ID [--param k=v]... [--format F] --out FILE\n"
	    "  database list | database test NAME\n"
	    "  backup DIR | restore DIR VARDIR | verify [--deep] [--repair]\n"
	    "  stats [--json | --prometheus]\n"
	    "  audit [--tenant T] [--since TIME] [--json]\n"
	    "  link-key rotate\n",
	    stderr);
}

/* Opens the store on first use; exits with a message if it cannot. */
struct store *
ctl_store(struct ctl *c)
{
	enum qerr e;

	if (c->store == NULL && (e = store_open(&c->conf, 0, &c->store)) !=
	    Q_OK) {
		fprintf(stderr, "quarryctl: cannot open the store in %s: %s\n",
		    c->conf.db_dir, qerr_str(e));
		exit(1);
	}
	return c->store;
}

int
main(int argc, char **argv)
{
	struct ctl	 c;
	const char	*conf = NULL;
	char		 err[512];
	size_t		 i;
	int		 rc;

	memset(&c, 0, sizeof(c));
	log_open("quarryctl", NULL);
	caller_system(&c.who, NULL);	/* named after the program */
	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		conf = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage();
		return argc < 2 ? 2 : 0;
	}
	if (conf_load(&c.conf, conf, err, sizeof(err)) != Q_OK) {
		fprintf(stderr, "quarryctl: %s\n", err);
		return 1;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			rc = commands[i].fn(&c, argc - 1, argv + 1);
			if (rc == 2)
				usage();
			store_close(c.store);
			return rc;
		}
	fprintf(stderr, "quarryctl: unknown command '%s'\n", argv[1]);
	usage();
	return 2;
}
