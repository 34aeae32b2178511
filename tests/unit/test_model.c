/*
 * The model over a real store: tokens, datasets, definitions, and jobs
 * with the active-job rule, the state machine, the queue and retries.
 */
#include "testutil.h"

#include "quarry/model.h"
#include "quarry/util.h"

#define SYS tu_system()

static time_t	fake_now;

/* The system caller of one tenant (quarryctl's --tenant). */
static const struct caller *
of_tenant(const char *tenant)
{
	static struct caller c;

	caller_system(&c, tenant);
	return &c;
}

static time_t
fixed_clock(void)
{
	return fake_now;
}

/* ---- tokens ---- */

static void
test_token_create_auth(void **state)
{
	struct tu	*t = *state;
	struct token	 tok, got;
	char		 secret[TOKEN_SECRET_LEN + 1], hash[65];
	size_t		 i;

	assert_int_equal(token_create(t->s, "acme", ROLE_ADMIN, "ops", 0,
	    secret, &tok), Q_OK);
	assert_int_equal(strlen(secret), TOKEN_SECRET_LEN);
	for (i = 0; i < TOKEN_SECRET_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", secret[i]));
	assert_true(id_valid(tok.id));
	/* Only the hash is kept. */
	sha256_hex(secret, TOKEN_SECRET_LEN, hash);
	assert_string_equal(tok.hash, hash);

	assert_int_equal(token_auth(t->s, secret, &got), Q_OK);
	assert_string_equal(got.id, tok.id);
	assert_string_equal(got.tenant, "acme");
	assert_int_equal(got.role, ROLE_ADMIN);
	assert_string_equal(got.name, "ops");
	assert_string_equal(role_name(got.role), "admin");
}

static void
test_token_refused(void **state)
{
	struct tu	*t = *state;
	struct token	 tok, got;
	char		 secret[TOKEN_SECRET_LEN + 1], wrong[TOKEN_SECRET_LEN + 1];

	assert_int_equal(token_create(t->s, "acme", ROLE_USER, NULL, 0,
	    secret, &tok), Q_OK);
	memcpy(wrong, secret, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	assert_int_equal(token_auth(t->s, wrong, &got), Q_FORBIDDEN);
	assert_int_equal(token_auth(t->s, "", &got), Q_FORBIDDEN);
	/* The hash itself is not a secret that works. */
	assert_int_equal(token_auth(t->s, tok.hash, &got), Q_FORBIDDEN);
	assert_int_equal(token_create(t->s, "Bad Tenant", ROLE_USER, NULL, 0,
	    secret, &tok), Q_INVALID);
	assert_int_equal(token_create(t->s, "acme", ROLE_USER, NULL, -1,
	    secret, &tok), Q_INVALID);
}

static void
test_token_expired(void **state)
{
	struct tu	*t = *state;
	struct token	 tok, got;
	char		 secret[TOKEN_SECRET_LEN + 1];

	fake_now = 1800000000;
	q_seams.now = fixed_clock;
	assert_int_equal(token_create(t->s, "acme", ROLE_USER, "short", 60,
	    secret, &tok), Q_OK);
	assert_true(tok.expires == fake_now + 60);
	fake_now += 59;
	assert_int_equal(token_auth(t->s, secret, &got), Q_OK);
	fake_now += 1;
	assert_int_equal(token_auth(t->s, secret, &got), Q_FORBIDDEN);
}

static int
count_tokens(const struct token *tok, void *arg)
{
	(void)tok;
	++*(int *)arg;
	return 0;
}

static void
test_token_revoke_list(void **state)
{
	struct tu	*t = *state;
	struct token	 tok, other, got;
	char		 secret[TOKEN_SECRET_LEN + 1], s2[TOKEN_SECRET_LEN + 1];
	int		 n = 0;

	assert_int_equal(token_create(t->s, "acme", ROLE_USER, "a", 0,
	    secret, &tok), Q_OK);
	assert_int_equal(token_create(t->s, "other", ROLE_ADMIN, "b", 0,
	    s2, &other), Q_OK);
	assert_int_equal(token_list(t->s, "acme", count_tokens, &n), Q_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(token_list(t->s, NULL, count_tokens, &n), Q_OK);
	assert_int_equal(n, 2);

	assert_int_equal(token_revoke(t->s, tok.id), Q_OK);
	assert_int_equal(token_auth(t->s, secret, &got), Q_FORBIDDEN);
	/* The other token still works. */
	assert_int_equal(token_auth(t->s, s2, &got), Q_OK);
	assert_int_equal(token_revoke(t->s, "AAAAAAAAAAAAAAAAAAAAAA"),
	    Q_NOTFOUND);
}

/* A token's name: for its tenant's admin and itself, even once revoked. */
/*
 * Web users (remote_user = on): a name maps to a tenant and role, once;
 * no token secret stands for it; removed, it is refused and may be
 * mapped anew; listings tell users and tokens apart.
 */
static int
count_kinds(const struct token *tk, void *arg)
{
	int	*n = arg;

	n[token_is_user(tk) ? 1 : 0]++;
	return 0;
}

static void
test_web_users(void **state)
{
	struct tu	*t = *state;
	struct token	 u, got, again, tok;
	char		 secret[TOKEN_SECRET_LEN + 1];
	int		 kinds[2] = { 0, 0 };

	assert_int_equal(user_add(t->s, "alice@EXAMPLE.ORG", "acme",
	    ROLE_ADMIN, &u), Q_OK);
	assert_true(token_is_user(&u));
	assert_int_equal(user_auth(t->s, "alice@EXAMPLE.ORG", &got), Q_OK);
	assert_string_equal(got.id, u.id);
	assert_string_equal(got.tenant, "acme");
	assert_string_equal(got.name, "alice@EXAMPLE.ORG");
	assert_int_equal(got.role, ROLE_ADMIN);
	/* names are exact: no case folding, no other user */
	assert_int_equal(user_auth(t->s, "ALICE@EXAMPLE.ORG", &got),
	    Q_FORBIDDEN);
	assert_int_equal(user_auth(t->s, "bob", &got), Q_FORBIDDEN);
	/* mapped once */
	assert_int_equal(user_add(t->s, "alice@EXAMPLE.ORG", "other",
	    ROLE_USER, &again), Q_EXISTS);
	/* bad names and tenants, refused before the store */
	assert_int_equal(user_add(t->s, "", "acme", ROLE_USER, &again),
	    Q_INVALID);
	assert_int_equal(user_add(t->s, "a\nb", "acme", ROLE_USER, &again),
	    Q_INVALID);
	assert_int_equal(user_add(t->s, "\xc3\x28", "acme", ROLE_USER,
	    &again), Q_INVALID);
	assert_int_equal(user_add(t->s, "carol", "Not A Tenant", ROLE_USER,
	    &again), Q_INVALID);
	assert_int_equal(user_auth(t->s, "a\tb", &got), Q_FORBIDDEN);
	/* no token secret authenticates as the user, whatever it says */
	assert_int_equal(token_auth(t->s, "remote-user:alice@EXAMPLE.ORG",
	    &got), Q_FORBIDDEN);
	assert_int_equal(token_auth(t->s, "alice@EXAMPLE.ORG", &got),
	    Q_FORBIDDEN);
	assert_int_equal(token_auth(t->s, u.hash, &got), Q_FORBIDDEN);
	/* the record is found by id as a token's is (signed links) */
	assert_int_equal(token_get_live(t->s, u.id, &got), Q_OK);
	/* listings */
	assert_int_equal(token_create(t->s, "acme", ROLE_USER, "prog", 0,
	    secret, &tok), Q_OK);
	assert_false(token_is_user(&tok));
	assert_int_equal(token_list(t->s, "acme", count_kinds, kinds), Q_OK);
	assert_int_equal(kinds[0], 1);
	assert_int_equal(kinds[1], 1);
	/* removed: refused, and its id no longer lives */
	assert_int_equal(user_remove(t->s, "alice@EXAMPLE.ORG"), Q_OK);
	assert_int_equal(user_auth(t->s, "alice@EXAMPLE.ORG", &got),
	    Q_FORBIDDEN);
	assert_int_equal(token_get_live(t->s, u.id, &got), Q_NOTFOUND);
	assert_int_equal(user_remove(t->s, "alice@EXAMPLE.ORG"), Q_NOTFOUND);
	/* and mapped anew: a new record, another role */
	assert_int_equal(user_add(t->s, "alice@EXAMPLE.ORG", "acme",
	    ROLE_USER, &again), Q_OK);
	assert_string_not_equal(again.id, u.id);
	assert_int_equal(user_auth(t->s, "alice@EXAMPLE.ORG", &got), Q_OK);
	assert_string_equal(got.id, again.id);
	assert_int_equal(got.role, ROLE_USER);
}

static void
test_token_name(void **state)
{
	struct tu	*t = *state;
	struct token	 user, user2, admin, other, anon;
	struct caller	 c;
	char		 secret[TOKEN_SECRET_LEN + 1];
	char		 name[NAME_MAX_LEN + 1];

	assert_int_equal(token_create(t->s, "acme", ROLE_USER, "alice", 0,
	    secret, &user), Q_OK);
	assert_int_equal(token_create(t->s, "acme", ROLE_USER, "bob", 0,
	    secret, &user2), Q_OK);
	assert_int_equal(token_create(t->s, "acme", ROLE_ADMIN, "ops", 0,
	    secret, &admin), Q_OK);
	assert_int_equal(token_create(t->s, "other", ROLE_ADMIN, "them", 0,
	    secret, &other), Q_OK);
	assert_int_equal(token_create(t->s, "acme", ROLE_USER, NULL, 0,
	    secret, &anon), Q_OK);

	/* the tenant's admin reads any of its tokens' names */
	caller_of_token(&c, &admin);
	assert_int_equal(token_name(t->s, &c, user.id, name), Q_OK);
	assert_string_equal(name, "alice");
	assert_int_equal(token_name(t->s, &c, anon.id, name), Q_OK);
	assert_string_equal(name, "");
	/* another tenant's token, a missing or malformed id: not found */
	assert_int_equal(token_name(t->s, &c, other.id, name), Q_NOTFOUND);
	assert_string_equal(name, "");
	assert_int_equal(token_name(t->s, &c, "AAAAAAAAAAAAAAAAAAAAAA", name),
	    Q_NOTFOUND);
	assert_int_equal(token_name(t->s, &c, "../x", name), Q_NOTFOUND);
	/* a user reads its own name only */
	caller_of_token(&c, &user);
	assert_int_equal(token_name(t->s, &c, user.id, name), Q_OK);
	assert_string_equal(name, "alice");
	assert_int_equal(token_name(t->s, &c, user2.id, name), Q_NOTFOUND);
	assert_int_equal(token_name(t->s, &c, admin.id, name), Q_NOTFOUND);
	/* the system caller of every tenant, or of one */
	assert_int_equal(token_name(t->s, SYS, other.id, name), Q_OK);
	assert_string_equal(name, "them");
	assert_int_equal(token_name(t->s, of_tenant("acme"), other.id, name),
	    Q_NOTFOUND);
	/* nobody sees nothing */
	memset(&c, 0, sizeof(c));
	assert_int_equal(token_name(t->s, &c, user.id, name), Q_NOTFOUND);
	/* a revoked token keeps its name */
	assert_int_equal(token_revoke(t->s, user.id), Q_OK);
	caller_of_token(&c, &admin);
	assert_int_equal(token_name(t->s, &c, user.id, name), Q_OK);
	assert_string_equal(name, "alice");
}

/* ---- datasets ---- */

static enum qerr
import_text(struct store *s, const char *name, const char *text,
    int replace, char *err)
{
	FILE		*f;
	enum qerr	 e;

	f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	e = dataset_import(s, "acme", name, f, replace, err, 256);
	fclose(f);
	return e;
}

struct rows_seen {
	struct buf	text;
	int		n;
};

static int
on_row(const char *const *fields, const size_t *lens, size_t n, void *arg)
{
	struct rows_seen	*r = arg;
	size_t			 i;

	for (i = 0; i < n; i++) {
		buf_add(&r->text, fields[i], lens[i]);
		buf_addc(&r->text, i + 1 < n ? '|' : '\n');
	}
	r->n++;
	return 0;
}

static int
count_kv(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	++*(int *)arg;
	return 0;
}

static int
rows_in_store(struct store *s)
{
	int n = 0;

	assert_int_equal(store_scan(s, T_ROWS, "", 0, count_kv, &n), Q_OK);
	return n;
}

static void
test_dataset_import(void **state)
{
	struct tu		*t = *state;
	struct dataset		 d;
	struct rows_seen	 r = { BUF_INIT, 0 };
	char			 err[256];

	assert_int_equal(import_text(t->s, "expenses",
	    "id,who,amount\r\n1,\"Smith, J\",12.50\r\n2,\"multi\nline\","
	    "\xe2\x82\xac\r\n\r\n3,x,\"\"\r\n", 0, err), Q_OK);
	assert_int_equal(dataset_get(t->s, "acme", "expenses", &d), Q_OK);
	assert_int_equal(d.ncolumns, 3);
	assert_string_equal(d.columns[0], "id");
	assert_string_equal(d.columns[2], "amount");
	assert_true(d.nrows == 3);
	assert_int_equal(dataset_scan(t->s, &d, on_row, &r), Q_OK);
	assert_int_equal(r.n, 3);
	assert_string_equal(buf_str(&r.text), "1|Smith, J|12.50\n"
	    "2|multi\nline|\xe2\x82\xac\n3|x|\n");
	dataset_free(&d);
	buf_free(&r.text);
	/* Another tenant does not see it. */
	assert_int_equal(dataset_get(t->s, "other", "expenses", &d),
	    Q_NOTFOUND);
	/* The name is taken. */
	assert_int_equal(import_text(t->s, "expenses", "a\n1\n", 0, err),
	    Q_EXISTS);
	assert_int_equal(import_text(t->s, "Bad/Name", "a\n1\n", 0, err),
	    Q_INVALID);
}

static void
test_dataset_malformed_imports_nothing(void **state)
{
	struct tu	*t = *state;
	struct dataset	 d;
	struct buf	 in = BUF_INIT;
	char		 err[256];
	int		 i;

	/* More rows than one write batch before the bad line. */
	buf_adds(&in, "id,name\n");
	for (i = 0; i < 12000; i++)
		buf_printf(&in, "%d,row %d\n", i, i);
	buf_adds(&in, "bad,\"quote\"after\n");
	assert_int_equal(import_text(t->s, "big", in.data, 0, err),
	    Q_INVALID);
	assert_string_equal(err, "line 12002: text after a closing quote");
	assert_int_equal(dataset_get(t->s, "acme", "big", &d), Q_NOTFOUND);
	assert_int_equal(rows_in_store(t->s), 0);
	buf_free(&in);

	/* A short row is refused with its line. */
	assert_int_equal(import_text(t->s, "short", "a,b\n1,2\n3\n", 0, err),
	    Q_INVALID);
	assert_string_equal(err, "line 3: expected 2 fields, found 1");
	assert_int_equal(import_text(t->s, "dup", "a,a\n1,2\n", 0, err),
	    Q_INVALID);
	assert_int_equal(import_text(t->s, "empty", "", 0, err), Q_INVALID);
	assert_string_equal(err, "line 1: no header row");
	assert_int_equal(rows_in_store(t->s), 0);
}

static void
test_dataset_replace(void **state)
{
	struct tu		*t = *state;
	struct dataset		 d;
	struct rows_seen	 r = { BUF_INIT, 0 };
	char			 err[256];

	assert_int_equal(import_text(t->s, "ds", "a,b\n1,2\n3,4\n", 0, err),
	    Q_OK);
	/* A failed replace keeps the old data. */
	assert_int_equal(import_text(t->s, "ds", "x\n\"open\n", 1, err),
	    Q_INVALID);
	assert_int_equal(dataset_get(t->s, "acme", "ds", &d), Q_OK);
	assert_true(d.nrows == 2);
	dataset_free(&d);
	assert_int_equal(import_text(t->s, "ds", "x\nnew1\nnew2\nnew3\n", 1,
	    err), Q_OK);
	assert_int_equal(dataset_get(t->s, "acme", "ds", &d), Q_OK);
	assert_int_equal(d.ncolumns, 1);
	assert_true(d.nrows == 3);
	assert_int_equal(dataset_scan(t->s, &d, on_row, &r), Q_OK);
	assert_string_equal(buf_str(&r.text), "new1\nnew2\nnew3\n");
	dataset_free(&d);
	buf_free(&r.text);
	/* The old rows are gone: the three new ones are one row block. */
	assert_int_equal(rows_in_store(t->s), 1);
	assert_int_equal(dataset_rm(t->s, "acme", "ds"), Q_OK);
	assert_int_equal(rows_in_store(t->s), 0);
	assert_int_equal(dataset_rm(t->s, "acme", "ds"), Q_NOTFOUND);
}

/* ---- definitions ---- */

static const char spec_example[] =
    "{\n"
    "  \"tenant\": \"acme\",\n"
    "  \"name\": \"Standard Accounting Extract\",\n"
    "  \"description\": \"Approved expense lines\",\n"
    "  \"source\": { \"dataset\": \"expenses\" },\n"
    "  \"columns\": [\"report_id\", \"employee\", \"date\", \"amount\", "
    "\"currency\"],\n"
    "  \"parameters\": [\n"
    "    { \"name\": \"from\", \"type\": \"date\", \"required\": false },\n"
    "    { \"name\": \"currency\", \"type\": \"string\", \"required\": "
    "false }\n"
    "  ],\n"
    "  \"filters\": [\n"
    "    { \"column\": \"date\", \"op\": \">=\", \"parameter\": \"from\" },\n"
    "    { \"column\": \"currency\", \"op\": \"=\", \"parameter\": "
    "\"currency\" }\n"
    "  ],\n"
    "  \"formats\": [\"csv\", \"tsv\", \"json\", \"xml\"],\n"
    "  \"approval\": false,\n"
    "  \"retention\": \"7d\",\n"
    "  \"rows_per_file\": 0\n"
    "}\n";

static void
parse_ok(const char *json, struct definition *d)
{
	char field[64], err[256];

	if (definition_parse(json, strlen(json), d, field, sizeof(field), err,
	    sizeof(err)) != Q_OK)
		fail_msg("definition_parse: %s (%s)", err, field);
}

static void
test_definition_parse_spec(void **state)
{
	struct definition d;

	(void)state;
	parse_ok(spec_example, &d);
	assert_string_equal(d.tenant, "acme");
	assert_string_equal(d.name, "Standard Accounting Extract");
	assert_string_equal(d.description, "Approved expense lines");
	assert_string_equal(d.dataset, "expenses");
	assert_null(d.command);
	assert_int_equal(d.ncolumns, 5);
	assert_string_equal(d.columns[4], "currency");
	assert_int_equal(d.nparams, 2);
	assert_string_equal(d.params[0].name, "from");
	assert_int_equal(d.params[0].type, PT_DATE);
	assert_int_equal(d.params[0].required, 0);
	assert_int_equal(d.params[1].type, PT_STRING);
	assert_int_equal(d.nfilters, 2);
	assert_string_equal(d.filters[0].column, "date");
	assert_int_equal(d.filters[0].op, OP_GE);
	assert_string_equal(d.filters[0].param, "from");
	assert_int_equal(d.filters[1].op, OP_EQ);
	assert_int_equal(d.nformats, 4);
	assert_int_equal(d.formats[0], FMT_CSV);
	assert_int_equal(d.formats[3], FMT_XML);
	assert_int_equal(d.approval, 0);
	assert_int_equal(d.formula_guard, 0);
	assert_true(d.retention == 7 * 86400);
	assert_true(d.rows_per_file == 0);
	assert_non_null(d.doc);
	definition_free(&d);

	/* The smallest valid document: defaults fill the rest. */
	parse_ok("{\"tenant\":\"t1\",\"name\":\"n\",\"source\":"
	    "{\"command\":\"extract.sh\",\"args\":[\"{from}\"]}}", &d);
	assert_string_equal(d.command, "extract.sh");
	assert_int_equal(d.nargs, 1);
	assert_string_equal(d.args[0], "{from}");
	assert_int_equal(d.nformats, 1);
	assert_int_equal(d.formats[0], FMT_CSV);
	assert_int_equal(d.ncolumns, 0);
	definition_free(&d);
}

/* Replaces the first occurrence of from in the SPEC example by to. */
static char *
spec_with(const char *from, const char *to)
{
	return tu_replace(spec_example, from, to);
}

static void
test_definition_invalid(void **state)
{
	static const struct {
		const char *from, *to, *field;
	} cases[] = {
		{ "\"tenant\": \"acme\"", "\"tenant\": \"ACME!\"", "tenant" },
		{ "\"tenant\": \"acme\",", "", "tenant" },
		{ "\"name\": \"Standard Accounting Extract\"", "\"name\": 7",
		    "name" },
		{ "{ \"dataset\": \"expenses\" }", "{}", "source" },
		{ "{ \"dataset\": \"expenses\" }",
		    "{ \"dataset\": \"x\", \"command\": \"y\" }", "source" },
		{ "{ \"dataset\": \"expenses\" }",
		    "{ \"command\": \"../bin/sh\" }", "source.command" },
		{ "{ \"dataset\": \"expenses\" }", "{ \"dataset\": \"a b\" }",
		    "source.dataset" },
		{ "\"date\", \"amount\"", "\"date\", 3", "columns[3]" },
		{ "\"date\", \"amount\"", "\"date\", \"date\"", "columns" },
		{ "\"type\": \"date\"", "\"type\": \"timestamp\"",
		    "parameters[0].type" },
		{ "{ \"name\": \"currency\"", "{ \"name\": \"from\"",
		    "parameters[1].name" },
		{ "\"required\": false }\n  ]", "\"required\": \"no\" }\n  ]",
		    "parameters[1].required" },
		{ "\"op\": \">=\"", "\"op\": \"~\"", "filters[0].op" },
		{ "\"parameter\": \"from\"", "\"parameter\": \"to\"",
		    "filters[0].parameter" },
		{ "\"tsv\", \"json\"", "\"tsv\", \"pdf\"", "formats[2]" },
		{ "\"tsv\", \"json\"", "\"tsv\", \"csv\"", "formats[2]" },
		{ "\"formats\": [\"csv\", \"tsv\", \"json\", \"xml\"]",
		    "\"formats\": []", "formats" },
		{ "\"approval\": false", "\"approval\": 0", "approval" },
		{ "\"retention\": \"7d\"", "\"retention\": \"7 days\"",
		    "retention" },
		{ "\"rows_per_file\": 0", "\"rows_per_file\": -1",
		    "rows_per_file" },
		{ "\"rows_per_file\": 0", "\"rows_per_file\": 0, \"extra\": 1",
		    "extra" },
		{ "\"rows_per_file\": 0", "\"rows_per_file\": 0, "
		    "\"expire_after_download\": \"yes\"",
		    "expire_after_download" },
	};
	struct definition	 d;
	char			 field[64], err[256], *doc;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		doc = spec_with(cases[i].from, cases[i].to);
		if (definition_parse(doc, strlen(doc), &d, field,
		    sizeof(field), err, sizeof(err)) != Q_INVALID)
			fail_msg("case %zu (%s) was accepted", i, cases[i].to);
		if (strcmp(field, cases[i].field) != 0)
			fail_msg("case %zu: field '%s', expected '%s' (%s)", i,
			    field, cases[i].field, err);
		assert_non_null(strstr(err, cases[i].field));
		free(doc);
	}
	/* Not JSON, or not one JSON object. */
	assert_int_equal(definition_parse("{\"tenant\":", 10, &d, field,
	    sizeof(field), err, sizeof(err)), Q_INVALID);
	assert_int_equal(definition_parse("[]", 2, &d, field, sizeof(field),
	    err, sizeof(err)), Q_INVALID);
	assert_int_equal(definition_parse("{} {}", 5, &d, field,
	    sizeof(field), err, sizeof(err)), Q_INVALID);
}

static int
count_defs(const struct definition *d, void *arg)
{
	(void)d;
	++*(int *)arg;
	return VISIT_NEXT;
}

static void
test_definition_store(void **state)
{
	struct tu		*t = *state;
	struct definition	 d, got;
	int			 n = 0;

	assert_int_equal(tu_definition(t->s, spec_example, &d), Q_OK);
	assert_true(id_valid(d.id));
	assert_int_equal(definition_get(t->s, SYS, d.id, &got), Q_OK);
	assert_string_equal(got.name, d.name);
	assert_int_equal(got.nfilters, 2);
	definition_free(&got);
	assert_int_equal(definition_list(t->s, of_tenant("acme"), count_defs,
	    &n), Q_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(definition_list(t->s, of_tenant("other"), count_defs,
	    &n), Q_OK);
	assert_int_equal(n, 0);
	assert_int_equal(definition_delete(t->s, SYS, d.id), Q_OK);
	assert_int_equal(definition_get(t->s, SYS, d.id, &got), Q_NOTFOUND);
	definition_free(&d);
}

/* ---- jobs ---- */

/* A stored definition for job tests; approval as given. */
static void
stored_def(struct tu *t, int approval, struct definition *d)
{
	char doc[512];

	snprintf(doc, sizeof(doc), "{\"tenant\":\"acme\",\"name\":\"%s\","
	    "\"source\":{\"dataset\":\"ds\"},\"approval\":%s,"
	    "\"parameters\":[{\"name\":\"a\",\"type\":\"string\"},"
	    "{\"name\":\"k\",\"type\":\"string\"},"
	    "{\"name\":\"n\",\"type\":\"int\"}],"
	    "\"formats\":[\"csv\",\"json\"]}", approval ? "A" : "Q",
	    approval ? "true" : "false");
	assert_int_equal(tu_definition(t->s, doc, d), Q_OK);
}

static void
test_job_create_and_409(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j, j2, got;
	char			 existing[ID_LEN + 1];

	stored_def(t, 0, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL,
	    &j, existing), Q_OK);
	assert_true(id_valid(j.id));
	assert_int_equal(j.state, JS_QUEUED);
	assert_string_equal(existing, "");
	assert_int_equal(job_get(t->s, SYS, j.id, &got), Q_OK);
	assert_string_equal(got.def_id, d.id);
	assert_string_equal(got.tenant, "acme");
	assert_string_equal(got.params, "{}");
	assert_int_equal(got.format, FMT_CSV);
	job_free(&got);

	/* Same definition, parameters and format: 409 naming the job. */
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL,
	    &j2, existing), Q_EXISTS);
	assert_string_equal(existing, j.id);
	/* Other parameters or another format are other jobs. */
	assert_int_equal(tu_job(t->s, SYS, d.id, "{\"a\":\"1\"}", NULL,
	    &j2, existing), Q_OK);
	job_free(&j2);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, "json",
	    &j2, existing), Q_OK);
	job_free(&j2);

	/* Once finished, the key is free again. */
	assert_int_equal(job_claim(t->s, 42, 30, &got), Q_OK);
	assert_string_equal(got.id, j.id);
	assert_int_equal(job_complete(t->s, j.id, 42, "f.csv", 10, 1, 60),
	    Q_OK);
	job_free(&got);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL,
	    &j2, existing), Q_OK);
	assert_string_not_equal(j2.id, j.id);
	job_free(&j2);
	job_free(&j);
	/* A definition with active jobs cannot be removed. */
	assert_int_equal(definition_delete(t->s, SYS, d.id), Q_EXISTS);
	assert_int_equal(job_get(t->s, SYS, "not-an-id", &got), Q_NOTFOUND);
	definition_free(&d);
}

