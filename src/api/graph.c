/*
 * The Graph dialect's handlers (SPEC section 5): definitions (read for
 * everyone, write for admins), exportJobs create/list/get/delete/content
 * and approve/reject.  Which program serves each is in routes.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api.h"
#include "dialect/dialect.h"
#include "quarry/jsonutil.h"
#include "quarry/log.h"
#include "quarry/seams.h"

#define TOP_DEFAULT	100
#define TOP_MAX		1000
#define RETRY_AFTER	2	/* seconds a client should wait to poll again */

/* ---- definitions ---- */

static int
add_def(const struct definition *d, void *arg)
{
	json_object_array_add(arg, graph_definition(d));
	return VISIT_NEXT;
}

/* GET /api/v1/definitions */
enum qerr
graph_list_definitions(struct request *r)
{
	struct json_object	*o, *a;
	enum qerr		 e;

	a = json_object_new_array();
	if ((e = definition_list(r->store, &r->who, add_def, a)) != Q_OK) {
		json_object_put(a);
		return e;
	}
	o = json_object_new_object();
	json_object_object_add(o, "value", a);
	json_send(r, 200, GRAPH_CTYPE, o);
	return Q_OK;
}

static enum qerr
no_definition(struct request *r, enum qerr e)
{
	if (e == Q_NOTFOUND)
		snprintf(r->err_msg, sizeof(r->err_msg), "no such definition");
	return e;
}

/* GET /api/v1/definitions/{id} */
enum qerr
graph_show_definition(struct request *r)
{
	struct definition	d;
	enum qerr		e;

	if ((e = definition_get(r->store, &r->who, r->capture[0], &d)) !=
	    Q_OK)
		return no_definition(r, e);
	json_send(r, 200, GRAPH_CTYPE, graph_definition(&d));
	definition_free(&d);
	return Q_OK;
}

/*
 * Stores the body's definition document, without the members Graph adds
 * when it shows one (so a document read may be sent back): a new
 * definition (id NULL: 201 with Location) or definition id (200).
 */
static enum qerr
put_definition(struct request *r, const char *id)
{
	struct json_object	*o;
	struct definition	 d;
	struct refusal		 why;
	enum qerr		 e;

	if ((e = api_body_json(r, 1, &o)) != Q_OK)
		return e;
	json_object_object_del(o, "createdDateTime");
	json_object_object_del(o, "modifiedDateTime");
	e = id == NULL ? definition_create(r->store, &r->who, o, &d, &why) :
	    definition_replace(r->store, &r->who, id, o, &d, &why);
	json_object_put(o);
	if (e == Q_NOTFOUND)
		return no_definition(r, e);
	if (e != Q_OK)
		return api_refused(r, e, &why);
	if (id == NULL)
		http_header(r, "Location", "%s" GRAPH_MOUNT "/definitions/%s",
		    r->base, d.id);
	json_send(r, id == NULL ? 201 : 200, GRAPH_CTYPE,
	    graph_definition(&d));
	definition_free(&d);
	return Q_OK;
}

/* POST /api/v1/definitions (admin) */
enum qerr
graph_create_definition(struct request *r)
{
	return put_definition(r, NULL);
}

/* PUT /api/v1/definitions/{id} (admin): replaces the document. */
enum qerr
graph_replace_definition(struct request *r)
{
	return put_definition(r, r->capture[0]);
}

/* DELETE /api/v1/definitions/{id} (admin): not while a job is active. */
enum qerr
graph_delete_definition(struct request *r)
{
	enum qerr e;

	e = definition_delete(r->store, &r->who, r->capture[0]);
	if (e == Q_EXISTS)
		snprintf(r->err_msg, sizeof(r->err_msg), "the definition has "
		    "active jobs; cancel them or let them finish first");
	if (e != Q_OK)
		return no_definition(r, e);
	http_send(r, 204, NULL);
	return Q_OK;
}

/* ---- who asks ---- */

/*
 * GET /api/v1/me: the caller, as a page shows it: its token's id (the
 * public handle of quarryctl token list, never the secret), name (null
 * if it has none), tenant and role.
 */
