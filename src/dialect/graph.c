/*
 * The Graph dialect (SPEC section 5): Microsoft Graph's exportJobs, a
 * long-running operation in plain JSON.  Bearer credentials, Graph's
 * status words, and {"error":{…}} bodies.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "dialect/dialect.h"
#include "quarry/format.h"
#include "quarry/seams.h"

/* Graph's words for the core states (SPEC section 2). */
const char *
graph_status_word(enum job_state s)
{
	switch (s) {
	case JS_PENDING_APPROVAL:
	case JS_QUEUED:		return "notStarted";
	case JS_RUNNING:	return "running";
	case JS_COMPLETED:
	case JS_EXPIRED:	return "succeeded";
	case JS_FAILED:
	case JS_REJECTED:
	case JS_CANCELLED:
	case JS_NSTATES:	break;
	}
	return "failed";
}

/* "Authorization: Bearer <token>" (RFC 6750 section 2.1). */
static int
graph_credential(const struct request *r, char *out, size_t len)
{
	const char	*h = http_env(r, "HTTP_AUTHORIZATION");
	size_t		 n;

	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 ||
	    (h[6] != ' ' && h[6] != '\t'))
		return -1;
	for (h += 6; *h == ' ' || *h == '\t'; h++)
		continue;
	n = strlen(h);
	if (n == 0)
		return -1;
	if (n >= len || strcspn(h, " \t") != n) {
		snprintf(out, len, "-");
		return 0;
	}
	memcpy(out, h, n + 1);
	return 0;
}

/* Graph's error code for a status, unless the handler chose one. */
static const char *
graph_code(int status)
{
	switch (status) {
	case 400: return "badRequest";
	case 401: return "unauthenticated";
	case 403: return "accessDenied";
	case 404: return "itemNotFound";
	case 405: return "methodNotAllowed";
	case 409: return "conflict";
	case 410: return "resourceGone";
	case 408:
	case 411:
	case 414:
	case 417:
	case 431: return "invalidRequest";
	case 413: return "requestTooLarge";
	case 501:
	case 505: return "notSupported";
	case 502:
	case 503:
	case 504: return "serviceNotAvailable";
	case 507: return "insufficientStorage";
	}
	return "generalException";
}

/* Sends obj as JSON and releases it. */
void
json_send(struct request *r, int status, const char *ctype,
    struct json_object *obj)
{
	const char *s;

	if (obj == NULL) {
		r->out.oom = 1;
		http_send(r, status, ctype);
		return;
	}
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		r->out.oom = 1;
	else {
		buf_adds(&r->out, s);
		buf_addc(&r->out, '\n');
	}
	json_object_put(obj);
	http_send(r, status, ctype);
}

/* innerError's code for a reason, or NULL. */
static const char *
inner_code(enum err_reason why)
{
	switch (why) {
	case REASON_DUPLICATE_JOB:	return "exportJobAlreadyExists";
	case REASON_GOALS_ORG_NOT_FOUND: return "goalsOrganizationIdNotFound";
	case REASON_GOALS_ORG_INVALID:	return "invalidGoalsOrganizationId";
	case REASON_GOALS_JOB_NOT_FOUND: return "exportJobNotFound";
	case REASON_UNKNOWN:		return "unknown";
	case REASON_NONE:		break;
	}
	return NULL;
}

/*
 * A client's "client-request-id" (Graph's request header, echoed in
 * innerError), when it is a plain token of at most 64 characters.
 */
static const char *
client_request_id(const struct request *r)
{
	const char	*v = http_env(r, "HTTP_CLIENT_REQUEST_ID");
	size_t		 i;

	if (v == NULL || *v == '\0')
		return NULL;
	for (i = 0; v[i] != '\0'; i++)
		if (i >= 64 || !((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' &&
		    v[i] <= '9') || v[i] == '-' || v[i] == '_' || v[i] == '.'))
			return NULL;
	return v;
}

/*
 * Graph's error body.  goals: the goals mount, whose published 404 code
 * is "notFound" (Graph's own is "itemNotFound").
 */