static void
test_state_machine(void **state)
{
	/* SPEC section 2, every allowed edge; all other pairs are refused. */
	static const int allowed[JS_NSTATES][JS_NSTATES] = {
		[JS_PENDING_APPROVAL] = { [JS_QUEUED] = 1, [JS_REJECTED] = 1,
		    [JS_CANCELLED] = 1 },
		[JS_QUEUED] = { [JS_RUNNING] = 1, [JS_CANCELLED] = 1 },
		[JS_RUNNING] = { [JS_COMPLETED] = 1, [JS_FAILED] = 1,
		    [JS_CANCELLED] = 1, [JS_QUEUED] = 1 },
		[JS_COMPLETED] = { [JS_EXPIRED] = 1 },
		/* an admin's requeue ('quarryctl job requeue') */
		[JS_FAILED] = { [JS_QUEUED] = 1 },
		[JS_CANCELLED] = { [JS_QUEUED] = 1 },
	};
	enum job_state	from, to, parsed;

	(void)state;
	for (from = 0; from < JS_NSTATES; from++) {
		for (to = 0; to < JS_NSTATES; to++)
			if (job_transition_allowed(from, to) !=
			    allowed[from][to])
				fail_msg("%s -> %s: got %d", job_state_name(from),
				    job_state_name(to),
				    job_transition_allowed(from, to));
		assert_int_equal(job_state_parse(job_state_name(from),
		    &parsed), 0);
		assert_int_equal(parsed, from);
		assert_int_equal(job_state_active(from),
		    from == JS_PENDING_APPROVAL || from == JS_QUEUED ||
		    from == JS_RUNNING);
	}
	assert_int_equal(job_state_parse("Queued", &parsed), -1);
}

