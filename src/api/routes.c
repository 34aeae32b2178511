/*
 * The route table, the map of the API: every URL, the program that serves
 * it (definitions.fcgi, jobs.fcgi, the hot status.fcgi, files.fcgi), its
 * methods, its dialect and its handler (in src/api/<dialect>.c).  The web
 * server configs in httpd-conf/ send each URL to the program named here;
 * a URL that reaches another program is refused.
 */
#include "api/api.h"
#include "dialect/dialect.h"

#define CC CONCUR_MOUNT
#define GR GRAPH_MOUNT
#define OS OSDI_MOUNT
#define G &dialect_graph
#define O &dialect_osdi
#define GB GOALS_BETA_MOUNT
#define GV GOALS_V1_MOUNT
#define GBD &dialect_goals_beta
#define GVD &dialect_goals_v1
#define AJ ROUTE_AUTH_JOB	/* token and job read together: the poll */

const struct route routes[] = {
	{ PROG_DEFINITIONS, M_GET, CC, &dialect_concur,
	    concur_list_definitions, 0 },
	{ PROG_DEFINITIONS, M_GET, CC "/*", &dialect_concur,
	    concur_show_definition, 0 },
	{ PROG_JOBS, M_GET, CC "/*/job", &dialect_concur, concur_list_jobs,
	    0 },
	{ PROG_JOBS, M_POST, CC "/*/job", &dialect_concur, concur_create_job,
	    0 },
	{ PROG_JOBS, M_GET, CC "/*/job/*", &dialect_concur, concur_show_job,
	    AJ },
	{ PROG_STATUS, M_GET, CC "/*/job/*/status", &dialect_concur,
	    concur_show_job, AJ },
	{ PROG_FILES, M_GET, CC "/*/job/*/file", &dialect_concur,
	    concur_job_file, 0 },

	{ PROG_DEFINITIONS, M_GET, GR "/definitions", G,
	    graph_list_definitions, 0 },
	{ PROG_DEFINITIONS, M_POST, GR "/definitions", G,
	    graph_create_definition, 0 },
	{ PROG_DEFINITIONS, M_GET, GR "/definitions/*", G,
	    graph_show_definition, 0 },
	{ PROG_DEFINITIONS, M_PUT, GR "/definitions/*", G,
	    graph_replace_definition, 0 },
	{ PROG_DEFINITIONS, M_DELETE, GR "/definitions/*", G,
	    graph_delete_definition, 0 },
	{ PROG_DEFINITIONS, M_GET, GR "/me", G, graph_me, 0 },
	{ PROG_JOBS, M_GET, GR "/exportJobs", G, graph_list_jobs, 0 },
	{ PROG_JOBS, M_POST, GR "/exportJobs", G, graph_create_job, 0 },
	{ PROG_STATUS, M_GET, GR "/exportJobs/*", G, graph_show_job, AJ },
	{ PROG_JOBS, M_DELETE, GR "/exportJobs/*", G, graph_delete_job, 0 },
	{ PROG_FILES, M_GET, GR "/exportJobs/*/content", G,
	    graph_job_content, 0 },
	{ PROG_JOBS, M_POST, GR "/exportJobs/*/approve", G,
	    graph_approve_job, 0 },
	{ PROG_JOBS, M_POST, GR "/exportJobs/*/reject", G, graph_reject_job,
	    0 },
	{ PROG_JOBS, M_GET, GR "/metrics", G, graph_metrics, 0 },
	{ PROG_FILES, M_GET, GR "/downloads/*", G, graph_signed_download,
	    ROUTE_NO_AUTH },

	/* the goals mounts: matched whatever the case (Graph's paths) */
	{ PROG_JOBS, M_GET, GB "/exportJobs", GBD, goals_list_jobs, 0 },
	{ PROG_JOBS, M_POST, GB "/exportJobs", GBD, goals_create_job, 0 },
	{ PROG_STATUS, M_GET, GB "/exportJobs/*", GBD, goals_show_job, AJ },
	{ PROG_FILES, M_GET, GB "/exportJobs/*/content", GBD,
	    goals_job_content, 0 },
	{ PROG_JOBS, M_GET, GV "/exportJobs", GVD, goals_list_jobs, 0 },
	{ PROG_JOBS, M_POST, GV "/exportJobs", GVD, goals_create_job, 0 },
	{ PROG_STATUS, M_GET, GV "/exportJobs/*", GVD, goals_show_job, AJ },
	{ PROG_FILES, M_GET, GV "/exportJobs/*/content", GVD,
	    goals_job_content, 0 },

	{ PROG_JOBS, M_GET, OS, O, osdi_entry, 0 },
	{ PROG_JOBS, M_GET, OS "/exports", O, osdi_list_exports, 0 },
	{ PROG_JOBS, M_POST, OS "/exports", O, osdi_create_export, 0 },
	{ PROG_STATUS, M_GET, OS "/exports/*", O, osdi_show_export, AJ },
	{ PROG_JOBS, M_DELETE, OS "/exports/*", O, osdi_delete_export, 0 },
	{ PROG_FILES, M_GET, OS "/exports/*/download", O, osdi_download, 0 },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
