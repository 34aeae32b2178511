/*
 * The Graph dialect's handlers (SPEC section 5): definitions (read for
 * everyone, write for admins), exportJobs create/list/get/delete/content
 * and approve/reject.  Which program serves each is in routes.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api.h"
#include "dialect/dialect.h"
#include "quarry/jsonutil.h"
#include "quarry/wake.h"

#define TOP_DEFAULT	100
#define TOP_MAX		1000

/* ---- definitions ---- */

static int
add_def(const struct definition *d, void *arg)
{
	json_object_array_add(arg, graph_definition(d));
	return 0;
}

/* GET /api/v1/definitions */
enum qerr
graph_list_definitions(struct request *r)
{
	struct json_object	*o, *a;
	enum qerr		 e;

	if ((e = http_auth(r)) != Q_OK)
		return e;
	a = json_object_new_array();
	if ((e = definition_list(r->store, r->tok.tenant, add_def, a)) !=
	    Q_OK) {
		json_object_put(a);
		return e;
	}
	o = json_object_new_object();
	json_object_object_add(o, "value", a);
	json_send(r, 200, GRAPH_CTYPE, o);
	return Q_OK;
}

/* GET /api/v1/definitions/{id} */
enum qerr
graph_show_definition(struct request *r)
{
	struct definition	d;
	enum qerr		e;

	if ((e = http_auth(r)) != Q_OK)
		return e;
	if ((e = api_definition(r, r->capture[0], &d)) != Q_OK)
		return e;
	json_send(r, 200, GRAPH_CTYPE, graph_definition(&d));
	definition_free(&d);
	return Q_OK;
}

/*
 * Parses a definition document from the body for the caller's tenant:
 * a missing "tenant" is the caller's; another tenant is refused.
 */
