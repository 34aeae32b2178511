/*
 * The download contract's headers: Range against a file size taken from
 * the input's first bytes, If-None-Match against an ETag.
 */
#include "fuzz.h"
#include "http/http.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct range	 rg;
	long long	 fsize = 0;
	size_t		 i;
	char		*s;

	for (i = 0; i < size && i < 4; i++)
		fsize = fsize * 256 + data[i];
	s = fuzz_str(data + i, size - i);
	if (http_parse_range(s, fsize, &rg) == 1 &&
	    (rg.first < 0 || rg.first > rg.last || rg.last >= fsize))
		abort();	/* a range outside the file */
	(void)http_etag_listed(s, "\"1f-2a-3b\"");
	free(s);
	return 0;
}
