/*
 * A definition document (POST /api/v1/definitions, quarryctl definition
 * add), as text and as a parsed document with a default tenant.
 */
#include "fuzz.h"
#include "quarry/jsonutil.h"
#include "quarry/model.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct definition	 d;
	struct refusal		 why;
	struct json_object	*o = NULL;
	char			 field[128], err[256];
	enum fmt		 f;

	if (definition_parse((const char *)data, size, &d, field,
	    sizeof(field), err, sizeof(err)) == Q_OK) {
		(void)definition_format(&d, "json", &f);
		definition_free(&d);
	}
	if (json_parse_strict((const char *)data, size, &o, err,
	    sizeof(err)) == Q_OK) {
		if (definition_from_json(o, "acme", &d, &why) == Q_OK)
			definition_free(&d);
		json_object_put(o);
	}
	return 0;
}
