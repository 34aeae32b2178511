/*
 * The figures of quarryctl stats and of the Prometheus metrics (issue 14,
 * docs/operations.md): jobs by tenant and state, the queue, the running
 * builds and their pace, what the builds of the last hour and day did,
 * the store's and the files directory's size, the cache's hit ratio.
 * Read from the job records the store keeps (finished jobs go when the
 * history sweep purges them), in one pass without holding locks.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "quarry/seams.h"
#include "quarry/store.h"

struct collect {
	struct stats	*st;
	const char	*tenant;	/* only its jobs; NULL: every tenant */
	struct buf	 durations[2];	/* doubles: builds of hour, day */
	int		 oom;
};

static struct stats_tenant *
tenant_of(struct stats *st, const char *t)
{
	struct stats_tenant	*n;
	size_t			 i;

	for (i = 0; i < st->ntenants; i++)
		if (strcmp(st->tenants[i].tenant, t) == 0)
			return &st->tenants[i];
	if ((n = realloc(st->tenants, (st->ntenants + 1) * sizeof(*n))) ==
	    NULL)
		return NULL;
	st->tenants = n;
	n = &st->tenants[st->ntenants++];
	memset(n, 0, sizeof(*n));
	snprintf(n->tenant, sizeof(n->tenant), "%s", t);
	return n;
}

static void
window_add(struct collect *c, int w, const struct job *j)
{
	struct stats_window	*win = w ? &c->st->day : &c->st->hour;
	double			 d;

	if (j->state == JS_FAILED) {
		win->failed++;
		return;
	}
	win->finished++;
	win->rows += j->rows;
	win->bytes += j->file_size;
	if (j->started != 0 && j->finished >= j->started) {
		d = (double)(j->finished - j->started);
		buf_add(&c->durations[w], &d, sizeof(d));
	}
}

static int
take(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct collect		*c = arg;
	struct stats		*st = c->st;
	struct stats_tenant	*t;
	struct stats_running	*r;
	struct job		 j;
	time_t			 age;

	(void)k;
	if (kl != ID_LEN || job_decode(v, vl, &j) != Q_OK)
		return VISIT_NEXT;
	if (c->tenant != NULL && strcmp(j.tenant, c->tenant) != 0) {
		job_free(&j);
		return VISIT_NEXT;
	}
	if ((t = tenant_of(st, j.tenant)) == NULL) {
		c->oom = 1;
		job_free(&j);
		return Q_NOMEM;
	}
	if ((unsigned)j.state < JS_NSTATES)
		t->by_state[j.state]++;
	if (j.state == JS_QUEUED) {
		st->queued++;
		if (st->oldest_queued == 0 || j.created < st->oldest_queued)
			st->oldest_queued = j.created;
	}
	if (j.state == JS_RUNNING) {
		r = realloc(st->running, (st->nrunning + 1) * sizeof(*r));
		if (r == NULL) {
			c->oom = 1;
			job_free(&j);
			return Q_NOMEM;
		}
		st->running = r;
		r = &st->running[st->nrunning++];
		memset(r, 0, sizeof(*r));
		memcpy(r->id, j.id, sizeof(r->id));
		snprintf(r->tenant, sizeof(r->tenant), "%s", j.tenant);
		r->rows = j.rows;
		r->bytes = j.bytes;
		r->started = j.started;
		age = st->now - j.started;
		r->rows_per_s = j.started != 0 && age > 0 ?
		    (double)j.rows / (double)age : (double)j.rows;
	}
	if ((j.state == JS_COMPLETED || j.state == JS_EXPIRED ||
	    j.state == JS_FAILED) && j.finished != 0) {
		if (j.finished > st->now - 3600)
			window_add(c, 0, &j);
		if (j.finished > st->now - 86400)
			window_add(c, 1, &j);
	}
	job_free(&j);
	return VISIT_NEXT;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median and the 95th percentile (nearest rank) of n durations. */
static void
percentiles(struct buf *b, struct stats_window *w)
{
	double	*d = (double *)(void *)b->data;
	size_t	 n = b->len / sizeof(double);

	if (n == 0)
		return;
	qsort(d, n, sizeof(*d), cmp_double);
	w->build_median = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
	w->build_p95 = d[(size_t)((double)n * 0.95 + 0.999999) - 1];
	w->builds_timed = n;
}

static void
files_size(const char *dir, struct stats *st)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 sb;
	char		 p[PATH_MAX + 256];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' || stat(p, &sb) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		st->files++;
		st->files_bytes += (unsigned long long)sb.st_size;
	}
	closedir(d);
}

/* The figures (see model.h). */
enum qerr
stats_collect(struct store *s, const char *tenant, struct stats *st)
{
	struct collect	c;
	enum qerr	e;

	memset(st, 0, sizeof(*st));
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.tenant = tenant;
	st->tenant_only = tenant != NULL;
	st->now = q_seams.now();
	st->hour.seconds = 3600;
	st->day.seconds = 86400;
	e = store_scan(s, T_JOBS, "", 0, take, &c);
	if (e == Q_OK && c.oom)
		e = Q_NOMEM;
	if (e == Q_OK) {
		percentiles(&c.durations[0], &st->hour);
		percentiles(&c.durations[1], &st->day);
		if (tenant == NULL) {
			e = store_sizes(s, &st->store);
			files_size(store_conf(s)->files_dir, st);
		}
	}
	buf_free(&c.durations[0]);
	buf_free(&c.durations[1]);
	if (e != Q_OK)
		stats_free(st);
	return e;
}