enum qerr
graph_me(struct request *r)
{
	struct json_object *o = json_object_new_object();

	if (o != NULL) {
		json_object_object_add(o, "id",
		    json_object_new_string(r->who.principal));
		json_object_object_add(o, "displayName", r->who.name[0] ?
		    json_object_new_string(r->who.name) : NULL);
		json_object_object_add(o, "tenant",
		    json_object_new_string(r->who.tenant));
		json_object_object_add(o, "role",
		    json_object_new_string(role_name(r->who.role)));
	}
	json_send(r, 200, GRAPH_CTYPE, o);
	return Q_OK;
}

/* ---- export jobs ---- */

/*
 * The names of the tokens that made the jobs of one answer (createdBy),
 * each read once: a page of jobs has few owners.  Past OWNER_NAMES
 * owners the oldest names read are replaced.
 */
#define OWNER_NAMES	16
struct owner_names {
	size_t	n;		/* names read; the next goes to n % OWNER_NAMES */
	struct {
		char	id[ID_LEN + 1];
		char	name[NAME_MAX_LEN + 1];
	} e[OWNER_NAMES];
};

/*
 * The name of the token that made j, for r's caller: the caller's own
 * when it made j (no store read; a user sees only its own jobs), else
 * the token's record, read once per answer (kept in on).  NULL or ""
 * (createdBy's displayName null) when j has no owner, the token has no
 * name, or its record cannot be read.
 */
static const char *
owner_name(struct request *r, const struct job *j, struct owner_names *on)
{
	size_t		i, k;
	enum qerr	e;

	if (j->owner[0] == '\0')
		return NULL;
	if (strcmp(j->owner, r->who.principal) == 0)
		return r->who.name;
	for (i = 0; i < on->n && i < OWNER_NAMES; i++)
		if (strcmp(on->e[i].id, j->owner) == 0)
			return on->e[i].name;
	k = on->n++ % OWNER_NAMES;
	memcpy(on->e[k].id, j->owner, sizeof(on->e[k].id));
	e = token_name(r->store, &r->who, j->owner, on->e[k].name);
	if (e != Q_OK && e != Q_NOTFOUND)
		qlog(LOG_WARN, "the name of token %s: %s", j->owner,
		    qerr_str(e));
	return on->e[k].name;
}

/* One job as Graph shows it to r's caller. */
static struct json_object *
graph_job_of(struct request *r, const struct job *j)
{
	struct owner_names on;

	on.n = 0;
	return graph_job(r, j, owner_name(r, j, &on));
}


static void
job_location(struct request *r, const char *id)
{
	http_header(r, "Location", "%s%s/exportJobs/%s", r->base,
	    r->dialect->mount, id);
}

/*
 * Creates the job rq asks for and answers, on either mount: 201 with
 * Location and the job (a goalsExportJob on the goals mount), or the
 * published 409 for an equal active job.  A definition the caller may
 * not see is 400 on Graph's mount (a member of the body), 404 on the
 * goals mount (an explorer view, a resource).
 */
static enum qerr
create_job(struct request *r, const struct export_request *rq, int goals)
{
	struct refusal	why;
	struct job	j;
	char		existing[ID_LEN + 1];
	enum qerr	e;

	memset(&j, 0, sizeof(j));
	e = job_create(r->store, &r->who, rq, &j, existing, &why);
	if (e == Q_EXISTS) {
		job_location(r, existing);
		r->err_reason = REASON_DUPLICATE_JOB;
		snprintf(r->err_target, sizeof(r->err_target), "%s", existing);
		snprintf(r->err_msg, sizeof(r->err_msg), "Another export job "
		    "is still active or waiting to be executed");
	} else if (e == Q_NOTFOUND && goals) {
		snprintf(r->err_target, sizeof(r->err_target),
		    "explorerViewId");
		snprintf(r->err_msg, sizeof(r->err_msg), "Explorer view not "
		    "found");
	} else if (e != Q_OK)
		/* Q_NOTFOUND: the definition named in the body */
		api_refused(r, e == Q_NOTFOUND ? Q_INVALID : e, &why);
	else {
		job_location(r, j.id);
		json_send(r, 201, GRAPH_CTYPE, goals ? goals_job(r, &j) :
		    graph_job_of(r, &j));
	}
	job_free(&j);
	return e == Q_NOTFOUND && !goals ? Q_INVALID : e;
}

