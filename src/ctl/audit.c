/*
 * quarryctl audit [--tenant T] [--since TIME] [--json] (issue 14,
 * docs/operations.md): the audit trail, oldest first.  TIME is an
 * RFC 3339 time (2026-12-01T00:00:00Z) or a duration back from now
 * (24h, 7d).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ctl.h"
#include "quarry/seams.h"
#include "quarry/util.h"

struct out {
	int	 json;
	size_t	 n;
};

static void
when(uint64_t us, char *out, size_t len)
{
	time_t		t = (time_t)(us / 1000000);
	struct tm	tm;
	char		s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06lluZ", s, (unsigned long long)(us % 1000000));
}

static int
show(const struct audit_entry *a, void *arg)
{
	struct out		*o = arg;
	struct json_object	*j;
	char			 t[48];

	when(a->time_us, t, sizeof(t));
	o->n++;
	if (!o->json) {
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s %s\t%s\n", t,
		    a->tenant[0] ? a->tenant : "-", a->principal[0] ?
		    a->principal : "-", a->name[0] ? a->name : "-", a->role[0] ?
		    a->role : "-", a->addr[0] ? a->addr : "-", a->action,
		    a->kind, a->id[0] ? a->id : "-", a->detail);
		return VISIT_NEXT;
	}
	j = json_object_new_object();
	json_object_object_add(j, "time", json_object_new_string(t));
	json_object_object_add(j, "tenant", json_object_new_string(a->tenant));
	json_object_object_add(j, "token", json_object_new_string(
	    a->principal));
	json_object_object_add(j, "name", json_object_new_string(a->name));
	json_object_object_add(j, "role", json_object_new_string(a->role));
	json_object_object_add(j, "address", json_object_new_string(a->addr));
	json_object_object_add(j, "action", json_object_new_string(a->action));
	json_object_object_add(j, "kind", json_object_new_string(a->kind));
	json_object_object_add(j, "id", json_object_new_string(a->id));
	json_object_object_add(j, "detail", json_object_new_string(a->detail));
	printf("%s\n", json_object_to_json_string_ext(j,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return VISIT_NEXT;
}

/* TIME: RFC 3339 or a duration back from now. */
static int
since_of(const char *s, time_t *out)
{
	long long d;

	if (duration_parse(s, &d) == 0) {
		*out = q_seams.now() - (time_t)d;
		return 0;
	}
	return time_parse_rfc3339(s, out);
}

int
cmd_audit(struct ctl *c, int argc, char **argv)
{
	struct out	 o = { 0, 0 };
	const char	*tenant = NULL;
	time_t		 since = 0;
	enum qerr	 e;
	int		 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.json = 1;
		else if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc)
			tenant = argv[++i];
		else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (since_of(argv[++i], &since) != 0) {
				fprintf(stderr, "quarryctl: audit: --since "
				    "takes a time (2026-12-01T00:00:00Z) or a "
				    "duration (24h, 7d)\n");
				return 2;
			}
		} else
			return 2;
	}
	if ((e = audit_list(ctl_store(c), tenant, since, show, &o)) != Q_OK) {
		fprintf(stderr, "quarryctl: audit: %s\n", qerr_str(e));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
