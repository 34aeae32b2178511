/*
 * history: what a list page costs against the number of jobs kept.  In a
 * new store in DIR, creates N jobs in one tenant (by two users and an
 * admin, over two definitions, a fifth of them cancelled), then times
 * PAGES pages of each kind of listing the dialects make, through the
 * model calls their handlers make:
 *
 *   osdi	an admin's OSDI page: the count of jobs, then 25 of them
 *   user	a user's OSDI page: the user's count, then 25 of their jobs
 *   status	a Graph page with $filter status eq 'failed': 101 jobs
 *   def	a Graph page with $filter definitionId: 101 jobs
 *   cursor	a Graph page past the middle ($skiptoken): 101 jobs
 *
 * and prints one line per kind: its name and microseconds per page.
 *
 *	history DIR N PAGES
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "quarry/model.h"
#include "quarry/util.h"

static void
die(const char *what, enum qerr e)
{
	fprintf(stderr, "history: %s: %s\n", what, qerr_str(e));
	exit(1);
}

static int
count_one(const struct job *j, void *arg)
{
	(void)j;
	++*(long *)arg;
	return VISIT_NEXT;
}

static void
caller_for(struct store *s, enum role role, struct caller *c)
{
	struct token	tok;
	char		secret[TOKEN_SECRET_LEN + 1];
	enum qerr	e;

	if ((e = token_create(s, "acme", role, "b", 0, secret, &tok)) != Q_OK)
		die("token", e);
	caller_of_token(c, &tok);
}

/* Microseconds per page of q for who (with the count first if counted). */
static double
page(struct store *s, const struct caller *who, const struct job_query *q,
    int counted, long pages, long want)
{
	long long	t0 = mono_ms();
	uint64_t	n;
	long		i, got;
	enum qerr	e;

	for (i = 0; i < pages; i++) {
		got = 0;
		if (counted && (e = job_count(s, who, &n)) != Q_OK)
			die("count", e);
		if ((e = job_list(s, who, q, count_one, &got)) != Q_OK)
			die("list", e);
		if (got != want) {
			fprintf(stderr, "history: a page of %ld, not %ld\n",
			    got, want);
			exit(1);
		}
	}
	return (double)(mono_ms() - t0) * 1000 / (double)pages;
}

int
main(int argc, char **argv)
{
	struct conf		 c;
	struct store		*s;
	struct caller		 admin, user, user2, *who[3];
	struct definition	 d[2];
	struct export_request	 rq;
	struct job_query	 q;
	struct refusal		 why;
	struct json_object	*doc;
	struct job		 j;
	char			 text[512], ex[ID_LEN + 1];
	long			 n, pages, i;
	uint64_t		 middle = 0;
	enum qerr		 e;

	if (argc != 4 || (n = atol(argv[2])) < 500 ||
	    (pages = atol(argv[3])) <= 0) {
		fputs("usage: history DIR N(>=500) PAGES\n", stderr);
		return 2;
	}
	conf_defaults(&c);
	snprintf(c.db_dir, sizeof(c.db_dir), "%s/db", argv[1]);
	snprintf(c.files_dir, sizeof(c.files_dir), "%s/files", argv[1]);
	mkdir(c.db_dir, 0700);
	mkdir(c.files_dir, 0700);
	if ((e = store_open(&c, STORE_CREATE, &s)) != Q_OK)
		die("opening the store", e);
	caller_for(s, ROLE_ADMIN, &admin);
	caller_for(s, ROLE_USER, &user);
	caller_for(s, ROLE_USER, &user2);
	who[0] = &user;
	who[1] = &user2;
	who[2] = &admin;
	for (i = 0; i < 2; i++) {
		snprintf(text, sizeof(text), "{\"tenant\":\"acme\",\"name\":"
		    "\"H%ld\",\"source\":{\"dataset\":\"x\"},\"parameters\":"
		    "[{\"name\":\"k\",\"type\":\"int\"}]}", i);
		doc = json_tokener_parse(text);
		if ((e = definition_create(s, &admin, doc, &d[i], &why)) != Q_OK)
			die(why.msg, e);
		json_object_put(doc);
	}
	for (i = 0; i < n; i++) {
		memset(&rq, 0, sizeof(rq));
		rq.def_id = d[i % 2].id;
		rq.params = json_object_new_object();
		json_object_object_add(rq.params, "k",
		    json_object_new_int64(i));
		if ((e = job_create(s, who[i % 3], &rq, &j, ex, &why)) != Q_OK)
			die(why.msg[0] ? why.msg : "creating a job", e);
		json_object_put(rq.params);
		if (i == n / 2)
			middle = j.seq;
		if (i % 5 == 0) {
			job_free(&j);
			if ((e = job_cancel(s, &admin, j.id, &j, NULL)) != Q_OK)
				die("cancel", e);
		}
		job_free(&j);
	}
	memset(&q, 0, sizeof(q));
	q.limit = 25;
	printf("osdi %.0f\n", page(s, &admin, &q, 1, pages, 25));
	printf("user %.0f\n", page(s, &user, &q, 1, pages, 25));
	q.limit = 101;
	q.states = 1u << JS_FAILED | 1u << JS_REJECTED | 1u << JS_CANCELLED;
	printf("status %.0f\n", page(s, &admin, &q, 0, pages, 101));
	q.states = 0;
	q.def_id = d[1].id;
	printf("def %.0f\n", page(s, &admin, &q, 0, pages, 101));
	q.def_id = NULL;
	q.before = middle;
	printf("cursor %.0f\n", page(s, &admin, &q, 0, pages, 101));
	definition_free(&d[0]);
	definition_free(&d[1]);
	store_close(s);
	return 0;
}
