/*
 * Tokens: random secrets of which the store keeps only the SHA-256.
 * Record 'T' version 1: id, tenant, role, name, hash, created, expires,
 * revoked.
 */
#include <stdio.h>
#include <string.h>

#include "quarry/model.h"
#include "quarry/rec.h"
#include "quarry/seams.h"
#include "lib/token.h"
#include "records.h"

#define TOKEN_V 1

const char *
role_name(enum role r)
{
	return r == ROLE_ADMIN ? "admin" : "user";
}

static void
token_encode(struct buf *b, const struct token *t)
{
	rec_begin(b, 'T', TOKEN_V);
	rec_str(b, t->id);
	rec_str(b, t->tenant);
	rec_u64(b, (uint64_t)t->role);
	rec_str(b, t->name);
	rec_str(b, t->hash);
	rec_u64(b, (uint64_t)t->created);
	rec_u64(b, (uint64_t)t->expires);
	rec_u64(b, (uint64_t)t->revoked);
}

enum qerr
token_decode(const void *p, size_t n, struct token *t)
{
	struct rec_reader r;

	memset(t, 0, sizeof(*t));
	rec_open(&r, p, n, 'T');
	if (r.version != TOKEN_V)
		return Q_STORE;
	rec_get_strn(&r, t->id, sizeof(t->id));
	rec_get_strn(&r, t->tenant, sizeof(t->tenant));
	t->role = rec_get_u64(&r) == ROLE_ADMIN ? ROLE_ADMIN : ROLE_USER;
	rec_get_strn(&r, t->name, sizeof(t->name));
	rec_get_strn(&r, t->hash, sizeof(t->hash));
	t->created = (time_t)rec_get_u64(&r);
	t->expires = (time_t)rec_get_u64(&r);
	t->revoked = rec_get_u64(&r) != 0;
	return r.err ? Q_STORE : Q_OK;
}

/*
 * Writes new record t and its key, and audits it as action on kind:
 * tokens and web users are the system's to make (quarryctl).
 */
static enum qerr
token_put(struct stx *tx, const struct token *t, const char *action,
    const char *kind)
{
	struct buf	 b = BUF_INIT;
	struct caller	 sys;
	char		 detail[NAME_MAX_LEN + 32];
	enum qerr	 e;

	token_encode(&b, t);
	if (b.oom)
		e = Q_NOMEM;
	else if ((e = stx_put_new(tx, T_TOKENS, t->id, strlen(t->id),
	    b.data, b.len)) == Q_OK &&
	    (e = stx_put_new(tx, T_TOKEN_HASH, t->hash, 64, t->id,
	    strlen(t->id))) == Q_OK) {
		caller_system(&sys, t->tenant);
		snprintf(detail, sizeof(detail), "%s role=%s", t->name,
		    role_name(t->role));
		e = audit_write(tx, &sys, action, kind, t->id, detail);
	}
	buf_free(&b);
	return e;
}

static enum qerr
tx_token_put(struct stx *tx, void *arg)
{
	return token_put(tx, arg, "token.create", "token");
}

/* Creates a token; writes its secret (shown once) and record. */
enum qerr
token_create(struct store *s, const char *tenant, enum role role,
    const char *name, long long ttl, char secret[TOKEN_SECRET_LEN + 1],
    struct token *out)
{
	unsigned char	raw[TOKEN_SECRET_LEN / 2];
	enum qerr	e;
	size_t		i;

	if (!name_valid(tenant) || strlen(name ? name : "") > NAME_MAX_LEN ||
	    ttl < 0)
		return Q_INVALID;
	memset(out, 0, sizeof(*out));
	if ((e = id_new(out->id)) != Q_OK ||
	    (e = random_bytes(raw, sizeof(raw))) != Q_OK)
		return e;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(secret + 2 * i, 3, "%02x", raw[i]);
	snprintf(out->tenant, sizeof(out->tenant), "%s", tenant);
	snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
	out->role = role;
	sha256_hex(secret, TOKEN_SECRET_LEN, out->hash);
	out->created = q_seams.now();
	out->expires = ttl > 0 ? out->created + (time_t)ttl : 0;
	return store_txn(s, tx_token_put, out);
}

/* The key a secret is found by (see token.h). */
enum qerr
token_hash(const char *secret, char hash[65])
{
	size_t	len = strlen(secret);

	if (len == 0 || len > 256)
		return Q_FORBIDDEN;
	sha256_hex(secret, len, hash);
	return Q_OK;
}