static enum qerr
body_definition(struct request *r, struct definition *d)
{
	struct json_object	*o, *t;
	const char		*s;
	char			 field[128], err[256];
	enum qerr		 e;

	memset(d, 0, sizeof(*d));
	if ((e = api_body_json(r, 1, &o)) != Q_OK)
		return e;
	if (!json_object_object_get_ex(o, "tenant", &t))
		json_object_object_add(o, "tenant",
		    json_object_new_string(r->tok.tenant));
	else if (!json_object_is_type(t, json_type_string) ||
	    strcmp(json_object_get_string(t), r->tok.tenant) != 0) {
		json_object_put(o);
		snprintf(r->err_target, sizeof(r->err_target), "tenant");
		snprintf(r->err_msg, sizeof(r->err_msg), "tenant must be the "
		    "token's tenant");
		return Q_INVALID;
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	e = s == NULL ? Q_NOMEM : definition_parse(s, strlen(s), d, field,
	    sizeof(field), err, sizeof(err));
	json_object_put(o);
	if (e == Q_INVALID) {
		snprintf(r->err_target, sizeof(r->err_target), "%s", field);
		snprintf(r->err_msg, sizeof(r->err_msg), "%s: %s", field, err);
	}
	return e;
}

/* POST /api/v1/definitions (admin) */
enum qerr
graph_create_definition(struct request *r)
{
	struct definition	d;
	enum qerr		e;

	if ((e = http_auth(r)) != Q_OK || (e = api_admin(r)) != Q_OK)
		return e;
	if ((e = body_definition(r, &d)) != Q_OK)
		return e;
	if ((e = definition_add(r->store, &d)) == Q_OK) {
		http_header(r, "Location", "%s" GRAPH_MOUNT "/definitions/%s",
		    r->base, d.id);
		json_send(r, 201, GRAPH_CTYPE, graph_definition(&d));
	}
	definition_free(&d);
	return e;
}

/* PUT /api/v1/definitions/{id} (admin): replaces the document. */
enum qerr
graph_replace_definition(struct request *r)
{
	struct definition	d, old;
	enum qerr		e;

	if ((e = http_auth(r)) != Q_OK || (e = api_admin(r)) != Q_OK)
		return e;
	if ((e = api_definition(r, r->capture[0], &old)) != Q_OK)
		return e;
	definition_free(&old);
	if ((e = body_definition(r, &d)) != Q_OK)
		return e;
	if ((e = definition_update(r->store, r->capture[0], &d)) == Q_OK)
		json_send(r, 200, GRAPH_CTYPE, graph_definition(&d));
	definition_free(&d);
	return e;
}

/* DELETE /api/v1/definitions/{id} (admin): not while a job is active. */
enum qerr
graph_delete_definition(struct request *r)
{
	struct definition	d;
	enum qerr		e;

	if ((e = http_auth(r)) != Q_OK || (e = api_admin(r)) != Q_OK)
		return e;
	if ((e = api_definition(r, r->capture[0], &d)) != Q_OK)
		return e;
	definition_free(&d);
	e = definition_rm(r->store, r->capture[0]);
	if (e == Q_EXISTS) {
		snprintf(r->err_msg, sizeof(r->err_msg), "the definition has "
		    "active jobs; cancel them or let them finish first");
		return e;
	}
	if (e == Q_OK)
		http_send(r, 204, NULL);
	return e;
}

/* ---- export jobs ---- */

static void
job_location(struct request *r, const char *id)
{
	http_header(r, "Location", "%s" GRAPH_MOUNT "/exportJobs/%s", r->base,
	    id);
}

/* POST /api/v1/exportJobs {"definitionId", "parameters", "format"} */
enum qerr
graph_create_job(struct request *r)
{
	struct json_object	*o = NULL, *v, *params = NULL;
	struct definition	 d;
	struct job		 j;
	const char		*format = NULL, *name = NULL, *def_id;
	char			 existing[ID_LEN + 1];
	enum qerr		 e;

	memset(&d, 0, sizeof(d));
	memset(&j, 0, sizeof(j));
	if ((e = http_auth(r)) != Q_OK)
		return e;
	if ((e = api_body_json(r, 1, &o)) != Q_OK)
		return e;
	e = Q_INVALID;
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
			goto out;
		}
	}
	if (!json_object_object_get_ex(o, "definitionId", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(r->err_target, sizeof(r->err_target), "definitionId");
		snprintf(r->err_msg, sizeof(r->err_msg), "definitionId is "
		    "required (a string)");
		goto out;
	}
	def_id = json_object_get_string(v);
	if (api_definition(r, def_id, &d) != Q_OK) {
		snprintf(r->err_target, sizeof(r->err_target), "definitionId");
		snprintf(r->err_msg, sizeof(r->err_msg), "no such definition");
		goto out;
	}
	if (json_object_object_get_ex(o, "format", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(r->err_target, sizeof(r->err_target),
			    "format");
			snprintf(r->err_msg, sizeof(r->err_msg), "format must "
			    "be a string");
			goto out;
		}
		format = json_object_get_string(v);
	}
	if (json_object_object_get_ex(o, "displayName", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > NAME_MAX_LEN) {
			snprintf(r->err_target, sizeof(r->err_target),
			    "displayName");
			snprintf(r->err_msg, sizeof(r->err_msg), "displayName "
			    "must be a string of at most %d bytes",
			    NAME_MAX_LEN);
			goto out;
		}
		name = json_object_get_string(v);
	}
	if (json_object_object_get_ex(o, "parameters", &v))
		params = v;
	e = api_create_job(r, &d, params, format, name, &j, existing);
	if (e == Q_EXISTS) {
		job_location(r, existing);
		snprintf(r->err_code, sizeof(r->err_code), "notAllowed");
		snprintf(r->err_inner, sizeof(r->err_inner),
		    "exportJobAlreadyExists");
		snprintf(r->err_target, sizeof(r->err_target), "%s", existing);
		snprintf(r->err_msg, sizeof(r->err_msg), "Another export job "
		    "is still active or waiting to be executed");
		goto out;
	}
	if (e != Q_OK)
		goto out;
	job_location(r, j.id);
	json_send(r, 201, GRAPH_CTYPE, graph_job(r, &j));
out:
	json_object_put(o);
	definition_free(&d);
	job_free(&j);
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

/*
 * Parses "$filter": clauses "definitionId eq '…'" and "status eq '…'"
 * joined by "and".  -1 with err_msg on anything else.
 */
static int
parse_filter(struct request *r, const char *f, char def[ID_LEN + 1],
    unsigned *states)
{
	char		 key[32], val[64];
	const char	*p = f;
	size_t		 n;
	int		 first = 1;

	def[0] = '\0';
	*states = 0;
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
		if (strcmp(key, "definitionId") == 0 && def[0] == '\0') {
			if (!id_valid(val))
				goto bad;
			memcpy(def, val, ID_LEN + 1);
		} else if (strcmp(key, "status") == 0 && *states == 0) {
			if ((*states = states_of_word(val)) == 0)
				goto bad;
		} else
			goto bad;
	}
bad:
	snprintf(r->err_target, sizeof(r->err_target), "$filter");
	snprintf(r->err_msg, sizeof(r->err_msg), "$filter supports only "
	    "\"definitionId eq '…'\" and \"status eq '…'\" joined by \"and\"");
	return -1;
}

struct page {
	struct request		*r;
	struct json_object	*value;
	size_t			 top, n;
	uint64_t		 before;	/* only seq < before; 0 = all */
	uint64_t		 last;		/* seq of the last one added */
	int			 more;
};

