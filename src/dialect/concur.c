/*
 * The Concur dialect (SPEC section 4): SAP Concur Expense Extract v1.0.
 * XML in the extract namespace, IDs as absolute URIs, OAuth credentials,
 * and <Error> bodies.  Rendering writes text directly (every value goes
 * through xml_escape); parsing uses libxml2 with the network off and
 * after refusing any DOCTYPE or entity declaration outright.  libxml2 is
 * loaded when a body is first parsed (see xml_load), not linked.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "dialect/dialect.h"
#include "quarry/format.h"
#include "quarry/log.h"

/* Concur's words for the core states (SPEC section 2). */
static const char *
concur_status_word(enum job_state s)
{
	switch (s) {
	case JS_PENDING_APPROVAL:
	case JS_QUEUED:		return "Queued";
	case JS_RUNNING:	return "Running";
	case JS_COMPLETED:
	case JS_EXPIRED:	return "Completed";
	case JS_FAILED:
	case JS_REJECTED:
	case JS_CANCELLED:
	case JS_NSTATES:	break;
	}
	return "Failed";
}

/* "Authorization: OAuth <token>" (the scheme is case-insensitive). */
static int
concur_credential(const struct request *r, char *out, size_t len)
{
	const char	*h = http_env(r, "HTTP_AUTHORIZATION");
	size_t		 n;

	if (h == NULL || strncasecmp(h, "OAuth", 5) != 0 ||
	    (h[5] != ' ' && h[5] != '\t'))
		return -1;
	for (h += 5; *h == ' ' || *h == '\t'; h++)
		continue;
	n = strcspn(h, " \t");
	if (n == 0)
		return -1;
	if (n >= len || h[n] != '\0') {
		/* Malformed: a credential that no token matches. */
		snprintf(out, len, "-");
		return 0;
	}
	memcpy(out, h, n);
	out[n] = '\0';
	return 0;
}

static void
elem(struct buf *b, const char *indent, const char *name, const char *val)
{
	buf_printf(b, "%s<%s>", indent, name);
	xml_escape(b, val, strlen(val));
	buf_printf(b, "</%s>\n", name);
}

/*
 * <Error> with Message, Server-Time and Id (the request reference); the
 * last two are left out when empty (a static error document, see
 * http_error_document).
 */