/* The live token with that hash (see token.h). */
enum qerr
token_read_live(struct stx *tx, const char *hash, struct token *out)
{
	struct buf	id = BUF_INIT, rec = BUF_INIT;
	enum qerr	e;

	if ((e = stx_get(tx, T_TOKEN_HASH, hash, 64, &id)) == Q_OK &&
	    (e = stx_get(tx, T_TOKENS, id.data, id.len, &rec)) == Q_OK)
		e = token_decode(rec.data, rec.len, out);
	buf_free(&id);
	buf_free(&rec);
	if (e == Q_NOTFOUND)
		return Q_FORBIDDEN;
	if (e != Q_OK)
		return e;
	if (ct_memcmp(out->hash, hash, 64) != 0 || out->revoked ||
	    (out->expires != 0 && out->expires <= q_seams.now()))
		return Q_FORBIDDEN;
	return Q_OK;
}

struct token_find {
	const char	*hash;
	struct token	*t;
};

static enum qerr
tx_token_auth(struct stx *tx, void *arg)
{
	struct token_find *f = arg;

	return token_read_live(tx, f->hash, f->t);
}

/* Finds the live token for a secret (see model.h). */
enum qerr
token_auth(struct store *s, const char *secret, struct token *out)
{
	struct token_find	 f;
	char			 hash[65];
	enum qerr		 e;

	if ((e = token_hash(secret, hash)) != Q_OK)
		return e;
	f.hash = hash;
	f.t = out;
	return store_txn(s, tx_token_auth, &f);
}

static enum qerr
tx_token_revoke(struct stx *tx, void *arg)
{
	const char	*id = arg;
	struct buf	 rec = BUF_INIT;
	struct token	 t;
	enum qerr	 e;

	if ((e = stx_get(tx, T_TOKENS, id, strlen(id), &rec)) != Q_OK ||
	    (e = token_decode(rec.data, rec.len, &t)) != Q_OK)
		goto out;
	t.revoked = 1;
	token_encode(&rec, &t);
	e = rec.oom ? Q_NOMEM :
	    stx_put(tx, T_TOKENS, id, strlen(id), rec.data, rec.len);
	if (e == Q_OK) {
		struct caller sys;

		caller_system(&sys, t.tenant);
		e = token_is_user(&t) ?
		    audit_write(tx, &sys, "user.remove", "user", id, t.name) :
		    audit_write(tx, &sys, "token.revoke", "token", id,
		    t.name);
	}
out:
	buf_free(&rec);
	return e;
}

enum qerr
token_revoke(struct store *s, const char *id)
{
	if (!id_valid(id))
		return Q_NOTFOUND;
	return store_txn(s, tx_token_revoke, (void *)id);
}

struct token_listing {
	const char	*tenant;
	token_cb	 cb;
	void		*arg;
};

static int
scan_token(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct token_listing	*l = arg;
	struct token		 t;

	(void)k;
	(void)kl;
	if (token_decode(v, vl, &t) != Q_OK)
		return Q_STORE;
	if (l->tenant != NULL && strcmp(l->tenant, t.tenant) != 0)
		return 0;
	return l->cb(&t, l->arg);
}

static enum qerr
tx_token_list(struct stx *tx, void *arg)
{
	return stx_scan(tx, T_TOKENS, "", 0, NULL, 0, scan_token, arg);
}

enum qerr
token_list(struct store *s, const char *tenant, token_cb cb, void *arg)
{
	struct token_listing l = { tenant, cb, arg };

	return store_txn(s, tx_token_list, &l);
}

struct live_get {
	const char	*id;
	struct token	*t;
};

static enum qerr
tx_token_get_live(struct stx *tx, void *arg)
{
	struct live_get	*g = arg;
	struct buf	 rec = BUF_INIT;
	enum qerr	 e;

	if ((e = stx_get(tx, T_TOKENS, g->id, strlen(g->id), &rec)) == Q_OK)
		e = token_decode(rec.data, rec.len, g->t);
	buf_free(&rec);
	return e;
}

/* A live token by its id (see model.h). */
enum qerr
token_get_live(struct store *s, const char *id, struct token *out)
{
	struct live_get	g = { id, out };
	enum qerr	e;

	memset(out, 0, sizeof(*out));
	if (!id_valid(id))
		return Q_NOTFOUND;
	if ((e = store_txn(s, tx_token_get_live, &g)) != Q_OK)
		return e;
	if (out->revoked || (out->expires != 0 &&
	    out->expires <= q_seams.now()))
		return Q_NOTFOUND;
	return Q_OK;
}

struct name_get {
	const struct caller	*who;
	const char		*id;
	char			*name;
};