static void
test_job_approval_not_queued(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j, got;
	char			 existing[ID_LEN + 1];

	stored_def(t, 1, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL,
	    &j, existing), Q_OK);
	assert_int_equal(j.state, JS_PENDING_APPROVAL);
	/* Waiting for approval is active (409) but not claimable. */
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL,
	    &got, existing), Q_EXISTS);
	assert_string_equal(existing, j.id);
	assert_int_equal(job_claim(t->s, 1, 30, &got), Q_NOTFOUND);
	job_free(&j);
	definition_free(&d);
}

static void
test_claim_oldest_first(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j[3], got;
	char			 existing[ID_LEN + 1], p[32];
	int			 i;

	fake_now = 1800000000;
	q_seams.now = fixed_clock;
	stored_def(t, 0, &d);
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "{\"n\":\"%d\"}", i);
		assert_int_equal(tu_job(t->s, SYS, d.id, p, NULL,
		    &j[i], existing), Q_OK);
	}
	assert_true(j[0].seq < j[1].seq && j[1].seq < j[2].seq);
	for (i = 0; i < 3; i++) {
		assert_int_equal(job_claim(t->s, 100 + i, 30, &got), Q_OK);
		assert_string_equal(got.id, j[i].id);
		assert_int_equal(got.state, JS_RUNNING);
		assert_int_equal(got.worker_pid, 100 + i);
		assert_true(got.attempts == 1);
		assert_true(got.started == fake_now);
		assert_true(got.lease_until == fake_now + 30);
		job_free(&got);
		job_free(&j[i]);
	}
	assert_int_equal(job_claim(t->s, 1, 30, &got), Q_NOTFOUND);
	definition_free(&d);
}

