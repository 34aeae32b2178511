/*
 * files.fcgi: downloads of finished jobs' files, in every dialect.  The
 * download contract itself is api_send_job_file / http_send_file.
 */
#include "api/api.h"

/* GET /api/expense/extract/v1.0/{def}/job/{job}/file */
enum qerr
concur_job_file(struct request *r)
{
	return api_download(r, r->capture[0], r->capture[1]);
}

/* GET /api/v1/exportJobs/{id}/content */
enum qerr
graph_job_content(struct request *r)
{
	return api_download(r, NULL, r->capture[0]);
}

/* GET /osdi/v1/exports/{id}/download */
enum qerr
osdi_download(struct request *r)
{
	return api_download(r, NULL, r->capture[0]);
}