/*
 * Parses the body of a create: {"definitionId", "parameters", "format",
 * "displayName"} into rq (pointing into o).
 */
static enum qerr
parse_create(struct request *r, struct json_object *o,
    struct export_request *rq)
{
	struct json_object *v;

	memset(rq, 0, sizeof(*rq));
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "definitionId") != 0 &&
		    strcmp(key, "parameters") != 0 &&
		    strcmp(key, "format") != 0 &&
		    strcmp(key, "displayName") != 0) {
			snprintf(r->err_target, sizeof(r->err_target), "%.100s",
			    key);
			snprintf(r->err_msg, sizeof(r->err_msg), "unknown "
			    "member '%.100s'", key);
			return Q_INVALID;
		}
	}
	if (!json_object_object_get_ex(o, "definitionId", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(r->err_target, sizeof(r->err_target), "definitionId");
		snprintf(r->err_msg, sizeof(r->err_msg), "definitionId is "
		    "required (a string)");
		return Q_INVALID;
	}
	rq->def_id = json_object_get_string(v);
	if (json_object_object_get_ex(o, "format", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(r->err_target, sizeof(r->err_target),
			    "format");
			snprintf(r->err_msg, sizeof(r->err_msg), "format must "
			    "be a string");
			return Q_INVALID;
		}
		rq->format = json_object_get_string(v);
	}
	if (json_object_object_get_ex(o, "displayName", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > NAME_MAX_LEN) {
			snprintf(r->err_target, sizeof(r->err_target),
			    "displayName");
			snprintf(r->err_msg, sizeof(r->err_msg), "displayName "
			    "must be a string of at most %d bytes",
			    NAME_MAX_LEN);
			return Q_INVALID;
		}
		rq->name = json_object_get_string(v);
	}
	if (json_object_object_get_ex(o, "parameters", &v))
		rq->params = v;
	return Q_OK;
}

/* POST /api/v1/exportJobs {"definitionId", "parameters", "format"} */
enum qerr
graph_create_job(struct request *r)
{
	struct json_object	*o = NULL;
	struct export_request	 rq;
	enum qerr		 e;

	if ((e = api_body_json(r, 1, &o)) != Q_OK)
		return e;
	if ((e = parse_create(r, o, &rq)) == Q_OK)
		e = create_job(r, &rq, 0);
	json_object_put(o);
	return e;
}

/* Graph's status words as sets of core states, for $filter. */
static unsigned
states_of_word(const char *w)
{
	unsigned	m = 0;
	int		s;

	for (s = 0; s < JS_NSTATES; s++)
		if (strcmp(graph_status_word((enum job_state)s), w) == 0)
			m |= 1u << s;
	return m;
}

/* What a "$filter" asks for: the clauses it may hold, and their values. */
struct filter_ask {
	int		 goals;		/* goalsOrganizationId only */
	char		 def[ID_LEN + 1];
	unsigned	 states;
	char		 org[TENANT_MAX + 1];
	int		 has_org;
};

/*
 * Parses a "$filter": clauses "key eq 'value'" joined by "and", each key
 * once, of the keys the mount allows (Graph's: definitionId and status;
 * the goals mount's: goalsOrganizationId).  -1 with r's error otherwise.
 */