static void
error_body(struct request *r, int status, int goals)
{
	struct json_object *o, *err, *inner;
	const char *s, *ic;

	if (status == 401)
		http_header(r, "WWW-Authenticate", "Bearer realm=\"Quarry\"");
	o = json_object_new_object();
	err = json_object_new_object();
	inner = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(
	    r->err_reason == REASON_DUPLICATE_JOB ? "notAllowed" :
	    goals && status == 404 ? "notFound" : graph_code(status)));
	json_object_object_add(err, "message",
	    json_object_new_string(r->err_msg));
	if (r->err_target[0] != '\0')
		json_object_object_add(err, "target",
		    json_object_new_string(r->err_target));
	if ((ic = inner_code(r->err_reason)) != NULL)
		json_object_object_add(inner, "code",
		    json_object_new_string(ic));
	/* Empty in a static error document (http_error_document). */
	if (r->now[0] != '\0')
		json_object_object_add(inner, "date",
		    json_object_new_string(r->now));
	if (r->reqid[0] != '\0')
		json_object_object_add(inner, "request-id",
		    json_object_new_string(r->reqid));
	if ((s = client_request_id(r)) != NULL)
		json_object_object_add(inner, "client-request-id",
		    json_object_new_string(s));
	if (json_object_object_length(inner) > 0)
		json_object_object_add(err, "innerError", inner);
	else
		json_object_put(inner);
	json_object_object_add(o, "error", err);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_adds(&r->out, s ? s : "{}");
	buf_addc(&r->out, '\n');
	json_object_put(o);
}

static void
graph_error(struct request *r, int status, enum qerr e)
{
	(void)e;
	error_body(r, status, 0);
}

static void
goals_error(struct request *r, int status, enum qerr e)
{
	(void)e;
	error_body(r, status, 1);
}

const struct dialect dialect_graph = {
	"graph",
	GRAPH_MOUNT,
	0,
	graph_credential,
	401,
	graph_error,
	GRAPH_CTYPE,
	graph_status_word,
	"export job",
	{ NULL, "definitionId", "format", "parameters", NULL },
};

/* The goals mounts: Graph's credentials, errors and words. */
const struct dialect dialect_goals_beta = {
	"graph",
	GOALS_BETA_MOUNT,
	1,
	graph_credential,
	401,
	goals_error,
	GRAPH_CTYPE,
	graph_status_word,
	"export job",
	{ NULL, "explorerViewId", "format", "parameters", NULL },
};

const struct dialect dialect_goals_v1 = {
	"graph",
	GOALS_V1_MOUNT,
	1,
	graph_credential,
	401,
	goals_error,
	GRAPH_CTYPE,
	graph_status_word,
	"export job",
	{ NULL, "explorerViewId", "format", "parameters", NULL },
};

/* An RFC 3339 time as a JSON string, or JSON null for 0. */
struct json_object *
json_time(time_t t)
{
	char s[RFC3339_LEN];

	if (t == 0)
		return NULL;
	time_rfc3339(t, s);
	return json_object_new_string(s);
}

/*
 * A signed download link of job j for r's caller (links.c) into b: ""
 * when there is none (a caller without a token, a store without a key).
 */
void
graph_download_url(const struct request *r, const struct job *j,
    struct buf *b)
{
	char		sig[LINK_SIG_LEN + 1];
	long long	expires;

	buf_reset(b);
	if (r->conf == NULL || r->who.kind != CALLER_TOKEN ||
	    j->state != JS_COMPLETED)
		return;
	expires = (long long)q_seams.now() + r->conf->link_ttl;
	if (link_sign(r->conf, j->id, r->who.principal, expires, sig) != Q_OK)
		return;
	buf_printf(b, "%s" GRAPH_MOUNT "/downloads/%s?token=%s&expires=%lld"
	    "&signature=%s", r->base, j->id, r->who.principal, expires, sig);
}

/*
 * Who made job j, as Microsoft Graph's identitySet: {"user": {"id": its
 * owner's token id, "displayName": owner_name or null}}; NULL (JSON
 * null) for a job without an owner (made by quarryctl).
 */
static struct json_object *
created_by(const struct job *j, const char *owner_name)
{
	struct json_object *set, *user;

	if (j->owner[0] == '\0')
		return NULL;
	set = json_object_new_object();
	user = json_object_new_object();
	json_object_object_add(user, "id", json_object_new_string(j->owner));
	json_object_object_add(user, "displayName",
	    owner_name != NULL && *owner_name != '\0' ?
	    json_object_new_string(owner_name) : NULL);
	json_object_object_add(set, "user", user);
	return set;
}

