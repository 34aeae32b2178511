/*
 * enqueue: creates jobs through the library, as POST job does, and
 * nudges the scheduler; prints each new job id on a line.  A test helper
 * for tests/scheduler/run.sh (quarryctl has no job-create command).
 *
 *	enqueue CONF DEFINITION_ID [k=v ...]
 *
 * Each k=v argument is one job with that single parameter ("-" for a
 * job without parameters).
 */
#include <stdio.h>
#include <string.h>

#include "quarry/model.h"
#include "quarry/params.h"
#include "quarry/wake.h"

static int
enqueue(struct store *s, const struct definition *d, const char *kv)
{
	struct json_object	*given = json_object_new_object();
	struct buf		 canon = BUF_INIT;
	struct job		 j;
	char			 bad[128], err[512], existing[ID_LEN + 1];
	char			 key[128];
	const char		*eq;
	enum qerr		 e;
	int			 rc = 1;

	if (strcmp(kv, "-") != 0) {
		if ((eq = strchr(kv, '=')) == NULL ||
		    (size_t)(eq - kv) >= sizeof(key)) {
			fprintf(stderr, "enqueue: %s: expected k=v\n", kv);
			goto out;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
		json_object_object_add(given, key,
		    json_object_new_string(eq + 1));
	}
	if (params_canonical(d, given, &canon, bad, sizeof(bad), err,
	    sizeof(err)) != Q_OK) {
		fprintf(stderr, "enqueue: %s\n", err);
		goto out;
	}
	e = job_create(s, d, "", buf_str(&canon), d->formats[0], &j,
	    existing);
	if (e != Q_OK) {
		fprintf(stderr, "enqueue: %s %s\n", qerr_str(e), existing);
		goto out;
	}
	printf("%s\n", j.id);
	job_free(&j);
	rc = 0;
out:
	json_object_put(given);
	buf_free(&canon);
	return rc;
}

int
main(int argc, char **argv)
{
	struct conf		 c;
	struct store		*s;
	struct definition	 d;
	char			 err[512];
	int			 i, rc = 0;
	enum qerr		 e;

	if (argc < 3) {
		fputs("usage: enqueue CONF DEFINITION_ID [k=v|-]...\n", stderr);
		return 2;
	}
	if (conf_load(&c, argv[1], err, sizeof(err)) != Q_OK) {
		fprintf(stderr, "enqueue: %s\n", err);
		return 1;
	}
	if ((e = store_open(&c, 0, &s)) != Q_OK) {
		fprintf(stderr, "enqueue: store: %s\n", qerr_str(e));
		return 1;
	}
	if ((e = definition_get(s, argv[2], &d)) != Q_OK) {
		fprintf(stderr, "enqueue: %s: %s\n", argv[2], qerr_str(e));
		store_close(s);
		return 1;
	}
	if (argc == 3)
		rc |= enqueue(s, &d, "-");
	for (i = 3; i < argc; i++)
		rc |= enqueue(s, &d, argv[i]);
	definition_free(&d);
	store_close(s);
	wake_scheduler(&c);
	return rc;
}
