/*
 * quarryctl verify [--repair] (issue 14, docs/operations.md): checks a
 * live store.  Every record decodes at its version; every index agrees
 * with the job records (the listing indexes, the queue, the active keys,
 * the job counts); every completed job's file exists with its recorded
 * size; no file without a job; no temporary file of a build that is not
 * running.
 *
 * The store keeps changing while this runs, so a first pass reads each
 * table without holding locks and notes what looks wrong; each of those
 * is then looked at again in a transaction of its own, with the records
 * it concerns, and only what is still wrong there is reported (and, with
 * repair, mended in that same transaction: a stray index entry deleted,
 * a missing one written, a count set to what the index holds, a job
 * whose file is gone or damaged expired, an orphan or stale file
 * removed).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "quarry/seams.h"
#include "quarry/store.h"
#include "quarry/util.h"
#include "records.h"

struct vjob {
	struct job	j;
	unsigned	found;		/* bit i: expected key i seen */
};

/* Something that looked wrong in the first pass. */
struct suspect {
	enum table	 t;
	struct buf	 k;		/* the entry's key, or the job id */
	int		 kind;
	int		 settle;	/* a file: look again in a moment */
};

enum { S_RECORD, S_STRAY, S_MISSING, S_COUNT, S_FILE, S_ORPHAN, S_TMP };

struct verify {
	struct buf		 counts;	/* count keys seen, NUL-less
						   length-prefixed */
	struct store		*s;
	const struct conf	*c;
	int			 repair;
	verify_say		 say;
	void			*arg;
	struct verify_result	*res;
	struct vjob		*jobs;
	size_t			 njobs, cap;
	struct suspect		*sus;
	size_t			 nsus, scap;
	enum table		 t;		/* the table being scanned */
	int			 oom;
	/* for the transactions of the second pass */
	const struct suspect	*cur;
	int			 confirmed, mended;
	char			 what[512];
	char			 unlink_file[JOB_FILE_MAX];	/* once
						   committed */
};

static const char *
table_name(enum table t)
{
	switch (t) {
	case T_META:		return "meta";
	case T_TOKENS:		return "tokens";
	case T_TOKEN_HASH:	return "token hashes";
	case T_DATASETS:	return "datasets";
	case T_ROWS:		return "rows";
	case T_DEFS:		return "definitions";
	case T_DEFS_BY_TENANT:	return "definitions by tenant";
	case T_JOBS:		return "jobs";
	case T_JOBS_BY_DEF:	return "jobs by definition";
	case T_JOBS_BY_TENANT:	return "jobs by tenant";
	case T_QUEUE:		return "old queue";
	case T_ACTIVE:		return "active keys";
	case T_JOBS_BY_OWNER:	return "jobs by owner";
	case T_JOBS_BY_STATE:	return "jobs by state";
	case T_READY:		return "ready queue";
	case T_DELAYED:		return "delayed queue";
	case T_AUDIT:		return "audit";
	case T_ROWS_OLD:
	case T_NTABLES:		break;
	}
	return "?";
}

static void
say(struct verify *v, const char *fmt, ...)
{
	char	line[768];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v->say(v->arg, line);
}

static void
suspect(struct verify *v, enum table t, const void *k, size_t kl, int kind)
{
	struct suspect *n;

	if (v->nsus == v->scap) {
		size_t c = v->scap ? v->scap * 2 : 64;

		if ((n = realloc(v->sus, c * sizeof(*n))) == NULL) {
			v->oom = 1;
			return;
		}
		v->sus = n;
		v->scap = c;
	}
	n = &v->sus[v->nsus++];
	memset(n, 0, sizeof(*n));
	n->t = t;
	n->kind = kind;
	buf_add(&n->k, k, kl);
}