static void
test_progress_and_complete(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j, got;
	char			 existing[ID_LEN + 1];

	fake_now = 1800000000;
	q_seams.now = fixed_clock;
	stored_def(t, 0, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL,
	    &j, existing), Q_OK);
	assert_int_equal(job_claim(t->s, 7, 30, &got), Q_OK);
	job_free(&got);
	fake_now += 10;
	assert_int_equal(job_progress(t->s, j.id, 7, 30, 400, 4000, 421), Q_OK);
	assert_int_equal(job_get(t->s, SYS, j.id, &got), Q_OK);
	assert_int_equal(got.read_pm, 422);	/* 1 + 421: a share is known */
	job_free(&got);
	assert_int_equal(job_progress(t->s, j.id, 7, 30, 500, 4096, -1), Q_OK);
	/* Only the claiming worker may report. */
	assert_int_equal(job_progress(t->s, j.id, 8, 30, 1, 1, -1), Q_STATE);
	assert_int_equal(job_get(t->s, SYS, j.id, &got), Q_OK);
	assert_true(got.rows == 500 && got.bytes == 4096);
	assert_int_equal(got.read_pm, 0);	/* unknown again */
	assert_true(got.lease_until == fake_now + 30);
	job_free(&got);
	fake_now += 5;
	assert_int_equal(job_complete(t->s, j.id, 7, "abc.csv", 9000, 700,
	    3600), Q_OK);
	assert_int_equal(job_get(t->s, SYS, j.id, &got), Q_OK);
	assert_int_equal(got.state, JS_COMPLETED);
	assert_string_equal(got.file, "abc.csv");
	assert_true(got.file_size == 9000 && got.rows == 700);
	assert_true(got.finished == fake_now);
	assert_true(got.expires == fake_now + 3600);
	job_free(&got);
	/* A finished job takes no more reports. */
	assert_int_equal(job_progress(t->s, j.id, 7, 30, 1, 1, -1), Q_STATE);
	assert_int_equal(job_complete(t->s, j.id, 7, "x", 1, 1, 1), Q_STATE);
	assert_int_equal(job_fail(t->s, j.id, 7, "late", 0, 3, 0), Q_STATE);
	job_free(&j);
	definition_free(&d);
}

