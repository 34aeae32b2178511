/*
 * The OSDI dialect (SPEC section 6): the OSDI Export resource, HAL+JSON
 * with curies, the OSDI-API-Token credential, and osdi:error bodies.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "dialect/dialect.h"
#include "quarry/format.h"

/* OSDI's words are the core states, but "running" and "completed". */
const char *
osdi_status_word(enum job_state s)
{
	switch (s) {
	case JS_RUNNING:	return "processing";
	case JS_COMPLETED:	return "ready";
	default:		return job_state_name(s);
	}
}

/* The OSDI-API-Token header, else the osdi-api-token query parameter. */
static int
osdi_credential(const struct request *r, char *out, size_t len)
{
	const char *h = http_env(r, "HTTP_OSDI_API_TOKEN");

	if (h != NULL && *h != '\0') {
		if (strlen(h) >= len)
			snprintf(out, len, "-");
		else
			snprintf(out, len, "%s", h);
		return 0;
	}
	switch (http_query(r, "osdi-api-token", out, len)) {
	case 0:
		return *out != '\0' ? 0 : -1;
	case -2:
		snprintf(out, len, "-");	/* matches no token */
		return 0;
	}
	return -1;
}

/* Every OSDI answer is private and revalidated (SPEC section 6). */
void
osdi_headers(struct request *r)
{
	http_header(r, "Cache-Control", "max-age=0, private, must-revalidate");
}

static const char *
osdi_error_code(int status)
{
	switch (status) {
	case 400: return "BAD_REQUEST";
	case 401: return "UNAUTHORIZED";
	case 403: return "FORBIDDEN";
	case 404: return "NOT_FOUND";
	case 405: return "METHOD_NOT_ALLOWED";
	case 409: return "CONFLICT";
	case 410: return "GONE";
	case 408: return "REQUEST_TIMEOUT";
	case 411: return "LENGTH_REQUIRED";
	case 413: return "PAYLOAD_TOO_LARGE";
	case 414: return "URI_TOO_LONG";
	case 417: return "EXPECTATION_FAILED";
	case 431: return "HEADERS_TOO_LARGE";
	case 501: return "NOT_IMPLEMENTED";
	case 502: return "BAD_GATEWAY";
	case 503: return "SERVICE_UNAVAILABLE";
	case 504: return "GATEWAY_TIMEOUT";
	case 505: return "HTTP_VERSION_NOT_SUPPORTED";
	case 507: return "INSUFFICIENT_STORAGE";
	}
	return "INTERNAL_ERROR";
}

static void
osdi_error(struct request *r, int status, enum qerr e)
{
	struct json_object	*o, *err, *rs, *res, *ds, *d;
	const char		*s;

	(void)e;
	osdi_headers(r);
	o = json_object_new_object();
	err = json_object_new_object();
	rs = json_object_new_array();
	res = json_object_new_object();
	ds = json_object_new_array();
	d = json_object_new_object();
	json_object_object_add(d, "error_code",
	    json_object_new_string(osdi_error_code(status)));
	json_object_object_add(d, "description",
	    json_object_new_string(r->err_msg));
	if (r->err_target[0] != '\0')
		json_object_object_add(d, "hint",
		    json_object_new_string(r->err_target));
	json_object_array_add(ds, d);
	json_object_object_add(res, "resource",
	    json_object_new_string("osdi:export"));
	json_object_object_add(res, "response_code",
	    json_object_new_int(status));
	json_object_object_add(res, "error_descriptions", ds);
	json_object_array_add(rs, res);
	json_object_object_add(err, "request_type",
	    json_object_new_string("atomic"));
	json_object_object_add(err, "response_code",
	    json_object_new_int(status));
	json_object_object_add(err, "resource_status", rs);
	if (r->reqid[0] != '\0')	/* empty in a static document */
		json_object_object_add(err, "request_id",
		    json_object_new_string(r->reqid));
	json_object_object_add(o, "osdi:error", err);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_adds(&r->out, s ? s : "{}");
	buf_addc(&r->out, '\n');
	json_object_put(o);
}

const struct dialect dialect_osdi = {
	"osdi",
	OSDI_MOUNT,
	0,
	osdi_credential,
	401,
	osdi_error,
	OSDI_CTYPE,
	osdi_status_word,
	"export",
	{ NULL, "_links.osdi:resource.href", "export_type", "parameters",
	    NULL },
};

static struct json_object *
href(const char *base, const char *fmt, const char *id)
{
	struct json_object	*o = json_object_new_object();
	char			 url[512];

	snprintf(url, sizeof(url), "%s", base);
	snprintf(url + strlen(url), sizeof(url) - strlen(url), fmt, id);
	json_object_object_add(o, "href", json_object_new_string(url));
	return o;
}

/* The curies every collection and entry point links. */
struct json_object *
osdi_curies(void)
{
	struct json_object *a = json_object_new_array();
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "name", json_object_new_string("osdi"));
	json_object_object_add(c, "href", json_object_new_string(OSDI_CURIES));
	json_object_object_add(c, "templated", json_object_new_boolean(1));
	json_object_array_add(a, c);
	return a;
}

/* One export (SPEC section 6). */
struct json_object *
osdi_export(const struct request *r, const struct job *j)
{
	struct json_object	*o = json_object_new_object(), *ids, *links;
	char			 ident[64];

	if (o == NULL)
		return NULL;
	ids = json_object_new_array();
	snprintf(ident, sizeof(ident), "quarry:%s", j->id);
	json_object_array_add(ids, json_object_new_string(ident));
	json_object_object_add(o, "identifiers", ids);
	json_object_object_add(o, "origin_system",
	    json_object_new_string("Quarry"));
	json_object_object_add(o, "created_date", json_time(j->created));
	json_object_object_add(o, "modified_date",
	    json_time(j->updated ? j->updated : j->created));
	json_object_object_add(o, "action_date",
	    json_time(j->updated ? j->updated : j->created));
	json_object_object_add(o, "approved_date", json_time(j->approved));
	json_object_object_add(o, "processed_date",
	    json_time(job_state_finished(j->state) ? j->finished : 0));
	json_object_object_add(o, "name",
	    json_object_new_string(j->name ? j->name : ""));
	json_object_object_add(o, "status",
	    json_object_new_string(osdi_status_word(j->state)));
	json_object_object_add(o, "detail",
	    json_object_new_string(j->detail ? j->detail : ""));
	json_object_object_add(o, "export_type",
	    json_object_new_string(fmt_name(j->format)));
	if (j->state == JS_COMPLETED) {
		struct json_object *l = href(r->base, OSDI_MOUNT
		    "/exports/%s/download", j->id);

		struct buf signed_link = BUF_INIT;

		json_object_object_add(o, "download_link",
		    json_object_get(json_object_object_get(l, "href")));
		json_object_put(l);
		/* the same file by a signed link: no credential needed */
		graph_download_url(r, j, &signed_link);
		if (signed_link.len > 0)
			json_object_object_add(o, "signed_download_link",
			    json_object_new_string(buf_str(&signed_link)));
		buf_free(&signed_link);
	}
	links = json_object_new_object();
	json_object_object_add(links, "self",
	    href(r->base, OSDI_MOUNT "/exports/%s", j->id));
	json_object_object_add(links, "osdi:resource",
	    href(r->base, GRAPH_MOUNT "/definitions/%s", j->def_id));
	if (j->state == JS_COMPLETED)
		json_object_object_add(links, "osdi:download",
		    href(r->base, OSDI_MOUNT "/exports/%s/download", j->id));
	json_object_object_add(o, "_links", links);
	return o;
}
