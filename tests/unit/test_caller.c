/*
 * Isolation by construction: operation by operation, the model refuses
 * another tenant's resources and another user's jobs as if they did not
 * exist (Q_NOTFOUND), refuses users what only admins may do
 * (Q_FORBIDDEN), and a 409 always names a job its caller can see.  Over
 * a real store, with callers made from real tokens.
 */
#include "testutil.h"

#include <fcntl.h>

#include "quarry/model.h"

/* The world: tenant acme (an admin, two users) and tenant globex. */
struct world {
	struct caller		 admin, user, user2, other;
	struct definition	 d;	/* acme's */
	struct definition	 g;	/* globex's */
};

static void
caller_for(struct tu *t, const char *tenant, enum role role,
    struct caller *c)
{
	struct token	tok;
	char		secret[TOKEN_SECRET_LEN + 1];

	assert_int_equal(token_create(t->s, tenant, role, "t", 0, secret,
	    &tok), Q_OK);
	caller_of_token(c, &tok);
}

static void
world(struct tu *t, struct world *w)
{
	static const char *doc = "{\"tenant\":\"%s\",\"name\":\"D\","
	    "\"source\":{\"dataset\":\"x\"},\"formats\":[\"csv\",\"json\"],"
	    "\"approval\":%s}";
	char buf[512];

	caller_for(t, "acme", ROLE_ADMIN, &w->admin);
	caller_for(t, "acme", ROLE_USER, &w->user);
	caller_for(t, "acme", ROLE_USER, &w->user2);
	caller_for(t, "globex", ROLE_ADMIN, &w->other);
	snprintf(buf, sizeof(buf), doc, "acme", "false");
	assert_int_equal(tu_definition(t->s, buf, &w->d), Q_OK);
	snprintf(buf, sizeof(buf), doc, "globex", "true");
	assert_int_equal(tu_definition(t->s, buf, &w->g), Q_OK);
}

static void
world_free(struct world *w)
{
	definition_free(&w->d);
	definition_free(&w->g);
}

static int
count(const void *x, void *arg)
{
	(void)x;
	++*(int *)arg;
	return VISIT_NEXT;
}

static int
count_def(const struct definition *d, void *arg)
{
	return count(d, arg);
}

static int
count_job(const struct job *j, void *arg)
{
	return count(j, arg);
}

/* How many jobs who lists (of definition def_id, or all). */
static int
listed(struct tu *t, const struct caller *who, const char *def_id)
{
	struct job_query	q;
	int			n = 0;

	memset(&q, 0, sizeof(q));
	q.def_id = def_id;
	assert_int_equal(job_list(t->s, who, &q, count_job, &n), Q_OK);
	return n;
}

static void
test_definitions_of_another_tenant(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct definition	 got;
	struct refusal		 why;
	struct json_object	*doc;
	int			 n = 0;

	world(t, &w);
	/* get */
	assert_int_equal(definition_get(t->s, &w.other, w.d.id, &got),
	    Q_NOTFOUND);
	assert_int_equal(definition_get(t->s, &w.user, w.d.id, &got), Q_OK);
	definition_free(&got);
	/* list */
	assert_int_equal(definition_list(t->s, &w.other, count_def, &n),
	    Q_OK);
	assert_int_equal(n, 1);		/* its own only */
	n = 0;
	assert_int_equal(definition_list(t->s, &w.user, count_def, &n), Q_OK);
	assert_int_equal(n, 1);
	/* create: not for another tenant; a missing tenant is the caller's */
	doc = json_tokener_parse("{\"tenant\":\"acme\",\"name\":\"X\","
	    "\"source\":{\"dataset\":\"x\"}}");
	assert_int_equal(definition_create(t->s, &w.other, doc, &got, &why),
	    Q_INVALID);
	assert_string_equal(why.member, "tenant");
	json_object_object_del(doc, "tenant");
	assert_int_equal(definition_create(t->s, &w.other, doc, &got, &why),
	    Q_OK);
	assert_string_equal(got.tenant, "globex");
	definition_free(&got);
	/* replace */
	assert_int_equal(definition_replace(t->s, &w.other, w.d.id, doc, &got,
	    &why), Q_NOTFOUND);
	assert_int_equal(definition_get(t->s, &w.admin, w.d.id, &got), Q_OK);
	assert_string_equal(got.name, "D");
	definition_free(&got);
	json_object_put(doc);
	/* delete */
	assert_int_equal(definition_delete(t->s, &w.other, w.d.id),
	    Q_NOTFOUND);
	assert_int_equal(definition_get(t->s, &w.admin, w.d.id, &got), Q_OK);
	definition_free(&got);
	world_free(&w);
}