/* Completes job id as worker 7 with file name, written in files_dir. */
static void
completed_with_file(struct tu *t, const char *id, const char *name)
{
	struct job	got;
	char		path[PATH_MAX];

	assert_int_equal(job_claim(t->s, 7, 30, &got), Q_OK);
	assert_string_equal(got.id, id);
	job_free(&got);
	tu_path(path, t->conf.files_dir, name);
	assert_int_equal(tu_write_file(path, "a,b\r\n"), 0);
	assert_int_equal(job_complete(t->s, id, 7, name, 5, 1, 3600), Q_OK);
}

/*
 * OSDI's expiry on download (issue 16): a definition with
 * expire_after_download expires its job once the file is served whole;
 * the file is deleted and opening it again is Q_GONE.  Without it, or
 * for a job without that file, nothing changes.
 */
static void
test_expire_after_download(void **state)
{
	struct tu		*t = *state;
	struct definition	 d, plain;
	struct job		 j, k, got;
	struct job_file		 f;
	struct caller		 user;
	char			 existing[ID_LEN + 1], path[PATH_MAX], *doc;

	doc = tu_replace("{\"tenant\":\"acme\",\"name\":\"Once\","
	    "\"source\":{\"dataset\":\"ds\"}}", "\"name\"",
	    "\"expire_after_download\":true,\"name\"");
	assert_int_equal(tu_definition(t->s, doc, &d), Q_OK);
	free(doc);
	assert_true(d.expire_after_download);
	assert_int_equal(tu_definition(t->s, "{\"tenant\":\"acme\",\"name\":"
	    "\"Kept\",\"source\":{\"dataset\":\"ds\"}}", &plain), Q_OK);
	assert_false(plain.expire_after_download);
	memset(&user, 0, sizeof(user));
	user.kind = CALLER_TOKEN;
	user.role = ROLE_USER;
	snprintf(user.tenant, sizeof(user.tenant), "acme");
	snprintf(user.principal, sizeof(user.principal), "u1");
	assert_int_equal(tu_job(t->s, &user, d.id, NULL, NULL, &j, existing),
	    Q_OK);
	/* not completed yet: a download of nothing changes nothing */
	memset(&f, 0, sizeof(f));
	memcpy(f.id, j.id, sizeof(f.id));
	snprintf(f.file, sizeof(f.file), "once.csv");
	assert_int_equal(job_downloaded(t->s, &user, &f), Q_OK);
	assert_int_equal(job_get(t->s, &user, j.id, &got), Q_OK);
	assert_int_equal(got.state, JS_QUEUED);
	job_free(&got);
	completed_with_file(t, j.id, "once.csv");
	assert_int_equal(job_file_open(t->s, &user, j.id, &f), Q_OK);
	assert_true(f.expire_after_download);
	assert_string_equal(f.file, "once.csv");
	job_file_close(&f);
	/* the user who downloaded it expires it */
	assert_int_equal(job_downloaded(t->s, &user, &f), Q_OK);
	assert_int_equal(job_get(t->s, &user, j.id, &got), Q_OK);
	assert_int_equal(got.state, JS_EXPIRED);
	assert_string_equal(got.detail, "the file expired once it was "
	    "downloaded");
	job_free(&got);
	tu_path(path, t->conf.files_dir, "once.csv");
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(job_file_open(t->s, &user, j.id, &f), Q_GONE);
	job_file_close(&f);
	/* a second report of the same download changes nothing more */
	assert_int_equal(job_downloaded(t->s, &user, &f), Q_OK);
	/* another user may not expire a job they cannot see */
	assert_int_equal(tu_job(t->s, SYS, plain.id, NULL, NULL, &k,
	    existing), Q_OK);
	completed_with_file(t, k.id, "kept.csv");
	assert_int_equal(job_file_open(t->s, SYS, k.id, &f), Q_OK);
	assert_false(f.expire_after_download);
	job_file_close(&f);
	assert_int_equal(job_downloaded(t->s, &user, &f), Q_NOTFOUND);
	assert_int_equal(job_get(t->s, SYS, k.id, &got), Q_OK);
	assert_int_equal(got.state, JS_COMPLETED);
	job_free(&got);
	job_free(&j);
	job_free(&k);
	definition_free(&d);
	definition_free(&plain);
}