static int
add_job(const struct job *j, void *arg)
{
	struct page *p = arg;

	if (p->before != 0 && j->seq >= p->before)
		return 0;
	if (p->n == p->top) {
		p->more = 1;
		return 1;
	}
	json_object_array_add(p->value, graph_job(p->r, j));
	p->last = j->seq;
	p->n++;
	return 0;
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

/* GET /api/v1/exportJobs?$top&$skiptoken&$filter */
enum qerr
graph_list_jobs(struct request *r)
{
	struct page		 p;
	struct json_object	*o;
	struct buf		 next = BUF_INIT;
	char			 v[512], def[ID_LEN + 1], *end;
	const char		*q;
	unsigned		 states = 0;
	unsigned long long	 n;
	enum qerr		 e;

	if ((e = http_auth(r)) != Q_OK)
		return e;
	memset(&p, 0, sizeof(p));
	p.r = r;
	p.top = TOP_DEFAULT;
	def[0] = '\0';
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
	if (http_query(r, "$top", v, sizeof(v)) == 0) {
		n = strtoull(v, &end, 10);
		if (*v < '1' || *v > '9' || *end != '\0' || n > TOP_MAX) {
			snprintf(r->err_target, sizeof(r->err_target), "$top");
			snprintf(r->err_msg, sizeof(r->err_msg), "$top must be "
			    "an integer from 1 to %d", TOP_MAX);
			return Q_INVALID;
		}
		p.top = (size_t)n;
	}
	if (http_query(r, "$skiptoken", v, sizeof(v)) == 0) {
		n = strtoull(v, &end, 10);
		if (*v < '1' || *v > '9' || *end != '\0') {
			snprintf(r->err_target, sizeof(r->err_target),
			    "$skiptoken");
			snprintf(r->err_msg, sizeof(r->err_msg), "$skiptoken "
			    "is not one this server gave");
			return Q_INVALID;
		}
		p.before = n;
	}
	if (http_query(r, "$filter", v, sizeof(v)) == 0 &&
	    parse_filter(r, v, def, &states) != 0)
		return Q_INVALID;
	p.value = json_object_new_array();
	e = api_list_jobs(r, def[0] ? def : NULL, states, add_job, &p);
	if (e == Q_NOTFOUND)
		e = Q_OK;		/* an unknown definition has no jobs */
	if (e != Q_OK) {
		json_object_put(p.value);
		return e;
	}
	o = json_object_new_object();
	json_object_object_add(o, "value", p.value);
	if (p.more) {
		buf_printf(&next, "%s" GRAPH_MOUNT "/exportJobs", r->base);
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

/*
 * DELETE /api/v1/exportJobs/{id}: cancels an active job (202 if it was
 * running and stops within a second, else 204), deletes a finished
 * job's file (204).
 */
enum qerr
graph_delete_job(struct request *r)
{
	struct job	j, got;
	enum job_state	before;
	enum qerr	e;
	int		status = 204;

	if ((e = api_auth_job(r, NULL, r->capture[0], &j)) != Q_OK) {
		job_free(&j);
		return e;
	}
	if (job_state_active(j.state)) {
		e = job_cancel(r->store, j.id, &got, &before);
		if (e == Q_OK && before == JS_RUNNING)
			status = 202;
	} else if (j.state == JS_COMPLETED)
		e = job_remove_file(r->store, r->conf->files_dir, j.id, &got);
	else {
		memset(&got, 0, sizeof(got));
		e = Q_OK;
	}
	if (e == Q_STATE)
		e = Q_OK;	/* it finished meanwhile: nothing left to stop */
	job_free(&got);
	job_free(&j);
	if (e == Q_OK)
		http_send(r, status, NULL);
	return e;
}

/* POST …/approve and …/reject {"reason"} (admin). */
static enum qerr
decide(struct request *r, int approve)
{
	struct json_object	*o = NULL, *v;
	struct job		 j, got;
	const char		*reason = NULL;
	enum qerr		 e;

	e = api_auth_job(r, NULL, r->capture[0], &j);
	job_free(&j);
	if (e != Q_OK || (e = api_admin(r)) != Q_OK)
		return e;
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
	e = approve ? job_approve(r->store, r->capture[0], &got) :
	    job_reject(r->store, r->capture[0], reason, &got);
	json_object_put(o);
	if (e == Q_STATE)
		snprintf(r->err_msg, sizeof(r->err_msg), "the job is not "
		    "waiting for approval");
	if (e == Q_OK) {
		if (approve)
			wake_scheduler(r->conf);
		json_send(r, 200, GRAPH_CTYPE, graph_job(r, &got));
	}
	job_free(&got);
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
