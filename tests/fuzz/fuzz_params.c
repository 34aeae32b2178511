/*
 * Job parameters and the filters they drive: the input is a JSON object
 * of parameters for a definition declaring one of each type; its
 * canonical form compiles the filters, which then match rows cut from
 * the input itself.
 */
#include "fuzz.h"
#include "quarry/export.h"
#include "quarry/jsonutil.h"
#include "quarry/params.h"

static const char *doc =
    "{\"tenant\":\"acme\",\"name\":\"F\",\"source\":{\"dataset\":\"x\"},"
    "\"parameters\":[{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"d\",\"type\":\"decimal\"},"
    "{\"name\":\"day\",\"type\":\"date\"},"
    "{\"name\":\"t\",\"type\":\"datetime\"}],"
    "\"filters\":[{\"column\":\"a\",\"op\":\"=\",\"parameter\":\"s\"},"
    "{\"column\":\"a\",\"op\":\"prefix\",\"parameter\":\"s\"},"
    "{\"column\":\"b\",\"op\":\">=\",\"parameter\":\"i\"},"
    "{\"column\":\"b\",\"op\":\"<\",\"parameter\":\"d\"},"
    "{\"column\":\"c\",\"op\":\"!=\",\"parameter\":\"day\"},"
    "{\"column\":\"c\",\"op\":\"<=\",\"parameter\":\"t\"}]}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct definition d;
	static int		 ready;
	char			*cols[3] = { "a", "b", "c" };
	const char		*fields[3];
	size_t			 lens[3], i, third = size / 3;
	struct json_object	*o = NULL;
	struct filter_set	 fs;
	struct buf		 canon = BUF_INIT;
	char			 bad[128], err[256];

	if (!ready && definition_parse(doc, strlen(doc), &d, bad, sizeof(bad),
	    err, sizeof(err)) == Q_OK)
		ready = 1;
	if (!ready)
		abort();
	for (i = 0; i < 3; i++) {
		fields[i] = (const char *)data + i * third;
		lens[i] = i < 2 ? third : size - 2 * third;
	}
	if (json_parse_strict((const char *)data, size, &o, err,
	    sizeof(err)) != Q_OK)
		o = NULL;
	if (params_canonical(&d, o, &canon, bad, sizeof(bad), err,
	    sizeof(err)) == Q_OK &&
	    filters_compile(&d, cols, 3, buf_str(&canon), &fs, err,
	    sizeof(err)) == Q_OK) {
		(void)filters_match(&fs, fields, lens);
		filters_free(&fs);
	}
	for (i = 0; i < 3; i++)
		(void)param_cmp((enum ptype)(i + 1), fields[i], lens[i], "42");
	buf_free(&canon);
	json_object_put(o);
	return 0;
}