static void
test_fail_retry_max_attempts(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 j, got;
	char			 existing[ID_LEN + 1];
	int			 attempt;

	stored_def(t, 0, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL,
	    &j, existing), Q_OK);
	/* Retryable failures requeue until max_attempts (3). */
	for (attempt = 1; attempt <= 3; attempt++) {
		assert_int_equal(job_claim(t->s, 9, 30, &got), Q_OK);
		assert_true(got.attempts == (uint32_t)attempt);
		job_free(&got);
		assert_int_equal(job_fail(t->s, j.id, 9, "try later", 1, 3, 0),
		    Q_OK);
		assert_int_equal(job_get(t->s, SYS, j.id, &got), Q_OK);
		assert_int_equal(got.state, attempt < 3 ? JS_QUEUED :
		    JS_FAILED);
		assert_string_equal(got.detail, "try later");
		job_free(&got);
	}
	assert_int_equal(job_claim(t->s, 9, 30, &got), Q_NOTFOUND);
	/* A failed job frees the active key. */
	assert_int_equal(tu_job(t->s, SYS, d.id, NULL, NULL,
	    &got, existing), Q_OK);
	/* A failure that is not retryable fails at once. */
	job_free(&j);
	j = got;
	assert_int_equal(job_claim(t->s, 9, 30, &got), Q_OK);
	job_free(&got);
	assert_int_equal(job_fail(t->s, j.id, 9, "bad data", 0, 3, 0), Q_OK);
	assert_int_equal(job_get(t->s, SYS, j.id, &got), Q_OK);
	assert_int_equal(got.state, JS_FAILED);
	assert_true(got.finished != 0);
	job_free(&got);
	job_free(&j);
	definition_free(&d);
}

