/* The strict JSON entry point every body goes through. */
#include "fuzz.h"
#include "quarry/jsonutil.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*o = NULL;
	char			 err[256], where[128];

	if (json_parse_strict_at((const char *)data, size, &o, err,
	    sizeof(err), where, sizeof(where)) == Q_OK)
		json_object_put(o);
	return 0;
}
