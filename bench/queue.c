/*
 * queue: the scheduler's cost per job at a given queue depth.  In a new
 * store in DIR, queues DEPTH jobs over three tenants, then M times: a
 * claim, the job's completion, and a new queued job in its place (so the
 * depth stays DEPTH).  Prints the claims and completions done per second
 * of the time spent in them (the refill is not counted).
 *
 *	queue DIR DEPTH M
 *
 * Built and run by bench/queue.sh against the library of a build tree.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "quarry/model.h"
#include "quarry/util.h"

static const char *tenants[3] = { "alpha", "bravo", "charlie" };

static void
die(const char *what, enum qerr e)
{
	fprintf(stderr, "queue: %s: %s\n", what, qerr_str(e));
	exit(1);
}

/* Queues job number n of definition d (its parameter k is n). */
static void
queue_one(struct store *s, const struct caller *who, const char *def_id,
    long n)
{
	struct export_request	 rq = { def_id, NULL, NULL, NULL };
	struct refusal		 why;
	struct job		 j;
	char			 ex[ID_LEN + 1];
	enum qerr		 e;

	rq.params = json_object_new_object();
	json_object_object_add(rq.params, "k", json_object_new_int64(n));
	if ((e = job_create(s, who, &rq, &j, ex, &why)) != Q_OK)
		die(why.msg[0] ? why.msg : "creating a job", e);
	job_free(&j);
	json_object_put(rq.params);
}

int
main(int argc, char **argv)
{
	struct conf		 c;
	struct store		*s;
	struct caller		 sys;
	struct definition	 d[3];
	struct refusal		 why;
	struct json_object	*doc;
	struct job		 j;
	char			 text[512];
	long			 depth, m, i, n = 0;
	long long		 t0, spent = 0;
	enum qerr		 e;

	if (argc != 4 || (depth = atol(argv[2])) <= 0 ||
	    (m = atol(argv[3])) <= 0) {
		fputs("usage: queue DIR DEPTH M\n", stderr);
		return 2;
	}
	conf_defaults(&c);
	snprintf(c.db_dir, sizeof(c.db_dir), "%s/db", argv[1]);
	snprintf(c.files_dir, sizeof(c.files_dir), "%s/files", argv[1]);
	mkdir(c.db_dir, 0700);
	mkdir(c.files_dir, 0700);
	if ((e = store_open(&c, STORE_CREATE, &s)) != Q_OK)
		die("opening the store", e);
	caller_system(&sys, NULL);
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "{\"tenant\":\"%s\",\"name\":\"Q\","
		    "\"source\":{\"dataset\":\"x\"},\"parameters\":[{\"name\":"
		    "\"k\",\"type\":\"int\"}]}", tenants[i]);
		doc = json_tokener_parse(text);
		if ((e = definition_create(s, &sys, doc, &d[i], &why)) != Q_OK)
			die(why.msg, e);
		json_object_put(doc);
	}
	for (n = 0; n < depth; n++)
		queue_one(s, &sys, d[n % 3].id, n);
	for (i = 0; i < m; i++) {
		t0 = mono_ms();
		if ((e = job_claim(s, 4242, 30, &j)) != Q_OK)
			die("claiming", e);
		if ((e = job_complete(s, j.id, 4242, "f.csv", 1, 1, 60)) !=
		    Q_OK)
			die("completing", e);
		spent += mono_ms() - t0;
		job_free(&j);
		queue_one(s, &sys, d[n % 3].id, n);
		n++;
	}
	printf("%.1f\n", spent > 0 ? (double)m * 1000 / (double)spent : 0.0);
	for (i = 0; i < 3; i++)
		definition_free(&d[i]);
	store_close(s);
	return 0;
}