static void
test_requeue_stale(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct job		 a, b, got;
	char			 existing[ID_LEN + 1];
	unsigned		 n;

	fake_now = 1800000000;
	q_seams.now = fixed_clock;
	stored_def(t, 0, &d);
	assert_int_equal(tu_job(t->s, SYS, d.id, "{\"k\":\"a\"}", NULL,
	    &a, existing), Q_OK);
	assert_int_equal(tu_job(t->s, SYS, d.id, "{\"k\":\"b\"}", NULL,
	    &b, existing), Q_OK);
	assert_int_equal(job_claim(t->s, 1, 10, &got), Q_OK);
	job_free(&got);
	assert_int_equal(job_claim(t->s, 2, 100, &got), Q_OK);
	job_free(&got);
	/* Leases still good: nothing moves. */
	assert_int_equal(job_requeue_stale(t->s, 0, 3, 0, NULL, 0, &n), Q_OK);
	assert_int_equal(n, 0);
	/* a's lease ran out; b's has not. */
	fake_now += 11;
	assert_int_equal(job_requeue_stale(t->s, 0, 3, 0, NULL, 0, &n), Q_OK);
	assert_int_equal(n, 1);
	assert_int_equal(job_get(t->s, SYS, a.id, &got), Q_OK);
	assert_int_equal(got.state, JS_QUEUED);
	assert_int_equal(got.worker_pid, 0);
	job_free(&got);
	assert_int_equal(job_get(t->s, SYS, b.id, &got), Q_OK);
	assert_int_equal(got.state, JS_RUNNING);
	job_free(&got);
	/* The old worker of a can no longer report. */
	assert_int_equal(job_progress(t->s, a.id, 1, 10, 1, 1, -1), Q_STATE);
	/* all = every running job (the scheduler's start-up). */
	assert_int_equal(job_requeue_stale(t->s, 1, 3, 0, NULL, 0, &n), Q_OK);
	assert_int_equal(n, 1);
	assert_int_equal(job_get(t->s, SYS, b.id, &got), Q_OK);
	assert_int_equal(got.state, JS_QUEUED);
	job_free(&got);
	/* Out of attempts: a stale job fails with a clear detail. */
	assert_int_equal(job_claim(t->s, 3, 10, &got), Q_OK);	/* a, 2nd */
	assert_string_equal(got.id, a.id);
	job_free(&got);
	assert_int_equal(job_requeue_stale(t->s, 1, 2, 0, NULL, 0, &n), Q_OK);
	assert_int_equal(job_get(t->s, SYS, a.id, &got), Q_OK);
	assert_int_equal(got.state, JS_FAILED);
	assert_non_null(strstr(got.detail, "maximum number of attempts"));
	job_free(&got);
	job_free(&a);
	job_free(&b);
	definition_free(&d);
}