static int
parse_filter(struct request *r, const char *f, struct filter_ask *fa)
{
	char		 key[32], val[64];
	const char	*p = f;
	size_t		 n;
	int		 first = 1;

	fa->def[0] = '\0';
	fa->states = 0;
	fa->org[0] = '\0';
	fa->has_org = 0;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0' && !first)
			return 0;
		if (!first) {
			if (strncmp(p, "and ", 4) != 0)
				goto bad;
			p += 4;
			while (*p == ' ')
				p++;
		}
		first = 0;
		n = strcspn(p, " ");
		if (n == 0 || n >= sizeof(key))
			goto bad;
		memcpy(key, p, n);
		key[n] = '\0';
		p += n;
		if (fa->goals && strcmp(key, "goalsOrganizationId") != 0) {
			/* the published answer to another key */
			snprintf(r->err_target, sizeof(r->err_target),
			    "$filter");
			snprintf(r->err_msg, sizeof(r->err_msg), "Invalid filter "
			    "keys found: %.*s", (int)n, key);
			r->err_reason = REASON_UNKNOWN;
			return -1;
		}
		while (*p == ' ')
			p++;
		if (strncmp(p, "eq ", 3) != 0)
			goto bad;
		for (p += 3; *p == ' '; p++)
			continue;
		if (*p++ != '\'')
			goto bad;
		n = strcspn(p, "'");
		if (p[n] != '\'' || n >= sizeof(val))
			goto bad;
		memcpy(val, p, n);
		val[n] = '\0';
		p += n + 1;
		if (fa->goals) {
			if (fa->has_org || n >= sizeof(fa->org))
				goto bad;
			memcpy(fa->org, val, n + 1);
			fa->has_org = 1;
		} else if (strcmp(key, "definitionId") == 0 &&
		    fa->def[0] == '\0') {
			if (!id_valid(val))
				goto bad;
			memcpy(fa->def, val, ID_LEN + 1);
		} else if (strcmp(key, "status") == 0 && fa->states == 0) {
			if ((fa->states = states_of_word(val)) == 0)
				goto bad;
		} else
			goto bad;
	}
bad:
	snprintf(r->err_target, sizeof(r->err_target), "$filter");
	snprintf(r->err_msg, sizeof(r->err_msg), fa->goals ? "$filter "
	    "supports only \"goalsOrganizationId eq '…'\"" : "$filter "
	    "supports only \"definitionId eq '…'\" and \"status eq '…'\" "
	    "joined by \"and\"");
	return -1;
}

/* Parses the goals mount's "$filter" (see api.h). */
int
goals_parse_filter(struct request *r, const char *f, char org[TENANT_MAX + 1])
{
	struct filter_ask	fa;
	int			rc;

	memset(&fa, 0, sizeof(fa));
	fa.goals = 1;
	rc = parse_filter(r, f, &fa);
	memcpy(org, fa.org, TENANT_MAX + 1);
	return rc;
}

/* Parses Graph's "$filter" (see api.h). */
int
graph_parse_filter(struct request *r, const char *f, char def[ID_LEN + 1],
    unsigned *states)
{
	struct filter_ask	fa;
	int			rc;

	memset(&fa, 0, sizeof(fa));
	rc = parse_filter(r, f, &fa);
	memcpy(def, fa.def, ID_LEN + 1);
	*states = fa.states;
	return rc;
}

struct page {
	struct request		*r;
	struct json_object	*value;
	size_t			 top, n;
	uint64_t		 last;		/* seq of the last one added */
	int			 more;
	int			 goals;		/* goalsExportJob objects */
	struct owner_names	 owners;	/* Graph's createdBy */
};

static int
add_job(const struct job *j, void *arg)
{
	struct page *p = arg;

	if (p->n == p->top) {
		p->more = 1;
		return VISIT_STOP;
	}
	json_object_array_add(p->value, p->goals ? goals_job(p->r, j) :
	    graph_job(p->r, j, owner_name(p->r, j, &p->owners)));
	p->last = j->seq;
	p->n++;
	return VISIT_NEXT;
}

/* Appends "&name=value" with value percent-encoded. */
static void
query_add(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, "%s%s=", b->len && strchr(b->data, '?') ? "&" : "?",
	    name);
	for (; *v != '\0'; v++)
		if (isalnum((unsigned char)*v) || strchr("-._~", *v))
			buf_addc(b, *v);
		else
			buf_printf(b, "%%%02X", (unsigned char)*v);
}