void
stats_free(struct stats *st)
{
	free(st->tenants);
	free(st->running);
	st->tenants = NULL;
	st->running = NULL;
	st->ntenants = st->nrunning = 0;
}

/* A label value in the exposition format: \, " and newline escaped. */
static void
label(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_addc(b, '\\');
		if (*v == '\n') {
			buf_adds(b, "\\n");
			continue;
		}
		buf_addc(b, *v);
	}
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
windows(struct buf *b, const struct stats *st, const char *name,
    const char *help, int what)
{
	const struct stats_window	*w[2] = { &st->hour, &st->day };
	static const char *const	 names[2] = { "1h", "1d" };
	int				 i;

	family(b, name, "gauge", help);
	for (i = 0; i < 2; i++) {
		double v = what == 0 ? (double)w[i]->finished :
		    what == 1 ? (double)w[i]->failed :
		    what == 2 ? (double)w[i]->rows : (double)w[i]->bytes;

		buf_printf(b, "%s{window=\"%s\"} %.0f\n", name, names[i], v);
	}
}

/* The figures in Prometheus' text exposition format (see model.h). */
void
stats_prometheus(const struct stats *st, struct buf *b)
{
	static const char *const	 wn[2] = { "1h", "1d" };
	const struct stats_window	*w[2] = { &st->hour, &st->day };
	size_t				 i;
	int				 s;

	family(b, "quarry_jobs", "gauge", "Jobs the store keeps, by tenant "
	    "and state.");
	for (i = 0; i < st->ntenants; i++)
		for (s = 0; s < JS_NSTATES; s++) {
			buf_adds(b, "quarry_jobs{tenant=\"");
			label(b, st->tenants[i].tenant);
			buf_printf(b, "\",state=\"%s\"} %llu\n",
			    job_state_name((enum job_state)s),
			    (unsigned long long)st->tenants[i].by_state[s]);
		}
	family(b, "quarry_queue_jobs", "gauge", "Jobs waiting in the queue.");
	buf_printf(b, "quarry_queue_jobs %llu\n",
	    (unsigned long long)st->queued);
	family(b, "quarry_queue_oldest_age_seconds", "gauge", "How long the "
	    "oldest queued job has waited (0: none waits).");
	buf_printf(b, "quarry_queue_oldest_age_seconds %lld\n",
	    st->oldest_queued ? (long long)(st->now - st->oldest_queued) : 0);
	family(b, "quarry_builds_running", "gauge", "Builds running now.");
	buf_printf(b, "quarry_builds_running %zu\n", st->nrunning);
	family(b, "quarry_build_rows_per_second", "gauge", "Rows a running "
	    "build has written per second since it started.");
	for (i = 0; i < st->nrunning; i++) {
		buf_adds(b, "quarry_build_rows_per_second{tenant=\"");
		label(b, st->running[i].tenant);
		buf_printf(b, "\",job=\"%s\"} %.1f\n", st->running[i].id,
		    st->running[i].rows_per_s);
	}
	windows(b, st, "quarry_builds_finished", "Builds that completed in "
	    "the window.", 0);
	windows(b, st, "quarry_builds_failed", "Builds that failed in the "
	    "window.", 1);
	windows(b, st, "quarry_rows_written", "Rows the builds that "
	    "completed in the window wrote.", 2);
	windows(b, st, "quarry_bytes_written", "Bytes of the files the "
	    "builds that completed in the window wrote.", 3);
	family(b, "quarry_build_duration_median_seconds", "gauge", "Median "
	    "build time of the builds that completed in the window.");
	for (i = 0; i < 2; i++)
		buf_printf(b, "quarry_build_duration_median_seconds{window="
		    "\"%s\"} %g\n", wn[i], w[i]->build_median);
	family(b, "quarry_build_duration_p95_seconds", "gauge", "95th "
	    "percentile of the build time of the builds that completed in "
	    "the window.");
	for (i = 0; i < 2; i++)
		buf_printf(b, "quarry_build_duration_p95_seconds{window=\"%s\"} "
		    "%g\n", wn[i], w[i]->build_p95);
	if (st->tenant_only)
		return;		/* the installation's figures: an operator's */
	family(b, "quarry_store_bytes", "gauge", "Bytes of the store's "
	    "database files and of its log files.");
	buf_printf(b, "quarry_store_bytes{kind=\"database\"} %llu\n"
	    "quarry_store_bytes{kind=\"log\"} %llu\n", st->store.db_bytes,
	    st->store.log_bytes);
	family(b, "quarry_cache_hits_total", "counter", "Pages the store "
	    "found in its cache since its environment was made.");
	buf_printf(b, "quarry_cache_hits_total %llu\n", st->store.cache_hits);
	family(b, "quarry_cache_misses_total", "counter", "Pages the store "
	    "read from disk since its environment was made.");
	buf_printf(b, "quarry_cache_misses_total %llu\n",
	    st->store.cache_misses);
	family(b, "quarry_files", "gauge", "Files in the files directory.");
	buf_printf(b, "quarry_files %llu\n", (unsigned long long)st->files);
	family(b, "quarry_files_bytes", "gauge", "Bytes of the files in the "
	    "files directory.");
	buf_printf(b, "quarry_files_bytes %llu\n", st->files_bytes);
}