struct listed {
	char	ids[8][ID_LEN + 1];
	int	n;
};

static int
collect_job(const struct job *j, void *arg)
{
	struct listed *l = arg;

	if (l->n < 8)
		memcpy(l->ids[l->n], j->id, ID_LEN + 1);
	l->n++;
	return VISIT_NEXT;
}

static void
test_list_newest_first(void **state)
{
	struct tu		*t = *state;
	struct definition	 d, d2;
	struct job		 j[5], other;
	struct job_query	 q;
	struct listed		 l;
	char			 existing[ID_LEN + 1], p[32];
	int			 i;

	stored_def(t, 0, &d);
	stored_def(t, 0, &d2);
	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "{\"n\":\"%d\"}", i);
		assert_int_equal(tu_job(t->s, SYS, d.id, p, NULL,
		    &j[i], existing), Q_OK);
		if (i == 2) {
			assert_int_equal(tu_job(t->s, SYS, d2.id, p, NULL,
			    &other, existing), Q_OK);
			job_free(&other);
		}
	}
	memset(&l, 0, sizeof(l));
	memset(&q, 0, sizeof(q));
	q.def_id = d.id;
	assert_int_equal(job_list(t->s, SYS, &q, collect_job, &l), Q_OK);
	assert_int_equal(l.n, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(l.ids[i], j[4 - i].id);
	memset(&l, 0, sizeof(l));
	q.limit = 3;
	assert_int_equal(job_list(t->s, SYS, &q, collect_job, &l), Q_OK);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.ids[0], j[4].id);
	assert_string_equal(l.ids[2], j[2].id);
	memset(&l, 0, sizeof(l));
	q.def_id = d2.id;
	q.limit = 0;
	assert_int_equal(job_list(t->s, SYS, &q, collect_job, &l), Q_OK);
	assert_int_equal(l.n, 1);
	memset(&l, 0, sizeof(l));
	memset(&q, 0, sizeof(q));
	assert_int_equal(job_list(t->s, of_tenant("acme"), &q, collect_job,
	    &l), Q_OK);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.ids[0], j[4].id);
	memset(&l, 0, sizeof(l));
	assert_int_equal(job_list(t->s, of_tenant("other"), &q, collect_job,
	    &l), Q_OK);
	assert_int_equal(l.n, 0);
	for (i = 0; i < 5; i++)
		job_free(&j[i]);
	definition_free(&d);
	definition_free(&d2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_token_create_auth),
		TU_STORE_TEST(test_token_refused),
		TU_STORE_TEST(test_token_expired),
		TU_STORE_TEST(test_token_revoke_list),
		TU_STORE_TEST(test_web_users),
		TU_STORE_TEST(test_token_name),
		TU_STORE_TEST(test_dataset_import),
		TU_STORE_TEST(test_dataset_malformed_imports_nothing),
		TU_STORE_TEST(test_dataset_replace),
		cmocka_unit_test(test_definition_parse_spec),
		cmocka_unit_test(test_definition_invalid),
		TU_STORE_TEST(test_definition_store),
		TU_STORE_TEST(test_job_create_and_409),
		cmocka_unit_test(test_state_machine),
		TU_STORE_TEST(test_job_approval_not_queued),
		TU_STORE_TEST(test_claim_oldest_first),
		TU_STORE_TEST(test_progress_and_complete),
		TU_STORE_TEST(test_expire_after_download),
		TU_STORE_TEST(test_fail_retry_max_attempts),
		TU_STORE_TEST(test_requeue_stale),
		TU_STORE_TEST(test_list_newest_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