/*
 * A query option: 1 with its value in v, 0 if absent, -1 (and r's error
 * naming it) if its value cannot be read.
 */
static int
query_option(struct request *r, const char *name, char *v, size_t len)
{
	switch (http_query(r, name, v, len)) {
	case 0:
		return 1;
	case -1:
		return 0;
	}
	snprintf(r->err_target, sizeof(r->err_target), "%s", name);
	snprintf(r->err_msg, sizeof(r->err_msg), "%s is not a well-formed "
	    "value (a bad percent escape, over %zu bytes, or not UTF-8 text)",
	    name, len - 1);
	return -1;
}

/*
 * GET …/exportJobs?$top&$skiptoken&$filter of either mount: Graph's
 * exportJobs, or (goals) the goals mount's goalsExportJob collection.
 */
static enum qerr
list_jobs(struct request *r, int goals)
{
	struct page		 p;
	struct job_query	 jq;
	struct filter_ask	 fa;
	struct json_object	*o;
	struct buf		 next = BUF_INIT;
	char			 v[512], *end;
	const char		*q;
	unsigned long long	 n;
	int			 rc;
	enum qerr		 e;

	memset(&p, 0, sizeof(p));
	memset(&jq, 0, sizeof(jq));
	memset(&fa, 0, sizeof(fa));
	p.r = r;
	p.top = TOP_DEFAULT;
	p.goals = fa.goals = goals;
	/* Only the three options of SPEC section 5; any other $key is 400. */
	for (q = r->query; *q != '\0'; q += strcspn(q, "&"), q += *q == '&') {
		if (*q == '$' || strncmp(q, "%24", 3) == 0) {
			size_t		 kl = strcspn(q, "=&");
			const char	*k = q + (*q == '$' ? 1 : 3);
			size_t		 n = kl - (size_t)(k - q);

			if (!(n == 3 && strncmp(k, "top", 3) == 0) &&
			    !(n == 9 && strncmp(k, "skiptoken", 9) == 0) &&
			    !(n == 6 && strncmp(k, "filter", 6) == 0)) {
				snprintf(r->err_target, sizeof(r->err_target),
				    "%.*s", (int)(kl > 64 ? 64 : kl), q);
				snprintf(r->err_msg, sizeof(r->err_msg),
				    "unsupported query option");
				return Q_INVALID;
			}
		}
	}
	if ((rc = query_option(r, "$top", v, sizeof(v))) < 0)
		return Q_INVALID;
	if (rc > 0) {
		n = strtoull(v, &end, 10);
		if (*v < '1' || *v > '9' || *end != '\0' || n > TOP_MAX) {
			snprintf(r->err_target, sizeof(r->err_target), "$top");
			snprintf(r->err_msg, sizeof(r->err_msg), "$top must be "
			    "an integer from 1 to %d", TOP_MAX);
			return Q_INVALID;
		}
		p.top = (size_t)n;
	}
	if ((rc = query_option(r, "$skiptoken", v, sizeof(v))) < 0)
		return Q_INVALID;
	if (rc > 0) {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (*v < '1' || *v > '9' || *end != '\0' || errno != 0) {
			snprintf(r->err_target, sizeof(r->err_target),
			    "$skiptoken");
			snprintf(r->err_msg, sizeof(r->err_msg), "$skiptoken "
			    "is not one this server gave");
			return Q_INVALID;
		}
		jq.before = n;
	}
	if ((rc = query_option(r, "$filter", v, sizeof(v))) < 0 ||
	    (rc > 0 && parse_filter(r, v, &fa) != 0))
		return Q_INVALID;
	p.value = json_object_new_array();
	jq.def_id = fa.def[0] ? fa.def : NULL;
	jq.states = fa.states;
	jq.limit = p.top + 1;		/* one more: is there a next page? */
	/* another organization than the caller's has no job it may see */
	if (fa.has_org && strcmp(fa.org, r->who.tenant) != 0)
		e = Q_OK;
	else
		e = job_list(r->store, &r->who, &jq, add_job, &p);
	if (e == Q_NOTFOUND)
		e = Q_OK;		/* an unknown definition has no jobs */
	if (e != Q_OK) {
		json_object_put(p.value);
		return e;
	}
	o = json_object_new_object();
	json_object_object_add(o, "value", p.value);
	if (p.more) {
		buf_printf(&next, "%s%s/exportJobs", r->base,
		    r->dialect->mount);
		snprintf(v, sizeof(v), "%zu", p.top);
		query_add(&next, "$top", v);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)p.last);
		query_add(&next, "$skiptoken", v);
		if (http_query(r, "$filter", v, sizeof(v)) == 0)
			query_add(&next, "$filter", v);
		json_object_object_add(o, "@odata.nextLink",
		    json_object_new_string(buf_str(&next)));
		buf_free(&next);
	}
	json_send(r, 200, GRAPH_CTYPE, o);
	return Q_OK;
}

