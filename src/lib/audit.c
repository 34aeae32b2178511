/*
 * The audit trail (issue 14, docs/operations.md): who (tenant, token id
 * and name, role, remote address) did what to which resource, when.  A
 * change writes its record in its own transaction (audit_write), so the
 * record exists exactly when the change does; what changes nothing in the
 * store (a download, a refused authentication) writes one in a
 * transaction of its own (audit_record).
 *
 * Table T_AUDIT, key be64(microseconds since the epoch) + 4 random bytes
 * (time order, no shared counter to contend on); record 'A' version 1:
 * time (µs), tenant, principal, name, role ("admin", "user", "system",
 * "" for an unknown caller), addr, action, kind, id, detail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "quarry/log.h"
#include "quarry/model.h"
#include "quarry/rec.h"
#include "quarry/seams.h"
#include "quarry/store.h"
#include "quarry/util.h"

#define AUDIT_V 1

static const char *
role_word(const struct caller *who)
{
	if (who == NULL || who->kind == CALLER_NONE)
		return "";
	if (who->kind == CALLER_SYSTEM)
		return "system";
	return who->role == ROLE_ADMIN ? "admin" : "user";
}

static uint64_t
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	/* the seam's clock for the seconds (tests set it) */
	return (uint64_t)q_seams.now() * 1000000 + (uint64_t)tv.tv_usec;
}

/* Writes one audit record in tx (see model.h). */
enum qerr
audit_write(struct stx *tx, const struct caller *who, const char *action,
    const char *kind, const char *id, const char *detail)
{
	struct buf	rec = BUF_INIT;
	unsigned char	k[12];
	uint64_t	t = now_us();
	enum qerr	e;

	be64_put(k, t);
	random_bytes(k + 8, 4);
	rec_begin(&rec, 'A', AUDIT_V);
	rec_u64(&rec, t);
	rec_str(&rec, who ? who->tenant : "");
	rec_str(&rec, who ? who->principal : "");
	rec_str(&rec, who ? who->name : "");
	rec_str(&rec, role_word(who));
	rec_str(&rec, who ? who->addr : "");
	rec_str(&rec, action);
	rec_str(&rec, kind ? kind : "");
	rec_str(&rec, id ? id : "");
	rec_str(&rec, detail ? detail : "");
	e = rec.oom ? Q_NOMEM : stx_put(tx, T_AUDIT, k, sizeof(k), rec.data,
	    rec.len);
	buf_free(&rec);
	return e;
}

struct one {
	const struct caller	*who;
	const char		*action, *kind, *id, *detail;
};

static enum qerr
tx_one(struct stx *tx, void *arg)
{
	struct one *o = arg;

	return audit_write(tx, o->who, o->action, o->kind, o->id, o->detail);
}

/* One audit record in a transaction of its own (see model.h). */
enum qerr
audit_record(struct store *s, const struct caller *who, const char *action,
    const char *kind, const char *id, const char *detail)
{
	struct one	o = { who, action, kind, id, detail };
	enum qerr	e;

	if ((e = store_txn(s, tx_one, &o)) != Q_OK)
		qlog(LOG_WARN, "audit: %s of %s %s not recorded: %s", action,
		    kind ? kind : "", id ? id : "", qerr_str(e));
	return e;
}

static enum qerr
decode(const void *p, size_t n, struct audit_entry *a)
{
	struct rec_reader r;

	memset(a, 0, sizeof(*a));
	rec_open(&r, p, n, 'A');
	if (r.version != AUDIT_V)
		return Q_STORE;
	a->time_us = rec_get_u64(&r);
	rec_get_strn(&r, a->tenant, sizeof(a->tenant));
	rec_get_strn(&r, a->principal, sizeof(a->principal));
	rec_get_strn(&r, a->name, sizeof(a->name));
	rec_get_strn(&r, a->role, sizeof(a->role));
	rec_get_strn(&r, a->addr, sizeof(a->addr));
	rec_get_strn(&r, a->action, sizeof(a->action));
	rec_get_strn(&r, a->kind, sizeof(a->kind));
	rec_get_strn(&r, a->id, sizeof(a->id));
	rec_get_strn(&r, a->detail, sizeof(a->detail));
	return r.err ? Q_STORE : Q_OK;
}

struct listing {
	const char	*tenant;
	audit_fn	 fn;
	void		*arg;
};

static int
list_one(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct listing		*l = arg;
	struct audit_entry	 a;

	(void)k;
	(void)kl;
	if (decode(v, vl, &a) != Q_OK)
		return VISIT_NEXT;
	if (l->tenant != NULL && strcmp(a.tenant, l->tenant) != 0)
		return VISIT_NEXT;
	return l->fn(&a, l->arg);
}

/* The records since `since`, oldest first (see model.h). */
enum qerr
audit_list(struct store *s, const char *tenant, time_t since, audit_fn fn,
    void *arg)
{
	struct listing	l = { tenant, fn, arg };
	unsigned char	start[8];

	be64_put(start, (uint64_t)(since > 0 ? since : 0) * 1000000);
	return store_scan_from(s, T_AUDIT, start, sizeof(start), list_one,
	    &l);
}

struct purge {
	uint64_t	 before;
	struct buf	 keys;
	unsigned	 n;
};

static int
collect_old(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct purge *p = arg;

	(void)v;
	(void)vl;
	if (kl != 12 || be64_get(k) >= p->before || p->keys.len >= 12 * 1000)
		return VISIT_STOP;
	buf_add(&p->keys, k, kl);
	return VISIT_NEXT;
}

static enum qerr
tx_purge(struct stx *tx, void *arg)
{
	struct purge	*p = arg;
	size_t		 i;
	enum qerr	 e;

	buf_reset(&p->keys);
	if ((e = stx_scan(tx, T_AUDIT, "", 0, NULL, 0, collect_old, p)) !=
	    Q_OK)
		return e;
	for (i = 0; i + 12 <= p->keys.len; i += 12)
		if ((e = stx_del(tx, T_AUDIT, p->keys.data + i, 12)) != Q_OK &&
		    e != Q_NOTFOUND)
			return e;
	return Q_OK;
}

/* Deletes the records older than before (see model.h). */
enum qerr
audit_purge(struct store *s, time_t before, unsigned *n)
{
	struct purge	p;
	enum qerr	e;

	memset(&p, 0, sizeof(p));
	p.before = (uint64_t)(before > 0 ? before : 0) * 1000000;
	*n = 0;
	/* a thousand at a time: no transaction grows without bound */
	do {
		if ((e = store_txn(s, tx_purge, &p)) != Q_OK)
			break;
		*n += (unsigned)(p.keys.len / 12);
	} while (p.keys.len == 12 * 1000);
	buf_free(&p.keys);
	return e;
}
