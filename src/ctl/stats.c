/*
 * quarryctl stats [--json | --prometheus] (issue 14, docs/operations.md):
 * the figures of stats_collect, as text for a person, as JSON for a
 * script, or in Prometheus' text format for node_exporter's textfile
 * collector.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"
#include "quarry/buf.h"

static const char *
size_text(unsigned long long n, char *out, size_t len)
{
	if (n >= 10ULL << 30)
		snprintf(out, len, "%.1f GB", (double)n / (1 << 30));
	else if (n >= 10ULL << 20)
		snprintf(out, len, "%.1f MB", (double)n / (1 << 20));
	else if (n >= 10ULL << 10)
		snprintf(out, len, "%.1f KB", (double)n / (1 << 10));
	else
		snprintf(out, len, "%llu bytes", n);
	return out;
}

static double
hit_ratio(const struct stats *st)
{
	unsigned long long all = st->store.cache_hits + st->store.cache_misses;

	return all ? 100.0 * (double)st->store.cache_hits / (double)all : 0;
}

static void
text_window(const char *name, const struct stats_window *w)
{
	char b[32];

	printf("%s: %llu builds completed, %llu failed; %llu rows, %s "
	    "written", name, (unsigned long long)w->finished,
	    (unsigned long long)w->failed, (unsigned long long)w->rows,
	    size_text(w->bytes, b, sizeof(b)));
	if (w->builds_timed > 0)
		printf("; build time median %.1f s, 95th percentile %.1f s",
		    w->build_median, w->build_p95);
	printf("\n");
}

static void
text(const struct stats *st)
{
	char	b1[32], b2[32], b3[32];
	size_t	i;
	int	s, any;

	printf("jobs by tenant and state:\n");
	for (i = 0; i < st->ntenants; i++) {
		printf("  %s:", st->tenants[i].tenant);
		any = 0;
		for (s = 0; s < JS_NSTATES; s++)
			if (st->tenants[i].by_state[s] > 0) {
				printf("%s %s %llu", any ? "," : "",
				    job_state_name((enum job_state)s),
				    (unsigned long long)
				    st->tenants[i].by_state[s]);
				any = 1;
			}
		printf("\n");
	}
	printf("queue: %llu queued", (unsigned long long)st->queued);
	if (st->oldest_queued)
		printf(", the oldest waiting %lld s",
		    (long long)(st->now - st->oldest_queued));
	printf("\nrunning builds: %zu\n", st->nrunning);
	for (i = 0; i < st->nrunning; i++)
		printf("  %s %s: %llu rows, %.0f rows/s\n", st->running[i].id,
		    st->running[i].tenant,
		    (unsigned long long)st->running[i].rows,
		    st->running[i].rows_per_s);
	text_window("last hour", &st->hour);
	text_window("last day", &st->day);
	printf("store: %s of database files, %s of log; cache hit ratio "
	    "%.1f %%\nfiles: %llu, %s\n", size_text(st->store.db_bytes, b1,
	    sizeof(b1)), size_text(st->store.log_bytes, b2, sizeof(b2)),
	    hit_ratio(st), (unsigned long long)st->files,
	    size_text(st->files_bytes, b3, sizeof(b3)));
}

static struct json_object *
json_window(const struct stats_window *w)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "seconds", json_object_new_int64(w->seconds));
	json_object_object_add(o, "completed",
	    json_object_new_int64((int64_t)w->finished));
	json_object_object_add(o, "failed",
	    json_object_new_int64((int64_t)w->failed));
	json_object_object_add(o, "rows", json_object_new_int64((int64_t)
	    w->rows));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)
	    w->bytes));
	json_object_object_add(o, "build_seconds_median", w->builds_timed ?
	    json_object_new_double(w->build_median) : NULL);
	json_object_object_add(o, "build_seconds_p95", w->builds_timed ?
	    json_object_new_double(w->build_p95) : NULL);
	return o;
}

static void
json(const struct stats *st)
{
	struct json_object	*o = json_object_new_object(), *t, *a, *r, *x;
	size_t			 i;
	int			 s;

	t = json_object_new_object();
	for (i = 0; i < st->ntenants; i++) {
		x = json_object_new_object();
		for (s = 0; s < JS_NSTATES; s++)
			json_object_object_add(x, job_state_name(
			    (enum job_state)s), json_object_new_int64((int64_t)
			    st->tenants[i].by_state[s]));
		json_object_object_add(t, st->tenants[i].tenant, x);
	}
	json_object_object_add(o, "jobs", t);
	x = json_object_new_object();
	json_object_object_add(x, "queued", json_object_new_int64((int64_t)
	    st->queued));
	json_object_object_add(x, "oldest_age_seconds", st->oldest_queued ?
	    json_object_new_int64((int64_t)(st->now - st->oldest_queued)) :
	    NULL);
	json_object_object_add(o, "queue", x);
	a = json_object_new_array();
	for (i = 0; i < st->nrunning; i++) {
		r = json_object_new_object();
		json_object_object_add(r, "id",
		    json_object_new_string(st->running[i].id));
		json_object_object_add(r, "tenant",
		    json_object_new_string(st->running[i].tenant));
		json_object_object_add(r, "rows", json_object_new_int64(
		    (int64_t)st->running[i].rows));
		json_object_object_add(r, "rows_per_second",
		    json_object_new_double(st->running[i].rows_per_s));
		json_object_array_add(a, r);
	}
	json_object_object_add(o, "running", a);
	json_object_object_add(o, "last_hour", json_window(&st->hour));
	json_object_object_add(o, "last_day", json_window(&st->day));
	x = json_object_new_object();
	json_object_object_add(x, "database_bytes", json_object_new_int64(
	    (int64_t)st->store.db_bytes));
	json_object_object_add(x, "log_bytes", json_object_new_int64(
	    (int64_t)st->store.log_bytes));
	json_object_object_add(x, "cache_hit_ratio",
	    json_object_new_double(hit_ratio(st) / 100.0));
	json_object_object_add(o, "store", x);
	x = json_object_new_object();
	json_object_object_add(x, "count", json_object_new_int64((int64_t)
	    st->files));
	json_object_object_add(x, "bytes", json_object_new_int64((int64_t)
	    st->files_bytes));
	json_object_object_add(o, "files", x);
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int
cmd_stats(struct ctl *c, int argc, char **argv)
{
	struct stats	 st;
	struct buf	 b = BUF_INIT;
	enum qerr	 e;
	int		 how = 0;

	if (argc > 2)
		return 2;
	if (argc == 2) {
		if (strcmp(argv[1], "--json") == 0)
			how = 1;
		else if (strcmp(argv[1], "--prometheus") == 0)
			how = 2;
		else
			return 2;
	}
	if ((e = stats_collect(ctl_store(c), NULL, &st)) != Q_OK) {
		fprintf(stderr, "quarryctl: stats: %s\n", qerr_str(e));
		return 1;
	}
	if (how == 1)
		json(&st);
	else if (how == 2) {
		stats_prometheus(&st, &b);
		fwrite(b.data, 1, b.len, stdout);
		buf_free(&b);
	} else
		text(&st);
	stats_free(&st);
	return fflush(stdout) == 0 ? 0 : 1;
}