/* GET /api/v1/exportJobs?$top&$skiptoken&$filter */
enum qerr
graph_list_jobs(struct request *r)
{
	return list_jobs(r, 0);
}

static enum qerr goals_no_job(struct request *r, const char *id);

/*
 * GET …/exportJobs/{id} of either mount: the poll, with Retry-After
 * while active.  The route is ROUTE_AUTH_JOB: who asks is found with the
 * job.
 */
static enum qerr
show_job(struct request *r, int goals)
{
	struct job	j;
	enum qerr	e;

	if ((e = http_auth_job(r, r->capture[0], &j)) != Q_OK) {
		if (e != Q_NOTFOUND)
			return e;
		return goals ? goals_no_job(r, r->capture[0]) :
		    api_no_job(r, e);
	}
	if (job_state_active(j.state))
		http_header(r, "Retry-After", "%d", RETRY_AFTER);
	json_send(r, 200, GRAPH_CTYPE, goals ? goals_job(r, &j) :
	    graph_job_of(r, &j));
	job_free(&j);
	return Q_OK;
}

/* GET /api/v1/exportJobs/{id}: the poll, with Retry-After while active. */
enum qerr
graph_show_job(struct request *r)
{
	return show_job(r, 0);
}

/*
 * DELETE /api/v1/exportJobs/{id}: the model's delete rule; 202 if the
 * job was running and stops within a second, else 204.
 */
enum qerr
graph_delete_job(struct request *r)
{
	enum job_deleted	how;
	enum qerr		e;

	if ((e = api_delete_job(r, &how)) != Q_OK)
		return e;
	http_send(r, how == JOB_STOPPING ? 202 : 204, NULL);
	return Q_OK;
}

/* POST …/approve and …/reject {"reason"} (admin). */
static enum qerr
decide(struct request *r, int approve)
{
	struct json_object	*o = NULL, *v;
	struct job		 j;
	const char		*reason = NULL;
	enum qerr		 e;

	if ((e = api_body_json(r, 0, &o)) != Q_OK)
		return e;
	if (o != NULL && json_object_object_get_ex(o, "reason", &v)) {
		if (approve || !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > 1000) {
			json_object_put(o);
			snprintf(r->err_target, sizeof(r->err_target), "reason");
			snprintf(r->err_msg, sizeof(r->err_msg), approve ?
			    "approve takes no reason" :
			    "reason must be a string of at most 1000 bytes");
			return Q_INVALID;
		}
		reason = json_object_get_string(v);
	}
	e = approve ? job_approve(r->store, &r->who, r->capture[0], &j) :
	    job_reject(r->store, &r->who, r->capture[0], reason, &j);
	json_object_put(o);
	if (e == Q_NOTFOUND)
		api_no_job(r, e);
	else if (e == Q_STATE)
		snprintf(r->err_msg, sizeof(r->err_msg), "the job is not "
		    "waiting for approval");
	else if (e == Q_OK)
		json_send(r, 200, GRAPH_CTYPE, graph_job_of(r, &j));
	job_free(&j);
	return e;
}

