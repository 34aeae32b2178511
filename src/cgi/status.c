/*
 * status.fcgi: FastCGI (or plain CGI) program serving the routes that
 * src/api/routes.c gives to PROG_STATUS.
 */
#include "http/http.h"

int
main(void)
{
	return http_main(PROG_STATUS, "status");
}