/* The job as Graph shows it (SPEC section 5). */
struct json_object *
graph_job(const struct request *r, const struct job *j,
    const char *owner_name)
{
	struct json_object	*o = json_object_new_object();
	struct json_object	*p, *params = NULL;
	struct buf		 link = BUF_INIT;
	char			 url[512];

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(j->id));
	json_object_object_add(o, "status",
	    json_object_new_string(graph_status_word(j->state)));
	json_object_object_add(o, "statusDetail", json_object_new_string(
	    j->detail && *j->detail ? j->detail : job_state_name(j->state)));
	/* the core state itself: statusDetail may hold a reason instead */
	json_object_object_add(o, "state",
	    json_object_new_string(job_state_name(j->state)));
	json_object_object_add(o, "definitionId",
	    json_object_new_string(j->def_id));
	if (j->name != NULL && *j->name != '\0')
		json_object_object_add(o, "displayName",
		    json_object_new_string(j->name));
	if (j->params != NULL)
		params = json_tokener_parse(j->params);
	json_object_object_add(o, "parameters",
	    params ? params : json_object_new_object());
	json_object_object_add(o, "format",
	    json_object_new_string(fmt_name(j->format)));
	json_object_object_add(o, "createdBy", created_by(j, owner_name));
	json_object_object_add(o, "createdDateTime", json_time(j->created));
	json_object_object_add(o, "lastActionDateTime",
	    json_time(j->updated ? j->updated : j->created));
	json_object_object_add(o, "expirationDateTime",
	    json_time(j->state == JS_COMPLETED || j->state == JS_EXPIRED ?
	    j->expires : 0));
	p = json_object_new_object();
	json_object_object_add(p, "rowsWritten",
	    json_object_new_int64((int64_t)j->rows));
	json_object_object_add(p, "bytesWritten",
	    json_object_new_int64((int64_t)(j->state == JS_COMPLETED ?
	    j->file_size : j->bytes)));
	/* a running build whose source knows its size (a dataset) */
	if (j->state == JS_RUNNING && j->read_pm > 0)
		json_object_object_add(p, "percentComplete",
		    json_object_new_int((j->read_pm - 1) / 10));
	json_object_object_add(o, "progress", p);
	if (j->state == JS_COMPLETED) {
		snprintf(url, sizeof(url), "%s" GRAPH_MOUNT
		    "/exportJobs/%s/content", r->base, j->id);
		json_object_object_add(o, "resourceLocation",
		    json_object_new_string(url));
		graph_download_url(r, j, &link);
		if (link.len > 0)
			json_object_object_add(o,
			    "@microsoft.graph.downloadUrl",
			    json_object_new_string(buf_str(&link)));
		buf_free(&link);
	}
	return o;
}

/*
 * The job as Microsoft Graph's goalsExportJob, members in the order of
 * the published examples (docs/http.md): the organization is the job's
 * tenant, the explorer view its definition; resourceLocation (the
 * content, under the mount asked) only once succeeded; then the two
 * members of longRunningOperation the examples leave out.
 */
struct json_object *
goals_job(const struct request *r, const struct job *j)
{
	struct json_object	*o = json_object_new_object();
	char			 url[512];

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "@odata.type",
	    json_object_new_string("#microsoft.graph.goalsExportJob"));
	json_object_object_add(o, "id", json_object_new_string(j->id));
	json_object_object_add(o, "status",
	    json_object_new_string(graph_status_word(j->state)));
	if (j->state == JS_COMPLETED) {
		snprintf(url, sizeof(url), "%s%s/exportJobs/%s/content",
		    r->base, r->dialect->mount, j->id);
		json_object_object_add(o, "resourceLocation",
		    json_object_new_string(url));
	}
	json_object_object_add(o, "goalsOrganizationId",
	    json_object_new_string(j->tenant));
	json_object_object_add(o, "explorerViewId",
	    json_object_new_string(j->def_id));
	json_object_object_add(o, "createdDateTime", json_time(j->created));
	json_object_object_add(o, "expirationDateTime",
	    json_time(j->state == JS_COMPLETED || j->state == JS_EXPIRED ?
	    j->expires : 0));
	/* longRunningOperation's, which the goals examples leave out */
	json_object_object_add(o, "lastActionDateTime",
	    json_time(j->updated ? j->updated : j->created));
	json_object_object_add(o, "statusDetail", json_object_new_string(
	    j->detail && *j->detail ? j->detail : job_state_name(j->state)));
	return o;
}

/* The stored document with id, createdDateTime, modifiedDateTime. */
struct json_object *
graph_definition(const struct definition *d)
{
	struct json_object *o = NULL;

	if (d->doc != NULL)
		o = json_tokener_parse(d->doc);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_object_new_object();
	}
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(d->id));
	json_object_object_add(o, "createdDateTime", json_time(d->created));
	json_object_object_add(o, "modifiedDateTime",
	    json_time(d->modified ? d->modified : d->created));
	return o;
}