enum qerr
graph_approve_job(struct request *r)
{
	return decide(r, 1);
}

enum qerr
graph_reject_job(struct request *r)
{
	return decide(r, 0);
}

/* GET /api/v1/exportJobs/{id}/content */
enum qerr
graph_job_content(struct request *r)
{
	return api_download(r, NULL, r->capture[0]);
}

/* ---- the goals mount (issue 16) ---- */

/* A required string member of a goals create body; NULL and r's error. */
static const char *
goals_member(struct request *r, struct json_object *o, const char *name)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, name, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0)
		return json_object_get_string(v);
	snprintf(r->err_target, sizeof(r->err_target), "%s", name);
	snprintf(r->err_msg, sizeof(r->err_msg), "%s is required (a string)",
	    name);
	return NULL;
}

/*
 * POST …/goals/exportJobs {"goalsOrganizationId", "explorerViewId"}:
 * the organization is the caller's tenant, the explorer view one of its
 * definitions; Quarry's "parameters" and "format" may come too.  An
 * organization or view the caller may not see is 404, as any resource.
 */
enum qerr
goals_create_job(struct request *r)
{
	struct json_object	*o = NULL, *v;
	struct export_request	 rq;
	const char		*org;
	enum qerr		 e;

	memset(&rq, 0, sizeof(rq));
	if ((e = api_body_json(r, 1, &o)) != Q_OK)
		return e;
	e = Q_INVALID;
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "goalsOrganizationId") != 0 &&
		    strcmp(key, "explorerViewId") != 0 &&
		    strcmp(key, "parameters") != 0 &&
		    strcmp(key, "format") != 0) {
			snprintf(r->err_target, sizeof(r->err_target), "%.100s",
			    key);
			snprintf(r->err_msg, sizeof(r->err_msg), "unknown "
			    "member '%.100s'", key);
			goto out;
		}
	}
	if ((org = goals_member(r, o, "goalsOrganizationId")) == NULL) {
		/* the published answer (any other string names no one) */
		r->err_reason = REASON_GOALS_ORG_INVALID;
		snprintf(r->err_msg, sizeof(r->err_msg), "'GoalsOrganizationId' "
		    "must be specified in 'Export Job', and it should be a "
		    "string");
		goto out;
	}
	if ((rq.def_id = goals_member(r, o, "explorerViewId")) == NULL)
		goto out;
	if (json_object_object_get_ex(o, "format", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(r->err_target, sizeof(r->err_target),
			    "format");
			snprintf(r->err_msg, sizeof(r->err_msg), "format must "
			    "be a string");
			goto out;
		}
		rq.format = json_object_get_string(v);
	}
	if (json_object_object_get_ex(o, "parameters", &v))
		rq.params = v;
	if (strcmp(org, r->who.tenant) != 0) {
		e = Q_NOTFOUND;
		r->err_reason = REASON_GOALS_ORG_NOT_FOUND;
		snprintf(r->err_target, sizeof(r->err_target),
		    "goalsOrganizationId");
		snprintf(r->err_msg, sizeof(r->err_msg), "Goals organization "
		    "not found");
		goto out;
	}
	e = create_job(r, &rq, 1);
out:
	json_object_put(o);
	return e;
}

/* GET …/goals/exportJobs?$top&$skiptoken&$filter=goalsOrganizationId … */
enum qerr
goals_list_jobs(struct request *r)
{
	return list_jobs(r, 1);
}

/*
 * A goals job the caller may not see: the published 404, or its 400 for
 * an id that cannot be one.  Returns the error to render.
 */
static enum qerr
goals_no_job(struct request *r, const char *id)
{
	if (!id_valid(id)) {
		r->err_reason = REASON_UNKNOWN;
		snprintf(r->err_msg, sizeof(r->err_msg), "Invalid JobKey "
		    "specified");
		return Q_INVALID;
	}
	r->err_reason = REASON_GOALS_JOB_NOT_FOUND;
	snprintf(r->err_msg, sizeof(r->err_msg), "Specified export job not "
	    "found");
	return Q_NOTFOUND;
}

