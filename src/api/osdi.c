/*
 * The OSDI dialect's handlers (SPEC section 6): the entry point and the
 * exports collection (list, create, show, delete, download), HAL+JSON
 * with curies and page arithmetic.  Which program serves each is in
 * routes.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api.h"
#include "dialect/dialect.h"

#define PER_PAGE_DEFAULT	25
#define PER_PAGE_MAX		100

static struct json_object *
link_to(const char *url)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "href", json_object_new_string(url));
	return o;
}

static void
send_hal(struct request *r, int status, struct json_object *o)
{
	osdi_headers(r);
	json_send(r, status, OSDI_CTYPE, o);
}

/* GET /osdi/v1/: the API entry point. */
enum qerr
osdi_entry(struct request *r)
{
	struct json_object	*o, *l;
	char			 url[400];
	o = json_object_new_object();
	json_object_object_add(o, "motd", json_object_new_string(
	    "Quarry export jobs: create an export, poll it, download it."));
	json_object_object_add(o, "vendor_name",
	    json_object_new_string("Quarry"));
	json_object_object_add(o, "product_name",
	    json_object_new_string("Quarry"));
	json_object_object_add(o, "osdi_version",
	    json_object_new_string("1.1"));
	l = json_object_new_object();
	snprintf(url, sizeof(url), "%s" OSDI_MOUNT "/", r->base);
	json_object_object_add(l, "self", link_to(url));
	snprintf(url, sizeof(url), "%s" OSDI_MOUNT "/exports", r->base);
	json_object_object_add(l, "osdi:exports", link_to(url));
	json_object_object_add(l, "curies", osdi_curies());
	json_object_object_add(o, "_links", l);
	send_hal(r, 200, o);
	return Q_OK;
}

struct slice {
	struct request		*r;
	struct json_object	*embedded, *hrefs;
};

static int
add_export(const struct job *j, void *arg)
{
	struct slice		*s = arg;
	char			 url[400];

	json_object_array_add(s->embedded, osdi_export(s->r, j));
	snprintf(url, sizeof(url), "%s" OSDI_MOUNT "/exports/%s", s->r->base,
	    j->id);
	json_object_array_add(s->hrefs, link_to(url));
	return VISIT_NEXT;
}

static struct json_object *
page_link(struct request *r, long page, long per_page)
{
	char url[400];

	snprintf(url, sizeof(url), "%s" OSDI_MOUNT "/exports?page=%ld&"
	    "per_page=%ld", r->base, page, per_page);
	return link_to(url);
}

/* GET /osdi/v1/exports?page&per_page */
enum qerr
osdi_list_exports(struct request *r)
{
	struct slice		 s;
	struct job_query	 q;
	struct json_object	*o, *l, *emb;
	long			 page, per_page, pages;
	uint64_t		 total;
	enum qerr		 e;

	if (api_query_int(r, "page", 1000000, 1, &page) != 0 ||
	    api_query_int(r, "per_page", PER_PAGE_MAX, PER_PAGE_DEFAULT,
	    &per_page) != 0)
		return Q_INVALID;
	memset(&s, 0, sizeof(s));
	s.r = r;
	s.embedded = json_object_new_array();
	s.hrefs = json_object_new_array();
	memset(&q, 0, sizeof(q));
	q.offset = (size_t)((page - 1) * per_page);
	q.limit = (size_t)per_page;
	if ((e = job_count(r->store, &r->who, &total)) != Q_OK ||
	    (e = job_list(r->store, &r->who, &q, add_export, &s)) != Q_OK) {
		json_object_put(s.embedded);
		json_object_put(s.hrefs);
		return e;
	}
	pages = (long)((total + (uint64_t)per_page - 1) / (uint64_t)per_page);
	/* members in the order of OSDI's collection example */
	o = json_object_new_object();
	json_object_object_add(o, "total_pages", json_object_new_int64(pages));
	json_object_object_add(o, "per_page", json_object_new_int64(per_page));
	json_object_object_add(o, "page", json_object_new_int64(page));
	json_object_object_add(o, "total_records",
	    json_object_new_int64((int64_t)total));
	l = json_object_new_object();
	if (page < pages)
		json_object_object_add(l, "next",
		    page_link(r, page + 1, per_page));
	if (page > 1)
		json_object_object_add(l, "previous",
		    page_link(r, page - 1 < pages ? page - 1 :
		    (pages > 0 ? pages : 1), per_page));
	json_object_object_add(l, "osdi:exports", s.hrefs);
	json_object_object_add(l, "curies", osdi_curies());
	json_object_object_add(l, "self", page_link(r, page, per_page));
	json_object_object_add(o, "_links", l);
	emb = json_object_new_object();
	json_object_object_add(emb, "osdi:exports", s.embedded);
	json_object_object_add(o, "_embedded", emb);
	send_hal(r, 200, o);
	return Q_OK;
}

/* The definition id a definition URL names (see api.h). */
int
osdi_definition_of_href(const char *href, char id[ID_LEN + 1])
{
	static const char *const mounts[] = {
		CONCUR_MOUNT "/", GRAPH_MOUNT "/definitions/",
	};
	const char	*p = href, *rest;
	size_t		 i, n;

	if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0) {
		/* past the scheme, to the path after the authority */
		p = strchr(p + (p[4] == 's' ? 8 : 7), '/');
		if (p == NULL)
			return -1;
	}
	for (i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		n = strlen(mounts[i]);
		if (strncmp(p, mounts[i], n) != 0)
			continue;
		rest = p + n;
		if (strlen(rest) != ID_LEN || !id_valid(rest))
			return -1;
		memcpy(id, rest, ID_LEN + 1);
		return 0;
	}
	return -1;
}