static void
concur_error(struct request *r, int status, enum qerr e)
{
	(void)e;
	(void)status;
	if (status == 401)
		http_header(r, "WWW-Authenticate", "OAuth realm=\"Quarry\"");
	buf_adds(&r->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_adds(&r->out, "<Error xmlns=\"" CONCUR_NS "\">\n");
	elem(&r->out, "  ", "Message", r->err_msg);
	if (r->now[0] != '\0')
		elem(&r->out, "  ", "Server-Time", r->now);
	if (r->reqid[0] != '\0')
		elem(&r->out, "  ", "Id", r->reqid);
	buf_adds(&r->out, "</Error>\n");
}

const struct dialect dialect_concur = {
	"concur",
	CONCUR_MOUNT,
	0,
	concur_credential,
	403,
	concur_error,
	CONCUR_CTYPE,
	concur_status_word,
	"job",
	{ NULL, NULL, NULL, NULL, NULL },	/* no member names an input */
};

void
concur_def_uri(struct buf *b, const char *base, const char *def_id)
{
	buf_printf(b, "%s" CONCUR_MOUNT "/%s", base, def_id);
}

void
concur_job_uri(struct buf *b, const char *base, const char *def_id,
    const char *job_id)
{
	concur_def_uri(b, base, def_id);
	buf_printf(b, "/job/%s", job_id);
}

static void
head(struct buf *b, const char *root, int top)
{
	if (top) {
		buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
		buf_printf(b, "<%s xmlns=\"" CONCUR_NS "\">\n", root);
	} else
		buf_printf(b, "  <%s>\n", root);
}

void
concur_definitions_begin(struct buf *b)
{
	head(b, "definitions", 1);
}

void
concur_definitions_end(struct buf *b)
{
	buf_adds(b, "</definitions>\n");
}

/*
 * A <definition>: id (URI), name, job-link as Concur's example of one
 * definition orders them; in the list (!top) id, job-link, name as its
 * list example and its schema do.
 */
void
concur_definition(struct buf *b, const char *base,
    const struct definition *d, int top)
{
	struct buf	 u = BUF_INIT;
	const char	*in = top ? "  " : "    ";

	head(b, "definition", top);
	concur_def_uri(&u, base, d->id);
	elem(b, in, "id", buf_str(&u));
	if (top)
		elem(b, in, "name", d->name ? d->name : "");
	buf_adds(&u, "/job");
	elem(b, in, "job-link", buf_str(&u));
	if (!top)
		elem(b, in, "name", d->name ? d->name : "");
	buf_adds(b, top ? "</definition>\n" : "  </definition>\n");
	buf_free(&u);
}

void
concur_jobs_begin(struct buf *b)
{
	head(b, "jobs", 1);
}

void
concur_jobs_end(struct buf *b)
{
	buf_adds(b, "</jobs>\n");
}

/*
 * A <job>: id, status-link, start-time, stop-time once finished, status,
 * and file-link once a file was produced, in the order of Concur's
 * examples.
 */
void
concur_job(struct buf *b, const char *base, const struct job *j, int top)
{
	struct buf	 u = BUF_INIT, l = BUF_INIT;
	const char	*in = top ? "  " : "    ";
	char		 t[RFC3339_LEN];

	head(b, "job", top);
	concur_job_uri(&u, base, j->def_id, j->id);
	elem(b, in, "id", buf_str(&u));
	buf_printf(&l, "%s/status", buf_str(&u));
	elem(b, in, "status-link", buf_str(&l));
	time_rfc3339(j->created, t);
	elem(b, in, "start-time", t);
	if (job_state_finished(j->state) && j->finished != 0) {
		time_rfc3339(j->finished, t);
		elem(b, in, "stop-time", t);
	}
	elem(b, in, "status", concur_status_word(j->state));
	if (j->state == JS_COMPLETED || j->state == JS_EXPIRED) {
		buf_reset(&l);
		buf_printf(&l, "%s/file", buf_str(&u));
		elem(b, in, "file-link", buf_str(&l));
	}
	buf_adds(b, top ? "</job>\n" : "  </job>\n");
	buf_free(&u);
	buf_free(&l);
}

/* ---- parsing ---- */

/* Refuses every external entity libxml2 might try to load. */
static xmlParserInputPtr
no_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

/* True if p[0..n) holds s, ASCII case-insensitively. */
static int
has_ci(const char *p, size_t n, const char *s)
{
	size_t i, k = strlen(s);

	for (i = 0; i + k <= n; i++)
		if (strncasecmp(p + i, s, k) == 0)
			return 1;
	return 0;
}

static void
silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static int
blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

/*
 * libxml2, loaded on first use.  Linked, it brings ICU and libstdc++ into
 * every web program, and loading them was a quarter of a plain CGI
 * request's start-up (docs/benchmarks.md); only a Concur job request with
 * a body needs it.
 */
static struct {
	int	 tried;
	void	*h;
	__typeof__(&xmlSetExternalEntityLoader)	set_loader;
	__typeof__(&xmlSetGenericErrorFunc)	set_errors;
	__typeof__(&xmlReadMemory)		read_memory;
	__typeof__(&xmlDocGetRootElement)	root_element;
	__typeof__(&xmlNodeGetContent)		node_content;
	__typeof__(&xmlFreeDoc)			free_doc;
	xmlFreeFunc				*free_fn; /* &xmlFree */
} X;

/* Loads libxml2 once; 0, or -1 (logged) if it cannot. */
static int
xml_load(void)
{
	void **const	 slot[] = {
		(void **)&X.set_loader, (void **)&X.set_errors,
		(void **)&X.read_memory, (void **)&X.root_element,
		(void **)&X.node_content, (void **)&X.free_doc,
		(void **)&X.free_fn
	};
	static const char *const name[] = {
		"xmlSetExternalEntityLoader", "xmlSetGenericErrorFunc",
		"xmlReadMemory", "xmlDocGetRootElement", "xmlNodeGetContent",
		"xmlFreeDoc", "xmlFree"
	};
	size_t i;

	if (X.tried)
		return X.h != NULL ? 0 : -1;
	X.tried = 1;
	if ((X.h = dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		qlog(LOG_ERR, "cannot load libxml2: %s", dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(slot) / sizeof(slot[0]); i++)
		if ((*slot[i] = dlsym(X.h, name[i])) == NULL) {
			qlog(LOG_ERR, "libxml2 lacks %s", name[i]);
			dlclose(X.h);
			X.h = NULL;
			return -1;
		}
	return 0;
}

static int
name_is(const xmlChar *n, const char *s)
{
	return n != NULL && strcmp((const char *)n, s) == 0;
}

/* Parses a POST job body (see dialect.h). */
enum qerr
concur_parse_job_request(const char *p, size_t n, char *def_uri, size_t len,
    char *err, size_t errlen)
{
	xmlDocPtr	 doc = NULL;
	xmlNodePtr	 root, c, idn = NULL;
	xmlChar		*txt = NULL;
	enum qerr	 e = Q_INVALID;
	const char	*s;

	def_uri[0] = '\0';
	if (n == 0 || blank(p, n))
		return Q_OK;
	if (memchr(p, '\0', n) != NULL) {
		snprintf(err, errlen, "the body holds a NUL byte");
		return Q_INVALID;
	}
	/* No DTD of any kind: nothing to expand, nothing to fetch. */
	if (has_ci(p, n, "<!DOCTYPE") || has_ci(p, n, "<!ENTITY")) {
		snprintf(err, errlen, "DOCTYPE and entity declarations are "
		    "not accepted");
		return Q_INVALID;
	}
	if (xml_load() != 0) {
		snprintf(err, errlen, "XML bodies cannot be read here "
		    "(libxml2 is missing)");
		return Q_STORE;
	}
	X.set_loader(no_loader);
	X.set_errors(NULL, silent);
	doc = X.read_memory(p, (int)n, "request.xml", NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL) {
		snprintf(err, errlen, "the body is not well-formed XML");
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		snprintf(err, errlen, "DOCTYPE declarations are not accepted");
		goto out;
	}
	root = X.root_element(doc);
	if (root == NULL || !name_is(root->name, "definition") ||
	    (root->ns != NULL && !name_is(root->ns->href, CONCUR_NS))) {
		snprintf(err, errlen, "the body must be a <definition> element "
		    "in the extract namespace");
		goto out;
	}
	for (c = root->children; c != NULL; c = c->next) {
		if (c->type == XML_ENTITY_REF_NODE) {
			snprintf(err, errlen, "entities are not accepted");
			goto out;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (name_is(c->name, "id") && idn == NULL)
			idn = c;
		else {
			snprintf(err, errlen, "unexpected element <%.64s> in "
			    "<definition>", (const char *)c->name);
			goto out;
		}
	}
	if (idn != NULL) {
		for (c = idn->children; c != NULL; c = c->next)
			if (c->type != XML_TEXT_NODE) {
				snprintf(err, errlen, "<id> must hold text only");
				goto out;
			}
		txt = X.node_content(idn);
		s = txt ? (const char *)txt : "";
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (strlen(s) >= len) {
			snprintf(err, errlen, "<id> is too long");
			goto out;
		}
		snprintf(def_uri, len, "%s", s);
		len = strlen(def_uri);
		while (len > 0 && strchr(" \t\r\n", def_uri[len - 1]) != NULL)
			def_uri[--len] = '\0';
	}
	e = Q_OK;
out:
	if (txt != NULL)
		(*X.free_fn)(txt);
	if (doc != NULL)
		X.free_doc(doc);
	return e;
}