/* A key as text: printable bytes as they are, the others as \xNN. */
static const char *
show_key(const struct buf *k, char *out, size_t len)
{
	size_t	i, o = 0;
	unsigned char c;

	for (i = 0; i < k->len && o + 5 < len; i++) {
		c = (unsigned char)k->data[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

/* ---- the first pass ---- */

static int
take_job(const void *k, size_t kl, const void *val, size_t vl, void *arg)
{
	struct verify	*v = arg;
	struct vjob	*n;

	v->res->records++;
	if (v->njobs == v->cap) {
		size_t c = v->cap ? v->cap * 2 : 256;

		if ((n = realloc(v->jobs, c * sizeof(*n))) == NULL) {
			v->oom = 1;
			return Q_NOMEM;
		}
		v->jobs = n;
		v->cap = c;
	}
	n = &v->jobs[v->njobs];
	memset(n, 0, sizeof(*n));
	if (kl != ID_LEN || job_decode(val, vl, &n->j) != Q_OK ||
	    memcmp(n->j.id, k, ID_LEN) != 0) {
		job_free(&n->j);
		suspect(v, T_JOBS, k, kl, S_RECORD);
		return VISIT_NEXT;
	}
	v->njobs++;
	return VISIT_NEXT;
}

/* Records of the other tables: they decode. */
static int
check_record(const void *k, size_t kl, const void *val, size_t vl,
    void *arg)
{
	struct verify		*v = arg;
	struct definition	 d;
	struct dataset		 ds;
	struct token		 t;
	enum qerr		 e = Q_OK;

	v->res->records++;
	switch (v->t) {
	case T_DEFS:
		e = def_decode(val, vl, &d);
		if (e == Q_OK)
			definition_free(&d);
		break;
	case T_DATASETS:
		e = dataset_decode(val, vl, &ds);
		if (e == Q_OK)
			dataset_free(&ds);
		break;
	case T_TOKENS:
		e = token_decode(val, vl, &t);
		break;
	default:
		break;
	}
	if (e != Q_OK)
		suspect(v, v->t, k, kl, S_RECORD);
	return VISIT_NEXT;
}

static int
by_id(const void *a, const void *b)
{
	return memcmp(((const struct vjob *)a)->j.id,
	    ((const struct vjob *)b)->j.id, ID_LEN);
}

static struct vjob *
find_job(struct verify *v, const char *id)
{
	struct vjob key;

	memcpy(key.j.id, id, ID_LEN);
	return bsearch(&key, v->jobs, v->njobs, sizeof(*v->jobs), by_id);
}

/* Which of j's expected keys (t, k) is; -1 if none. */
static int
key_index(const struct job_key *keys, size_t n, enum table t, const void *k,
    size_t kl)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keys[i].t == t && keys[i].k.len == kl &&
		    memcmp(keys[i].k.data, k, kl) == 0)
			return (int)i;
	return -1;
}

static int
check_entry(const void *k, size_t kl, const void *val, size_t vl, void *arg)
{
	struct verify	*v = arg;
	struct job_key	 keys[JOB_KEYS_MAX];
	struct vjob	*j;
	size_t		 n;
	int		 i;

	v->res->entries++;
	if (vl < ID_LEN || (j = find_job(v, val)) == NULL) {
		suspect(v, v->t, k, kl, S_STRAY);
		return VISIT_NEXT;
	}
	n = job_index_keys(&j->j, keys);
	if ((i = key_index(keys, n, v->t, k, kl)) < 0)
		suspect(v, v->t, k, kl, S_STRAY);
	else
		j->found |= 1u << i;
	job_keys_free(keys, n);
	return VISIT_NEXT;
}

/* The expected keys no entry matched: one suspect per group. */
static void
find_missing(struct verify *v)
{
	struct job_key	keys[JOB_KEYS_MAX];
	size_t		i, k, n, g;
	unsigned	group;

	for (i = 0; i < v->njobs; i++) {
		n = job_index_keys(&v->jobs[i].j, keys);
		for (k = 0; k < n; k = g) {
			group = 0;
			for (g = k; g < n; g++) {
				group |= 1u << g;
				if (!keys[g].alt) {
					g++;
					break;
				}
			}
			if (!(v->jobs[i].found & group))
				suspect(v, keys[k].t, v->jobs[i].j.id, ID_LEN,
				    S_MISSING);
		}
		job_keys_free(keys, n);
	}
}

/* ---- the job counts ---- */

struct counted {
	const unsigned char	*prefix;
	size_t			 pl;
	uint64_t		 n;
};

static int
count_one(const void *k, size_t kl, const void *val, size_t vl, void *arg)
{
	struct counted *c = arg;

	(void)k;
	(void)kl;
	(void)val;
	(void)vl;
	c->n++;
	return VISIT_NEXT;
}

static int
check_count(const void *k, size_t kl, const void *val, size_t vl, void *arg)
{
	struct verify	*v = arg;
	const char	*p = (const char *)k + 2, *nul;
	size_t		 i, tl, want = 0;
	uint64_t	 have;

	if (vl != 8) {
		suspect(v, T_META, k, kl, S_COUNT);
		return VISIT_NEXT;
	}
	have = be64_get(val);
	buf_add(&v->counts, &kl, sizeof(kl));
	buf_add(&v->counts, k, kl);
	/* "n" NUL tenant [NUL owner] */
	nul = memchr(p, '\0', kl - 2);
	tl = nul ? (size_t)(nul - p) : kl - 2;
	for (i = 0; i < v->njobs; i++) {
		const struct job *j = &v->jobs[i].j;

		if (strlen(j->tenant) != tl || memcmp(j->tenant, p, tl) != 0)
			continue;
		if (nul != NULL && (strlen(j->owner) != kl - 3 - tl ||
		    memcmp(j->owner, nul + 1, kl - 3 - tl) != 0))
			continue;
		want++;
	}
	if (want != have)
		suspect(v, T_META, k, kl, S_COUNT);
	return VISIT_NEXT;
}

/* The count keys of the jobs' tenants and owners that are not there. */
static void
find_missing_counts(struct verify *v)
{
	unsigned char	k[JOB_INDEX_KEY_MAX + 2];
	size_t		i, o, kl, l;
	int		pass, seen;

	for (i = 0; i < v->njobs; i++)
		for (pass = 0; pass < 2; pass++) {
			kl = job_count_key(v->jobs[i].j.tenant, pass ?
			    v->jobs[i].j.owner : NULL, k);
			seen = 0;
			for (o = 0; o + sizeof(l) <= v->counts.len && !seen;
			    o += sizeof(l) + l) {
				memcpy(&l, v->counts.data + o, sizeof(l));
				seen = l == kl && memcmp(v->counts.data + o +
				    sizeof(l), k, kl) == 0;
			}
			if (seen)
				continue;
			buf_add(&v->counts, &kl, sizeof(kl));
			buf_add(&v->counts, k, kl);
			suspect(v, T_META, k, kl, S_COUNT);
		}
}

/* ---- the files ---- */

static int
file_ok(const char *dir, const char *name, uint64_t size)
{
	char		p[PATH_MAX];
	struct stat	st;

	if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p))
		return 0;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == size;
}

