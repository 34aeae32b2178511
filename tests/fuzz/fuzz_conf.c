/* The configuration file (quarry.conf). */
#include <stdio.h>

#include "fuzz.h"
#include "quarry/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	 c;
	FILE		*f;
	char		 err[512];

	if (size == 0 || (f = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	conf_defaults(&c);
	(void)conf_read(&c, f, "fuzz.conf", err, sizeof(err));
	fclose(f);
	return 0;
}