static enum qerr
tx_token_name(struct stx *tx, void *arg)
{
	struct name_get	*g = arg;
	struct buf	 rec = BUF_INIT;
	struct token	 t;
	enum qerr	 e;

	if ((e = stx_get(tx, T_TOKENS, g->id, strlen(g->id), &rec)) == Q_OK &&
	    (e = token_decode(rec.data, rec.len, &t)) == Q_OK) {
		if (!caller_sees_tenant(g->who, t.tenant) ||
		    (!caller_is_admin(g->who) &&
		    strcmp(g->who->principal, t.id) != 0))
			e = Q_NOTFOUND;
		else
			memcpy(g->name, t.name, sizeof(t.name));
	}
	buf_free(&rec);
	return e;
}

/* The name of token id, for who (see model.h). */
enum qerr
token_name(struct store *s, const struct caller *who, const char *id,
    char name[NAME_MAX_LEN + 1])
{
	struct name_get	g = { who, id, name };

	name[0] = '\0';
	if (!id_valid(id))
		return Q_NOTFOUND;
	return store_txn(s, tx_token_name, &g);
}

/*
 * Web users (remote_user = on).  A web user is a credential of its tenant
 * like a token, whose key is the name the web server signed it in with
 * instead of a secret's hash: its record is a token record whose hash is
 * "u" and 63 hex digits of SHA-256("remote-user:" name).  No secret can
 * have that key (a secret's is 64 hex digits), so a token never stands
 * for a web user nor the reverse; and ownership, roles, revocation,
 * createdBy, signed links and the audit trail treat both alike.
 */

/* The key of web user name. */
static void
user_hash(const char *name, char hash[65])
{
	static const char hex[] = "0123456789abcdef";
	struct sha256	c;
	uint8_t		d[32];
	size_t		i;

	sha256_init(&c);
	sha256_update(&c, "remote-user:", 12);
	sha256_update(&c, name, strlen(name));
	sha256_final(&c, d);
	hash[0] = 'u';
	/* 63 digits: the last one gives way to the 'u' */
	for (i = 0; i < 63; i++)
		hash[1 + i] = hex[(d[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	hash[64] = '\0';
}

/* True if t is a web user's record (see model.h). */
int
token_is_user(const struct token *t)
{
	return t->hash[0] == 'u';
}

/* True if name may be a web user's: 1-200 bytes of text, no control. */
int
user_name_valid(const char *name)
{
	size_t	n = strlen(name), i;

	if (n == 0 || n > NAME_MAX_LEN || utf8_check(name, n) != n)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

static enum qerr
tx_user_add(struct stx *tx, void *arg)
{
	struct token	*t = arg;
	struct token	 old;
	enum qerr	 e;

	e = token_read_live(tx, t->hash, &old);
	if (e == Q_OK)
		return Q_EXISTS;		/* mapped already */
	if (e != Q_FORBIDDEN)
		return e;
	/* a removed user's key: the old record stays, revoked */
	if ((e = stx_del(tx, T_TOKEN_HASH, t->hash, 64)) != Q_OK &&
	    e != Q_NOTFOUND)
		return e;
	return token_put(tx, t, "user.add", "user");
}

/* Maps web user name to tenant and role (see model.h). */
enum qerr
user_add(struct store *s, const char *name, const char *tenant,
    enum role role, struct token *out)
{
	enum qerr	e;

	if (!user_name_valid(name) || !name_valid(tenant))
		return Q_INVALID;
	memset(out, 0, sizeof(*out));
	if ((e = id_new(out->id)) != Q_OK)
		return e;
	snprintf(out->tenant, sizeof(out->tenant), "%s", tenant);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->role = role;
	user_hash(name, out->hash);
	out->created = q_seams.now();
	return store_txn(s, tx_user_add, out);
}

/* The live mapping of web user name (see model.h). */
enum qerr
user_auth(struct store *s, const char *name, struct token *out)
{
	struct token_find	f;
	char			hash[65];

	memset(out, 0, sizeof(*out));
	if (!user_name_valid(name))
		return Q_FORBIDDEN;
	user_hash(name, hash);
	f.hash = hash;
	f.t = out;
	return store_txn(s, tx_token_auth, &f);
}

/* Removes the mapping of web user name (see model.h). */
enum qerr
user_remove(struct store *s, const char *name)
{
	struct token	t;
	enum qerr	e;

	if ((e = user_auth(s, name, &t)) == Q_FORBIDDEN)
		return Q_NOTFOUND;
	if (e != Q_OK)
		return e;
	return token_revoke(s, t.id);
}
