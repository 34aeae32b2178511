/* A Concur POST job body (XML, with every DOCTYPE refused). */
#include "fuzz.h"
#include "dialect/dialect.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	uri[1024], err[256];

	(void)concur_parse_job_request((const char *)data, size, uri,
	    sizeof(uri), err, sizeof(err));
	return 0;
}
