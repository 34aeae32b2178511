/*
 * Listing jobs over a real store: each way a listing is answered (an
 * admin's tenant, definition and states, a user's own jobs, with and
 * without filters), pages by offset and by cursor that neither repeat
 * nor skip, the counts kept with the jobs, and the upgrade that builds
 * the owner and state indexes and the counts of a version 1 store.
 */
#include "testutil.h"

#include "quarry/model.h"

#define NJOBS	30

struct world {
	struct caller		 admin, user, user2, acme;
	struct definition	 d, e;
	char			 ids[NJOBS][ID_LEN + 1];	/* oldest first */
	int			 mine[NJOBS];	/* created by user */
	int			 of_e[NJOBS];	/* of definition e */
};

static void
caller_for(struct tu *t, enum role role, struct caller *c)
{
	struct token	tok;
	char		secret[TOKEN_SECRET_LEN + 1];

	assert_int_equal(token_create(t->s, "acme", role, "t", 0, secret,
	    &tok), Q_OK);
	caller_of_token(c, &tok);
}

/*
 * NJOBS jobs in acme: by user, user2 and the admin in turn, over two
 * definitions, then some cancelled, some claimed, one completed.
 */
static void
world(struct tu *t, struct world *w)
{
	static const char *doc = "{\"tenant\":\"acme\",\"name\":\"%s\","
	    "\"source\":{\"dataset\":\"x\"},\"parameters\":[{\"name\":\"n\","
	    "\"type\":\"int\"}]}";
	const struct caller *who[3] = { &w->user, &w->user2, &w->admin };
	struct job	 j;
	char		 buf[256], p[32], ex[ID_LEN + 1];
	int		 i;

	memset(w, 0, sizeof(*w));
	caller_for(t, ROLE_ADMIN, &w->admin);
	caller_for(t, ROLE_USER, &w->user);
	caller_for(t, ROLE_USER, &w->user2);
	caller_system(&w->acme, "acme");
	snprintf(buf, sizeof(buf), doc, "D");
	assert_int_equal(tu_definition(t->s, buf, &w->d), Q_OK);
	snprintf(buf, sizeof(buf), doc, "E");
	assert_int_equal(tu_definition(t->s, buf, &w->e), Q_OK);
	for (i = 0; i < NJOBS; i++) {
		w->of_e[i] = i % 4 == 3;
		w->mine[i] = i % 3 == 0;
		snprintf(p, sizeof(p), "{\"n\":%d}", i);
		assert_int_equal(tu_job(t->s, who[i % 3], w->of_e[i] ?
		    w->e.id : w->d.id, p, NULL, &j, ex), Q_OK);
		memcpy(w->ids[i], j.id, ID_LEN + 1);
		job_free(&j);
	}
	for (i = 0; i < NJOBS; i += 5) {
		assert_int_equal(job_cancel(t->s, &w->acme, w->ids[i], &j,
		    NULL), Q_OK);
		job_free(&j);
	}
	/* three are claimed (states are read back through the model) */
	for (i = 0; i < 3; i++) {
		assert_int_equal(job_claim(t->s, 7, 30, &j), Q_OK);
		if (i == 0)
			assert_int_equal(job_complete(t->s, j.id, 7, "f.csv",
			    1, 1, 60), Q_OK);
		job_free(&j);
	}
}

struct seen {
	char	 ids[NJOBS][ID_LEN + 1];
	int	 n;
};

static int
note(const struct job *j, void *arg)
{
	struct seen *s = arg;

	if (s->n < NJOBS)
		memcpy(s->ids[s->n], j->id, ID_LEN + 1);
	s->n++;
	return VISIT_NEXT;
}

/*
 * Checks that a listing of who with q gives exactly the jobs keep()
 * selects, newest first.
 */
static void
expect(struct tu *t, struct world *w, const struct caller *who,
    const struct job_query *q, int (*keep)(struct world *, int, void *),
    void *arg)
{
	struct seen	s;
	int		i, k = 0, skipped = 0;

	memset(&s, 0, sizeof(s));
	assert_int_equal(job_list(t->s, who, q, note, &s), Q_OK);
	for (i = NJOBS - 1; i >= 0; i--) {
		if (!keep(w, i, arg))
			continue;
		if (skipped++ < (int)q->offset)
			continue;
		if (q->limit != 0 && k == (int)q->limit)
			break;
		if (k >= s.n || strcmp(s.ids[k], w->ids[i]) != 0)
			fail_msg("listing: place %d should be job %d", k, i);
		k++;
	}
	assert_int_equal(s.n, k);
}

static int
all(struct world *w, int i, void *arg)
{
	(void)w;
	(void)i;
	(void)arg;
	return 1;
}

static int
none(struct world *w, int i, void *arg)
{
	(void)w;
	(void)i;
	(void)arg;
	return 0;
}