/* GET …/goals/exportJobs/{id}: as Graph's poll, as a goalsExportJob. */
enum qerr
goals_show_job(struct request *r)
{
	return show_job(r, 1);
}

/* GET …/goals/exportJobs/{id}/content */
enum qerr
goals_job_content(struct request *r)
{
	enum qerr e;

	if (!id_valid(r->capture[0]))
		return goals_no_job(r, r->capture[0]);
	e = api_download(r, NULL, r->capture[0]);
	if (e == Q_NOTFOUND && strcmp(r->err_msg, "no such export job") == 0)
		e = goals_no_job(r, r->capture[0]);
	return e;
}

/* ---- metrics (issue 14) ---- */

/*
 * GET /api/v1/metrics (admin): the caller's tenant's figures in
 * Prometheus' text exposition format, for a Prometheus that scrapes with
 * an admin token.  The installation's own figures (store, cache, files)
 * are the operator's: quarryctl stats --prometheus.
 */
enum qerr
graph_metrics(struct request *r)
{
	struct stats	st;
	enum qerr	e;

	if (!caller_is_admin(&r->who)) {
		snprintf(r->err_msg, sizeof(r->err_msg), "the metrics are for "
		    "an admin token");
		return Q_FORBIDDEN;
	}
	if ((e = stats_collect(r->store, r->who.tenant, &st)) != Q_OK)
		return e;
	stats_prometheus(&st, &r->out);
	stats_free(&st);
	http_header(r, "Cache-Control", "no-store");
	http_send(r, 200, "text/plain; version=0.0.4; charset=utf-8");
	return Q_OK;
}

/* ---- signed download links (issue 13) ---- */

/*
 * GET /api/v1/downloads/{id}?token=…&expires=…&signature=…: the file by a
 * signed link, without an Authorization header: the signature must be
 * the link's, the link unexpired, the token it was made for live and
 * still allowed to see the job; then the whole download contract.
 */
enum qerr
graph_signed_download(struct request *r)
{
	struct token	 tok;
	char		 principal[ID_LEN + 2], exp[24], sig[LINK_SIG_LEN + 2];
	char		*end;
	long long	 expires;
	enum qerr	 e;

	/*
	 * The link is the credential, judged here: a link refused is 403
	 * (no bearer challenge: none is asked for), as a caller refused.
	 */
	r->authed = 1;
	if (http_query(r, "token", principal, sizeof(principal)) != 0 ||
	    http_query(r, "expires", exp, sizeof(exp)) != 0 ||
	    http_query(r, "signature", sig, sizeof(sig)) != 0) {
		snprintf(r->err_msg, sizeof(r->err_msg), "a download link "
		    "needs token, expires and signature");
		return Q_FORBIDDEN;
	}
	expires = strtoll(exp, &end, 10);
	if (*exp == '\0' || *end != '\0' || !id_valid(principal) ||
	    (e = link_check(r->conf, r->capture[0], principal, expires,
	    sig)) == Q_FORBIDDEN) {
		snprintf(r->err_msg, sizeof(r->err_msg), "the download link "
		    "is not one this server signed");
		return Q_FORBIDDEN;
	}
	if (e == Q_TIMEOUT) {
		snprintf(r->err_msg, sizeof(r->err_msg), "the download link "
		    "has expired; ask for the job again for a new one");
		return Q_FORBIDDEN;
	}
	if ((e = token_get_live(r->store, principal, &tok)) != Q_OK) {
		if (e == Q_NOTFOUND) {
			snprintf(r->err_msg, sizeof(r->err_msg), "the token "
			    "the link was made for is revoked or expired");
			e = Q_FORBIDDEN;
		}
		return e;
	}
	caller_of_token(&r->who, &tok);
	{
		const char *a = http_env(r, "REMOTE_ADDR");

		snprintf(r->who.addr, sizeof(r->who.addr), "%s", a ? a : "");
	}
	return api_download(r, NULL, r->capture[0]);
}