/* A string member (absent is fine); -1 with err_msg on another type. */
static int
opt_string(struct request *r, struct json_object *o, const char *name,
    size_t max, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) > max) {
		snprintf(r->err_target, sizeof(r->err_target), "%s", name);
		snprintf(r->err_msg, sizeof(r->err_msg), "%s must be a string "
		    "of at most %zu bytes", name, max);
		return -1;
	}
	*out = json_object_get_string(v);
	return 0;
}

/*
 * POST /osdi/v1/exports {"name", "export_type", "parameters"?,
 * "_links": {"osdi:resource": {"href": definition URL}}}.  The later
 * revision of OSDI's Export names the file type "export_template" (a
 * template of columns and file type): taken where it names a format,
 * since a Quarry export's template is its definition (docs/http.md).
 */
enum qerr
osdi_create_export(struct request *r)
{
	struct json_object	*o = NULL, *l, *res, *h;
	struct export_request	 rq;
	struct refusal		 why;
	struct job		 j;
	char			 def[ID_LEN + 1], existing[ID_LEN + 1];
	const char		*tmpl;
	enum fmt		 f;
	enum qerr		 e;

	memset(&rq, 0, sizeof(rq));
	memset(&j, 0, sizeof(j));
	def[0] = '\0';
	if ((e = api_body_json(r, 1, &o)) != Q_OK)
		return e;
	e = Q_INVALID;
	if (opt_string(r, o, "name", NAME_MAX_LEN, &rq.name) != 0 ||
	    opt_string(r, o, "export_type", 16, &rq.format) != 0 ||
	    opt_string(r, o, "export_template", 64, &tmpl) != 0)
		goto out;
	if (tmpl != NULL) {
		if (fmt_parse(tmpl, &f) != 0 || (rq.format != NULL &&
		    strcmp(rq.format, tmpl) != 0)) {
			snprintf(r->err_target, sizeof(r->err_target),
			    "export_template");
			snprintf(r->err_msg, sizeof(r->err_msg), "export_template "
			    "must name a file format (csv, tsv, json, xml), as "
			    "export_type does: an export's template of columns "
			    "is its definition (_links.osdi:resource)");
			goto out;
		}
		rq.format = tmpl;
	}
	if (json_object_object_get_ex(o, "_links", &l) &&
	    json_object_object_get_ex(l, "osdi:resource", &res) &&
	    json_object_object_get_ex(res, "href", &h) &&
	    json_object_is_type(h, json_type_string))
		osdi_definition_of_href(json_object_get_string(h), def);
	rq.def_id = def;
	json_object_object_get_ex(o, "parameters", &rq.params);
	e = job_create(r->store, &r->who, &rq, &j, existing, &why);
	if (e == Q_EXISTS) {
		http_header(r, "Location", "%s" OSDI_MOUNT "/exports/%s",
		    r->base, existing);
		r->err_reason = REASON_DUPLICATE_JOB;
		snprintf(r->err_target, sizeof(r->err_target),
		    "%s" OSDI_MOUNT "/exports/%s", r->base, existing);
		snprintf(r->err_msg, sizeof(r->err_msg), "Another export of "
		    "this definition with these parameters is still active");
		goto out;
	}
	if (e == Q_NOTFOUND) {	/* the definition the link names */
		e = Q_INVALID;
		snprintf(why.msg, sizeof(why.msg), "_links.osdi:resource.href "
		    "must be the URL of one of your definitions");
	}
	if (e != Q_OK) {
		api_refused(r, e, &why);
		goto out;
	}
	http_header(r, "Location", "%s" OSDI_MOUNT "/exports/%s", r->base,
	    j.id);
	send_hal(r, 201, osdi_export(r, &j));
out:
	json_object_put(o);
	job_free(&j);
	return e;
}

/* GET /osdi/v1/exports/{id} */
enum qerr
osdi_show_export(struct request *r)
{
	struct job	j;
	enum qerr	e;

	/* the route is ROUTE_AUTH_JOB: who asks is found with the job */
	if ((e = http_auth_job(r, r->capture[0], &j)) != Q_OK)
		return e == Q_NOTFOUND ? api_no_job(r, e) : e;
	send_hal(r, 200, osdi_export(r, &j));
	job_free(&j);
	return Q_OK;
}

/* DELETE /osdi/v1/exports/{id}: the model's delete rule. */
enum qerr
osdi_delete_export(struct request *r)
{
	struct json_object	*o;
	enum job_deleted	 how;
	enum qerr		 e;

	if ((e = api_delete_job(r, &how)) != Q_OK)
		return e;
	o = json_object_new_object();
	json_object_object_add(o, "notice",
	    json_object_new_string("This export was successfully deleted."));
	send_hal(r, 200, o);
	return Q_OK;
}

/* GET /osdi/v1/exports/{id}/download */
enum qerr
osdi_download(struct request *r)
{
	return api_download(r, NULL, r->capture[0]);
}