static int
mine(struct world *w, int i, void *arg)
{
	(void)arg;
	return w->mine[i];
}

static int
mine_of_e(struct world *w, int i, void *arg)
{
	(void)arg;
	return w->mine[i] && w->of_e[i];
}

static int
of_e(struct world *w, int i, void *arg)
{
	(void)arg;
	return w->of_e[i];
}

/* The job's state now, read through the model. */
static int
in_states(struct world *w, int i, void *arg)
{
	struct tu	*t = arg;
	struct job	 j;
	int		 in;

	assert_int_equal(job_get(t->s, &w->acme, w->ids[i], &j), Q_OK);
	in = j.state == JS_CANCELLED || j.state == JS_RUNNING;
	job_free(&j);
	return in;
}

static void
test_each_way_of_listing(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct job_query	 q;

	world(t, &w);
	memset(&q, 0, sizeof(q));
	expect(t, &w, &w.admin, &q, all, NULL);		/* the tenant */
	expect(t, &w, &w.user, &q, mine, NULL);		/* own jobs */
	q.def_id = w.e.id;
	expect(t, &w, &w.admin, &q, of_e, NULL);	/* one definition */
	expect(t, &w, &w.user, &q, mine_of_e, NULL);
	q.def_id = NULL;
	q.states = 1u << JS_CANCELLED | 1u << JS_RUNNING;
	expect(t, &w, &w.admin, &q, in_states, t);	/* two states */
	q.limit = 4;
	expect(t, &w, &w.admin, &q, in_states, t);
	q.offset = 3;
	expect(t, &w, &w.admin, &q, in_states, t);
	q.states = 1u << JS_REJECTED | 1u << JS_EXPIRED;
	expect(t, &w, &w.admin, &q, none, NULL);	/* states of none */
	q.states = 0;
	expect(t, &w, &w.admin, &q, all, NULL);		/* a page */
	expect(t, &w, &w.user, &q, mine, NULL);
	q.def_id = w.e.id;
	expect(t, &w, &w.user, &q, mine_of_e, NULL);
	definition_free(&w.d);
	definition_free(&w.e);
}

static int
cursor_page(const struct job *j, void *arg)
{
	struct seen *s = arg;

	if (s->n < NJOBS)
		memcpy(s->ids[s->n], j->id, ID_LEN + 1);
	s->n++;
	return VISIT_NEXT;
}

/* Pages by cursor (before = the last seq seen) cover every job once. */
static void
test_cursor_pages(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct job_query	 q;
	struct seen		 page;
	struct job		 j;
	int			 total = 0, k, states;

	world(t, &w);
	for (states = 0; states < 2; states++) {
		memset(&q, 0, sizeof(q));
		q.limit = 7;
		if (states)
			q.states = ~0u;
		total = 0;
		for (;;) {
			memset(&page, 0, sizeof(page));
			assert_int_equal(job_list(t->s, &w.admin, &q,
			    cursor_page, &page), Q_OK);
			for (k = 0; k < page.n; k++)
				assert_string_equal(page.ids[k],
				    w.ids[NJOBS - 1 - total - k]);
			total += page.n;
			if (page.n < 7)
				break;
			assert_int_equal(job_get(t->s, &w.admin,
			    page.ids[page.n - 1], &j), Q_OK);
			q.before = j.seq;
			job_free(&j);
		}
		assert_int_equal(total, NJOBS);
	}
	definition_free(&w.d);
	definition_free(&w.e);
}

/* The counts follow creates and purges, per tenant and per owner. */
static void
test_counts(void **state)
{
	struct tu	*t = *state;
	struct world	 w;
	struct caller	 other;
	uint64_t	 n;
	unsigned	 purged;
	int		 i, mine_n = 0;

	world(t, &w);
	for (i = 0; i < NJOBS; i++)
		mine_n += w.mine[i];
	assert_int_equal(job_count(t->s, &w.admin, &n), Q_OK);
	assert_int_equal(n, NJOBS);
	assert_int_equal(job_count(t->s, &w.user, &n), Q_OK);
	assert_int_equal(n, mine_n);
	caller_system(&other, "globex");
	assert_int_equal(job_count(t->s, &other, &n), Q_OK);
	assert_int_equal(n, 0);
	/* purge the finished ones: the counts follow */
	assert_int_equal(job_purge(t->s, t->conf.files_dir, 0, 0, &purged),
	    Q_OK);
	assert_true(purged > 0);
	assert_int_equal(job_count(t->s, &w.admin, &n), Q_OK);
	assert_int_equal(n, NJOBS - purged);
	definition_free(&w.d);
	definition_free(&w.e);
}