static void
test_definitions_are_admins_to_change(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct definition	 got;
	struct refusal		 why;
	struct json_object	*doc;

	world(t, &w);
	doc = json_tokener_parse("{\"name\":\"X\",\"source\":"
	    "{\"dataset\":\"x\"}}");
	assert_int_equal(definition_create(t->s, &w.user, doc, &got, &why),
	    Q_FORBIDDEN);
	assert_int_equal(definition_replace(t->s, &w.user, w.d.id, doc, &got,
	    &why), Q_FORBIDDEN);
	assert_int_equal(definition_delete(t->s, &w.user, w.d.id),
	    Q_FORBIDDEN);
	assert_int_equal(definition_replace(t->s, &w.admin, w.d.id, doc, &got,
	    &why), Q_OK);
	assert_string_equal(got.name, "X");
	assert_string_equal(got.tenant, "acme");
	definition_free(&got);
	json_object_put(doc);
	assert_int_equal(definition_delete(t->s, &w.admin, w.d.id), Q_OK);
	world_free(&w);
}

static void
test_jobs_of_another_tenant(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct job		 j, got;
	struct job_file		 f;
	enum job_deleted	 how;
	enum job_state		 before;
	char			 ex[ID_LEN + 1];

	world(t, &w);
	/* create: another tenant's definition does not exist for it */
	assert_int_equal(tu_job(t->s, &w.other, w.d.id, NULL, NULL, &got,
	    ex), Q_NOTFOUND);
	assert_int_equal(tu_job(t->s, &w.user, w.d.id, NULL, NULL, &j, ex),
	    Q_OK);
	/* get, list, and every action: as if it did not exist */
	assert_int_equal(job_get(t->s, &w.other, j.id, &got), Q_NOTFOUND);
	assert_int_equal(listed(t, &w.other, NULL), 0);
	assert_int_equal(listed(t, &w.admin, NULL), 1);
	assert_int_equal(job_list(t->s, &w.other, &(struct job_query){
	    w.d.id, 0, 0, 0, 0 }, count_job, &(int){0}), Q_NOTFOUND);
	assert_int_equal(job_cancel(t->s, &w.other, j.id, &got, &before),
	    Q_NOTFOUND);
	assert_int_equal(job_delete(t->s, &w.other, j.id, &got, &how),
	    Q_NOTFOUND);
	assert_int_equal(job_approve(t->s, &w.other, j.id, &got),
	    Q_NOTFOUND);
	assert_int_equal(job_reject(t->s, &w.other, j.id, "no", &got),
	    Q_NOTFOUND);
	assert_int_equal(job_requeue(t->s, &w.other, j.id, &got),
	    Q_NOTFOUND);
	assert_int_equal(job_file_open(t->s, &w.other, j.id, &f),
	    Q_NOTFOUND);
	assert_string_equal(f.def_id, "");	/* nothing learnt */
	job_file_close(&f);
	/* untouched */
	assert_int_equal(job_get(t->s, &w.user, j.id, &got), Q_OK);
	assert_int_equal(got.state, JS_QUEUED);
	job_free(&got);
	job_free(&j);
	world_free(&w);
}

