/*
 * hello.fcgi: the baseline of bench/status.sh.  The smallest useful
 * libfcgi program: it answers every request with 200 and a short body,
 * reading nothing and touching no store.  The benchmark compiles it into
 * its temporary directory; it is never installed.
 */
#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request	rq;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&rq) >= 0) {
		FCGX_PutS("Status: 200 OK\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\n"
		    "\r\n"
		    "Hello, world\n", rq.out);
		FCGX_Finish_r(&rq);
	}
	return 0;
}
