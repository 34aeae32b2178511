/*
 * enqueue: creates jobs through the library as the system caller, as POST
 * job does (the model nudges the scheduler); prints each new job id on a
 * line.  A test helper for tests/scheduler/run.sh (quarryctl has no
 * job-create command).
 *
 *	enqueue CONF DEFINITION_ID [k=v ...]
 *
 * Each k=v argument is one job with that single parameter ("-" for a
 * job without parameters).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "quarry/model.h"

static int
enqueue(struct store *s, const struct caller *who, const char *def_id,
    const char *kv)
{
	struct export_request	 rq = { def_id, NULL, NULL, NULL };
	struct refusal		 why;
	struct job		 j;
	char			 existing[ID_LEN + 1], key[128];
	const char		*eq;
	enum qerr		 e;
	int			 rc = 1;

	if ((rq.params = json_object_new_object()) == NULL)
		return 1;
	if (strcmp(kv, "-") != 0) {
		if ((eq = strchr(kv, '=')) == NULL ||
		    (size_t)(eq - kv) >= sizeof(key)) {
			fprintf(stderr, "enqueue: %s: expected k=v\n", kv);
			goto out;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
		json_object_object_add(rq.params, key,
		    json_object_new_string(eq + 1));
	}
	e = job_create(s, who, &rq, &j, existing, &why);
	if (e != Q_OK) {
		fprintf(stderr, "enqueue: %s %s %s\n", qerr_str(e), why.msg,
		    existing);
		goto out;
	}
	printf("%s\n", j.id);
	job_free(&j);
	rc = 0;
out:
	json_object_put(rq.params);
	return rc;
}

int
main(int argc, char **argv)
{
	struct conf		 c;
	struct caller		 who;
	struct store		*s;
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
	caller_system(&who, NULL);
	if (argc == 3)
		rc |= enqueue(s, &who, argv[2], "-");
	for (i = 3; i < argc; i++)
		rc |= enqueue(s, &who, argv[2], argv[i]);
	store_close(s);
	return rc;
}