static void
test_jobs_of_another_user(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct job		 j, got;
	struct job_file		 f;
	enum job_deleted	 how;
	char			 ex[ID_LEN + 1], path[PATH_MAX];

	world(t, &w);
	assert_int_equal(tu_job(t->s, &w.user, w.d.id, NULL, NULL, &j, ex),
	    Q_OK);
	assert_string_equal(j.owner, w.user.principal);
	/* the other user of the tenant sees nothing of it */
	assert_int_equal(job_get(t->s, &w.user2, j.id, &got), Q_NOTFOUND);
	assert_int_equal(listed(t, &w.user2, NULL), 0);
	assert_int_equal(listed(t, &w.user2, w.d.id), 0);
	assert_int_equal(job_cancel(t->s, &w.user2, j.id, &got, NULL),
	    Q_NOTFOUND);
	assert_int_equal(job_delete(t->s, &w.user2, j.id, &got, &how),
	    Q_NOTFOUND);
	/* its owner and the tenant's admin do */
	assert_int_equal(listed(t, &w.user, w.d.id), 1);
	assert_int_equal(listed(t, &w.admin, w.d.id), 1);
	/* the file: the other user is refused before and after it exists */
	assert_int_equal(job_claim(t->s, 5, 30, &got), Q_OK);
	job_free(&got);
	tu_path(path, t->conf.files_dir, "f.csv");
	assert_int_equal(tu_write_file(path, "a\r\n"), 0);
	assert_int_equal(job_complete(t->s, j.id, 5, "f.csv", 3, 1, 60),
	    Q_OK);
	assert_int_equal(job_file_open(t->s, &w.user2, j.id, &f), Q_NOTFOUND);
	job_file_close(&f);
	assert_int_equal(job_file_open(t->s, &w.user, j.id, &f), Q_OK);
	assert_true(f.fd >= 0);
	assert_string_equal(f.def_id, w.d.id);
	job_file_close(&f);
	assert_int_equal(job_file_open(t->s, &w.admin, j.id, &f), Q_OK);
	job_file_close(&f);
	assert_int_equal(job_delete(t->s, &w.user2, j.id, &got, &how),
	    Q_NOTFOUND);
	assert_int_equal(access(path, F_OK), 0);
	job_free(&j);
	world_free(&w);
}

/* Approve, reject and requeue are an admin's, even on one's own job. */
static void
test_decisions_are_admins(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct job		 j, got;
	char			 ex[ID_LEN + 1];
	struct caller		 gu;

	world(t, &w);
	caller_for(t, "globex", ROLE_USER, &gu);
	assert_int_equal(tu_job(t->s, &gu, w.g.id, NULL, NULL, &j, ex), Q_OK);
	assert_int_equal(j.state, JS_PENDING_APPROVAL);
	assert_int_equal(job_approve(t->s, &gu, j.id, &got), Q_FORBIDDEN);
	assert_int_equal(job_reject(t->s, &gu, j.id, "x", &got), Q_FORBIDDEN);
	assert_int_equal(job_approve(t->s, &w.admin, j.id, &got), Q_NOTFOUND);
	assert_int_equal(job_cancel(t->s, &gu, j.id, &got, NULL), Q_OK);
	assert_int_equal(got.state, JS_CANCELLED);
	job_free(&got);
	assert_int_equal(job_requeue(t->s, &gu, j.id, &got), Q_FORBIDDEN);
	assert_int_equal(job_requeue(t->s, &w.admin, j.id, &got), Q_NOTFOUND);
	assert_int_equal(job_requeue(t->s, &w.other, j.id, &got), Q_OK);
	assert_int_equal(got.state, JS_QUEUED);
	job_free(&got);
	job_free(&j);
	world_free(&w);
}

/* A 409 names a job its caller can see (docs/http.md, the 409 rule). */
static void
test_duplicate_points_at_a_visible_job(void **state)
{
	struct tu	*t = *state;
	struct world	 w;
	struct job	 a, b, got;
	char		 ex[ID_LEN + 1];

	world(t, &w);
	assert_int_equal(tu_job(t->s, &w.user, w.d.id, NULL, NULL, &a, ex),
	    Q_OK);
	/* the same again by its owner: 409 naming it */
	assert_int_equal(tu_job(t->s, &w.user, w.d.id, NULL, NULL, &got, ex),
	    Q_EXISTS);
	assert_string_equal(ex, a.id);
	/* another user cannot see a: gets a job of their own */
	assert_int_equal(tu_job(t->s, &w.user2, w.d.id, NULL, NULL, &b, ex),
	    Q_OK);
	assert_string_not_equal(b.id, a.id);
	assert_int_equal(tu_job(t->s, &w.user2, w.d.id, NULL, NULL, &got, ex),
	    Q_EXISTS);
	assert_string_equal(ex, b.id);
	/* the admin sees both: refused, naming one it can read */
	assert_int_equal(tu_job(t->s, &w.admin, w.d.id, NULL, NULL, &got, ex),
	    Q_EXISTS);
	assert_true(strcmp(ex, a.id) == 0 || strcmp(ex, b.id) == 0);
	assert_int_equal(job_get(t->s, &w.admin, ex, &got), Q_OK);
	job_free(&got);
	/* another format is another job, for anyone */
	assert_int_equal(tu_job(t->s, &w.admin, w.d.id, NULL, "json", &got,
	    ex), Q_OK);
	job_free(&got);
	/* an admin's job blocks the admin, not a user who cannot see it */
	assert_int_equal(tu_job(t->s, &w.admin, w.d.id, NULL, "json", &got,
	    ex), Q_EXISTS);
	assert_int_equal(tu_job(t->s, &w.user, w.d.id, NULL, "json", &got,
	    ex), Q_OK);
	job_free(&got);
	/* once a is cancelled, its owner may start it again */
	assert_int_equal(job_cancel(t->s, &w.user, a.id, &got, NULL), Q_OK);
	job_free(&got);
	assert_int_equal(tu_job(t->s, &w.user, w.d.id, NULL, NULL, &got, ex),
	    Q_OK);
	job_free(&got);
	/* and requeueing a would now break the rule for a's owner */
	assert_int_equal(job_requeue(t->s, &w.admin, a.id, &got), Q_EXISTS);
	job_free(&a);
	job_free(&b);
	world_free(&w);
}