static void
check_files(struct verify *v)
{
	DIR		*d;
	struct dirent	*e;
	size_t		 i, n;
	char		 stem[ID_LEN + 1];
	struct vjob	*j;
	time_t		 now = q_seams.now();

	for (i = 0; i < v->njobs; i++) {
		const struct job *jb = &v->jobs[i].j;

		if (jb->state != JS_COMPLETED || jb->file[0] == '\0' ||
		    (jb->expires != 0 && jb->expires <= now))
			continue;
		v->res->files++;
		if (!file_ok(v->c->files_dir, jb->file, jb->file_size))
			suspect(v, T_JOBS, jb->id, ID_LEN, S_FILE);
	}
	if ((d = opendir(v->c->files_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n = strcspn(e->d_name, ".");
		j = NULL;
		if (n == ID_LEN) {
			memcpy(stem, e->d_name, ID_LEN);
			stem[ID_LEN] = '\0';
			j = find_job(v, stem);
		}
		n = strlen(e->d_name);
		if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) {
			if (j == NULL || j->j.state != JS_RUNNING)
				suspect(v, T_NTABLES, e->d_name, n, S_TMP);
		} else if (j == NULL || j->j.state != JS_COMPLETED ||
		    strcmp(j->j.file, e->d_name) != 0)
			suspect(v, T_NTABLES, e->d_name, n, S_ORPHAN);
	}
	closedir(d);
}

/* ---- the second pass: each suspect again, in a transaction ---- */

static void
job_of_name(const struct buf *k, char id[ID_LEN + 1])
{
	size_t n = k->len < ID_LEN ? k->len : ID_LEN;

	memcpy(id, k->data, n);
	id[n] = '\0';
}

static enum qerr
tx_recheck(struct stx *tx, void *arg)
{
	struct verify		*v = arg;
	const struct suspect	*su = v->cur;
	struct buf		 val = BUF_INIT;
	struct job_key		 keys[JOB_KEYS_MAX];
	struct job		 j;
	struct counted		 cn;
	struct definition	 d;
	struct dataset		 ds;
	struct token		 t;
	char			 id[ID_LEN + 1], ks[256], path[PATH_MAX];
	size_t			 n = 0, i;
	int			 at;
	enum qerr		 e = Q_OK;

	v->confirmed = v->mended = 0;
	v->what[0] = '\0';
	v->unlink_file[0] = '\0';
	memset(&j, 0, sizeof(j));
	switch (su->kind) {
	case S_RECORD:
		if ((e = stx_get(tx, su->t, su->k.data, su->k.len, &val)) !=
		    Q_OK) {
			if (e == Q_NOTFOUND)
				e = Q_OK;	/* gone meanwhile */
			break;
		}
		v->t = su->t;
		if (su->t == T_JOBS) {
			if (su->k.len == ID_LEN && job_decode(val.data, val.len,
			    &j) == Q_OK && memcmp(j.id, su->k.data, ID_LEN) ==
			    0)
				break;
		} else {
			e = su->t == T_DEFS ? def_decode(val.data, val.len,
			    &d) : su->t == T_DATASETS ? dataset_decode(val.data,
			    val.len, &ds) : token_decode(val.data, val.len, &t);
			if (e == Q_OK) {
				if (su->t == T_DEFS)
					definition_free(&d);
				else if (su->t == T_DATASETS)
					dataset_free(&ds);
				break;
			}
		}
		v->confirmed = 1;
		snprintf(v->what, sizeof(v->what), "%s: the record %s does not "
		    "decode (not mended: restore it from a backup)",
		    table_name(su->t), show_key(&su->k, ks, sizeof(ks)));
		break;
	case S_STRAY:
		if ((e = stx_get(tx, su->t, su->k.data, su->k.len, &val)) !=
		    Q_OK) {
			if (e == Q_NOTFOUND)
				e = Q_OK;	/* gone meanwhile */
			break;
		}
		at = -1;
		if (val.len >= ID_LEN) {
			memcpy(id, val.data, ID_LEN);
			id[ID_LEN] = '\0';
			if ((e = job_read(tx, id, &j)) == Q_OK) {
				n = job_index_keys(&j, keys);
				at = key_index(keys, n, su->t, su->k.data,
				    su->k.len);
			} else if (e != Q_NOTFOUND)
				goto out;
			e = Q_OK;
		}
		if (at >= 0)
			break;
		v->confirmed = 1;
		snprintf(v->what, sizeof(v->what), "%s: the entry %s %s",
		    table_name(su->t), show_key(&su->k, ks, sizeof(ks)),
		    j.id[0] ? "does not match its job" : "names no job");
		if (v->repair) {
			if ((e = stx_del(tx, su->t, su->k.data, su->k.len)) !=
			    Q_OK)
				goto out;
			v->mended = 1;
		}
		break;
	case S_MISSING:
		job_of_name(&su->k, id);
		if ((e = job_read(tx, id, &j)) != Q_OK) {
			if (e == Q_NOTFOUND)
				e = Q_OK;	/* purged meanwhile */
			break;
		}
		n = job_index_keys(&j, keys);
		at = -1;
		for (i = 0; i < n; i++) {
			if (keys[i].t != su->t)
				continue;
			at = (int)i;
			break;
		}
		if (at < 0)
			break;			/* no longer expected */
		for (i = (size_t)at; i < n; i++) {
			e = stx_get(tx, keys[i].t, keys[i].k.data,
			    keys[i].k.len, &val);
			if (e == Q_OK)
				goto out;	/* there now */
			if (e != Q_NOTFOUND)
				goto out;
			e = Q_OK;
			if (!keys[i].alt)
				break;
		}
		v->confirmed = 1;
		snprintf(v->what, sizeof(v->what), "job %s (%s) is missing "
		    "from the %s index", id, job_state_name(j.state),
		    table_name(su->t));
		if (v->repair) {
			if (su->t == T_READY || su->t == T_DELAYED ||
			    su->t == T_QUEUE)
				e = job_queue_put(tx, &j);
			else
				e = stx_put(tx, su->t, keys[at].k.data,
				    keys[at].k.len, j.id, ID_LEN);
			if (e != Q_OK)
				goto out;
			v->mended = 1;
		}
		break;
	case S_COUNT: {
		const char	*p = su->k.data + 2;
		size_t		 pl = su->k.len - 2;
		unsigned char	 pre[JOB_INDEX_KEY_MAX + 2];
		uint64_t	 have = 0;

		/* counted again from the index: tenant NUL [owner NUL] */
		memcpy(pre, p, pl);
		pre[pl] = '\0';
		memset(&cn, 0, sizeof(cn));
		e = stx_scan(tx, memchr(p, '\0', pl) ? T_JOBS_BY_OWNER :
		    T_JOBS_BY_TENANT, pre, pl + 1, NULL, 0, count_one, &cn);
		if (e != Q_OK)
			goto out;
		if ((e = stx_get(tx, T_META, su->k.data, su->k.len, &val)) !=
		    Q_OK && e != Q_NOTFOUND)
			goto out;
		if (e == Q_OK && val.len == 8)
			have = be64_get((const unsigned char *)val.data);
		e = Q_OK;
		if (have == cn.n)
			break;
		v->confirmed = 1;
		snprintf(v->what, sizeof(v->what), "the job count %s is %llu, "
		    "the index holds %llu", show_key(&su->k, ks, sizeof(ks)),
		    (unsigned long long)have, (unsigned long long)cn.n);
		if (v->repair) {
			if ((e = job_count_set(tx, (const unsigned char *)
			    su->k.data, su->k.len, cn.n)) != Q_OK)
				goto out;
			v->mended = 1;
		}
		break;
	}
	case S_FILE:
		job_of_name(&su->k, id);
		if ((e = job_read(tx, id, &j)) != Q_OK) {
			if (e == Q_NOTFOUND)
				e = Q_OK;
			break;
		}
		if (j.state != JS_COMPLETED || j.file[0] == '\0' ||
		    file_ok(v->c->files_dir, j.file, j.file_size))
			break;
		v->confirmed = 1;
		snprintf(v->what, sizeof(v->what), "job %s is completed but its "
		    "file %s is missing or not of its %llu bytes%s", id, j.file,
		    (unsigned long long)j.file_size, v->repair ? "; the job is "
		    "expired" : "");
		if (v->repair) {
			snprintf(v->unlink_file, sizeof(v->unlink_file), "%s",
			    j.file);
			if ((e = job_set_detail(&j, "its file was missing or "
			    "damaged (quarryctl verify --repair)")) != Q_OK ||
			    (e = job_transition(tx, &j, JS_EXPIRED)) != Q_OK)
				goto out;
			v->mended = 1;
		}
		break;
	case S_ORPHAN:
	case S_TMP:
		job_of_name(&su->k, id);
		if (su->k.len >= ID_LEN && su->k.data[ID_LEN] == '.' &&
		    (e = job_read(tx, id, &j)) != Q_OK && e != Q_NOTFOUND)
			goto out;
		e = Q_OK;
		if (su->kind == S_TMP && j.id[0] && j.state == JS_RUNNING)
			break;
		/*
		 * The job's own file: completed, or (a moment) renamed into
		 * place by a build that records its completion next.
		 */
		if (su->kind == S_ORPHAN && j.id[0] && (j.state ==
		    JS_COMPLETED || j.state == JS_RUNNING) &&
		    (j.state == JS_RUNNING || (su->k.len == strlen(j.file) &&
		    memcmp(su->k.data, j.file, su->k.len) == 0)))
			break;
		if (snprintf(path, sizeof(path), "%s/%.*s", v->c->files_dir,
		    (int)su->k.len, su->k.data) >= (int)sizeof(path))
			break;
		if (access(path, F_OK) != 0)
			break;			/* gone meanwhile */
		v->confirmed = 1;
		snprintf(v->what, sizeof(v->what), su->kind == S_TMP ?
		    "files: %.*s is a temporary file of no running build" :
		    "files: %.*s belongs to no completed job",
		    (int)su->k.len, su->k.data);
		/* removed once this transaction (which wrote nothing) ends */
		v->mended = v->repair;
		break;
	}
out:
	buf_free(&val);
	job_keys_free(keys, n);
	job_free(&j);
	return e;
}

static void
recheck(struct verify *v)
{
	char	path[PATH_MAX];
	size_t	i;
	int	pass, settling = 0;
	enum qerr e;

	/*
	 * A file's problem is looked at once more a second later: between
	 * a build's rename and its completion, or a job's expiry and the
	 * removal of its file, a file is briefly neither.
	 */
	for (pass = 0; pass < 2; pass++)
	for (i = 0; i < v->nsus; i++) {
		v->cur = &v->sus[i];
		if (pass == 1 && !v->sus[i].settle)
			continue;
		if (pass == 1 && !settling) {
			sleep(1);
			settling = 1;
		}
		if ((e = store_txn(v->s, tx_recheck, v)) != Q_OK) {
			say(v, "could not check %s again: %s",
			    table_name(v->cur->t), qerr_str(e));
			v->res->problems++;
			continue;
		}
		if (!v->confirmed)
			continue;
		if (pass == 0 && (v->cur->kind == S_ORPHAN ||
		    v->cur->kind == S_TMP)) {
			v->sus[i].settle = 1;
			continue;
		}
		if (v->mended && v->unlink_file[0] != '\0')
			job_unlink_file(v->c->files_dir, v->unlink_file);
		if (v->mended && (v->cur->kind == S_ORPHAN ||
		    v->cur->kind == S_TMP)) {
			/* a directory entry's name: shorter than NAME_MAX */
			if ((size_t)snprintf(path, sizeof(path), "%s/%.255s",
			    v->c->files_dir, buf_str(&v->cur->k)) >=
			    sizeof(path) || (unlink(path) != 0 &&
			    errno != ENOENT))
				v->mended = 0;
		}
		v->res->problems++;
		if (v->mended) {
			v->res->mended++;
			say(v, "%s: mended", v->what);
		} else
			say(v, "%s", v->what);
	}
}

/* Checks (and with repair mends) the store (see model.h). */
enum qerr
store_verify(struct store *s, int repair, verify_say out, void *arg,
    struct verify_result *res)
{
	static const enum table others[] = { T_DEFS, T_DATASETS, T_TOKENS };
	static const enum table indexes[] = { T_JOBS_BY_DEF,
	    T_JOBS_BY_TENANT, T_JOBS_BY_OWNER, T_JOBS_BY_STATE, T_READY,
	    T_DELAYED, T_QUEUE, T_ACTIVE };
	struct verify	v;
	size_t		i;
	enum qerr	e;

	memset(&v, 0, sizeof(v));
	memset(res, 0, sizeof(*res));
	v.s = s;
	v.c = store_conf(s);
	v.repair = repair;
	v.say = out;
	v.arg = arg;
	v.res = res;
	v.t = T_JOBS;
	if ((e = store_scan(s, T_JOBS, "", 0, take_job, &v)) != Q_OK)
		goto done;
	qsort(v.jobs, v.njobs, sizeof(*v.jobs), by_id);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		v.t = others[i];
		if ((e = store_scan(s, v.t, "", 0, check_record, &v)) != Q_OK)
			goto done;
	}
	for (i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		v.t = indexes[i];
		if ((e = store_scan(s, v.t, "", 0, check_entry, &v)) != Q_OK)
			goto done;
	}
	find_missing(&v);
	if ((e = store_scan(s, T_META, "n", 2, check_count, &v)) != Q_OK)
		goto done;
	find_missing_counts(&v);
	check_files(&v);
	if (v.oom) {
		e = Q_NOMEM;
		goto done;
	}
	recheck(&v);
done:
	for (i = 0; i < v.njobs; i++)
		job_free(&v.jobs[i].j);
	free(v.jobs);
	for (i = 0; i < v.nsus; i++)
		buf_free(&v.sus[i].k);
	free(v.sus);
	buf_free(&v.counts);
	return e;
}
