/*
 * The route table: every URL of the API, the program that serves it, its
 * methods, its dialect and its handler.  The web server configs in
 * httpd-conf/ send each URL to the program named here.
 */
#include "api/api.h"
#include "dialect/dialect.h"

#define CC CONCUR_MOUNT

const struct route routes[] = {
	{ PROG_DEFINITIONS, M_GET, CC, &dialect_concur,
	    concur_list_definitions },
	{ PROG_DEFINITIONS, M_GET, CC "/*", &dialect_concur,
	    concur_show_definition },
	{ PROG_JOBS, M_GET, CC "/*/job", &dialect_concur, concur_list_jobs },
	{ PROG_JOBS, M_POST, CC "/*/job", &dialect_concur, concur_create_job },
	{ PROG_JOBS, M_GET, CC "/*/job/*", &dialect_concur, concur_show_job },
	{ PROG_STATUS, M_GET, CC "/*/job/*/status", &dialect_concur,
	    concur_job_status },
	{ PROG_FILES, M_GET, CC "/*/job/*/file", &dialect_concur,
	    concur_job_file },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