/* The system caller sees every tenant, or one when scoped to it. */
static void
test_system_caller(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct caller		 sys, acme;
	struct definition	 got;
	struct job		 j;
	char			 ex[ID_LEN + 1];
	int			 n = 0;

	world(t, &w);
	caller_system(&sys, NULL);
	caller_system(&acme, "acme");
	assert_int_equal(definition_list(t->s, &sys, count_def, &n), Q_OK);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(definition_list(t->s, &acme, count_def, &n), Q_OK);
	assert_int_equal(n, 1);
	assert_int_equal(definition_get(t->s, &acme, w.g.id, &got),
	    Q_NOTFOUND);
	assert_int_equal(tu_job(t->s, &w.user, w.d.id, NULL, NULL, &j, ex),
	    Q_OK);
	assert_int_equal(listed(t, &sys, NULL), 1);
	assert_int_equal(listed(t, &acme, NULL), 1);
	caller_system(&acme, "globex");
	assert_int_equal(listed(t, &acme, NULL), 0);
	job_free(&j);
	world_free(&w);
}

/* A caller nobody authenticated (all zero) sees and may do nothing. */
static void
test_nobody(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct caller		 nobody;
	struct definition	 got;
	struct job		 j, g;
	struct refusal		 why;
	struct json_object	*doc;
	char			 ex[ID_LEN + 1];
	int			 n = 0;

	world(t, &w);
	memset(&nobody, 0, sizeof(nobody));
	assert_int_equal(tu_job(t->s, &w.user, w.d.id, NULL, NULL, &j, ex),
	    Q_OK);
	assert_int_equal(definition_get(t->s, &nobody, w.d.id, &got),
	    Q_NOTFOUND);
	assert_int_equal(definition_list(t->s, &nobody, count_def, &n), Q_OK);
	assert_int_equal(n, 0);
	assert_int_equal(listed(t, &nobody, NULL), 0);
	assert_int_equal(job_get(t->s, &nobody, j.id, &g), Q_NOTFOUND);
	assert_int_equal(job_cancel(t->s, &nobody, j.id, &g, NULL),
	    Q_NOTFOUND);
	assert_int_equal(tu_job(t->s, &nobody, w.d.id, NULL, "json", &g, ex),
	    Q_NOTFOUND);
	doc = json_tokener_parse("{\"tenant\":\"acme\",\"name\":\"X\","
	    "\"source\":{\"dataset\":\"x\"}}");
	assert_int_equal(definition_create(t->s, &nobody, doc, &got, &why),
	    Q_FORBIDDEN);
	json_object_put(doc);
	job_free(&j);
	world_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_definitions_of_another_tenant),
		TU_STORE_TEST(test_definitions_are_admins_to_change),
		TU_STORE_TEST(test_jobs_of_another_tenant),
		TU_STORE_TEST(test_jobs_of_another_user),
		TU_STORE_TEST(test_decisions_are_admins),
		TU_STORE_TEST(test_duplicate_points_at_a_visible_job),
		TU_STORE_TEST(test_system_caller),
		TU_STORE_TEST(test_nobody),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