/* Takes out what version 2 added: the keys collected, version 1. */
static enum qerr
tx_undo_v2(struct stx *tx, void *arg)
{
	static const enum table tables[] = { T_JOBS_BY_OWNER,
	    T_JOBS_BY_STATE };
	struct buf	*keys = arg;
	unsigned char	 ver[8];
	size_t		 at, kl;
	enum qerr	 e;

	for (at = 0; at < keys->len; at += 2 + kl) {
		kl = (unsigned char)keys->data[at + 1];
		if ((e = stx_del(tx, tables[(int)keys->data[at]],
		    keys->data + at + 2, kl)) != Q_OK)
			return e;
	}
	be64_put(ver, 1);
	if ((e = stx_put(tx, T_META, "version", 7, ver, 8)) != Q_OK)
		return e;
	return Q_OK;
}

struct undo {
	struct buf	 keys;	/* table byte, length byte, key */
	int		 table;
};

static int
collect_key(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct undo *u = arg;

	(void)v;
	(void)vl;
	buf_addc(&u->keys, (char)u->table);
	buf_addc(&u->keys, (char)kl);
	buf_add(&u->keys, k, kl);
	return VISIT_NEXT;
}

static int
collect_count(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)v;
	(void)vl;
	buf_add(arg, &kl, sizeof(kl));
	buf_add(arg, k, kl);
	return VISIT_NEXT;
}

static enum qerr
tx_collect_v2(struct stx *tx, void *arg)
{
	struct undo	*u = arg;
	enum qerr	 e;

	buf_reset(&u->keys);
	u->table = 0;
	if ((e = stx_scan(tx, T_JOBS_BY_OWNER, "", 0, NULL, 0, collect_key,
	    u)) != Q_OK)
		return e;
	u->table = 1;
	return stx_scan(tx, T_JOBS_BY_STATE, "", 0, NULL, 0, collect_key, u);
}

static enum qerr
tx_drop_counts(struct stx *tx, void *arg)
{
	struct buf	 keys = BUF_INIT;
	size_t		 at, kl;
	enum qerr	 e;

	(void)arg;
	if ((e = stx_scan(tx, T_META, "n", 2, NULL, 0, collect_count,
	    &keys)) != Q_OK)
		goto out;
	for (at = 0; at < keys.len; at += sizeof(kl) + kl) {
		memcpy(&kl, keys.data + at, sizeof(kl));
		if ((e = stx_del(tx, T_META, keys.data + at + sizeof(kl),
		    kl)) != Q_OK)
			goto out;
	}
out:
	buf_free(&keys);
	return e;
}

/*
 * A store of format version 1 has no owner and state indexes and no
 * counts: other programs refuse it, and the upgrade of quarryctl init
 * builds them, after which every listing and count is right again.
 */
static void
test_upgrade_from_version_1(void **state)
{
	struct tu		*t = *state;
	struct world		 w;
	struct undo		 u;
	struct job_query	 q;
	uint64_t		 n;
	unsigned		 jobs;
	int			 i, mine_n = 0;

	world(t, &w);
	memset(&u, 0, sizeof(u));
	assert_int_equal(store_txn(t->s, tx_collect_v2, &u), Q_OK);
	assert_true(u.keys.len > 0);
	assert_int_equal(store_txn(t->s, tx_undo_v2, &u.keys), Q_OK);
	assert_int_equal(store_txn(t->s, tx_drop_counts, NULL), Q_OK);
	buf_free(&u.keys);
	store_close(t->s);
	t->s = NULL;
	/* refused, but by quarryctl init's open */
	assert_int_equal(store_open(&t->conf, 0, &t->s), Q_STORE);
	assert_int_equal(store_open(&t->conf, STORE_CREATE | STORE_UPGRADE,
	    &t->s), Q_OK);
	assert_int_equal(store_version(t->s), 1);
	assert_int_equal(model_upgrade(t->s, &jobs), Q_OK);
	assert_int_equal(jobs, NJOBS);
	assert_int_equal(store_version(t->s), STORE_FORMAT_VERSION);
	/* twice is harmless */
	assert_int_equal(model_upgrade(t->s, &jobs), Q_OK);
	store_close(t->s);
	t->s = NULL;
	assert_int_equal(store_open(&t->conf, 0, &t->s), Q_OK);
	for (i = 0; i < NJOBS; i++)
		mine_n += w.mine[i];
	assert_int_equal(job_count(t->s, &w.admin, &n), Q_OK);
	assert_int_equal(n, NJOBS);
	assert_int_equal(job_count(t->s, &w.user, &n), Q_OK);
	assert_int_equal(n, mine_n);
	memset(&q, 0, sizeof(q));
	expect(t, &w, &w.user, &q, mine, NULL);
	q.states = 1u << JS_CANCELLED | 1u << JS_RUNNING;
	expect(t, &w, &w.admin, &q, in_states, t);
	definition_free(&w.d);
	definition_free(&w.e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_each_way_of_listing),
		TU_STORE_TEST(test_cursor_pages),
		TU_STORE_TEST(test_counts),
		TU_STORE_TEST(test_upgrade_from_version_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
