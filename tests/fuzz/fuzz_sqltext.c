/* A SQL source's query text: the placeholder scanner and the rendering. */
#include <string.h>

#include "fuzz.h"
#include "quarry/sqltext.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sql_text	 t;
	static const enum db_driver drivers[] = { DB_POSTGRESQL, DB_MYSQL,
	    DB_SQLITE, DB_ODBC };
	const char		*names[SQL_PLACEHOLDERS_MAX];
	struct buf		 b = BUF_INIT;
	char			 err[128];
	size_t			 d, i;

	for (d = 0; d < 4; d++) {
		if (sql_scan((const char *)data, size, drivers[d], &t, err,
		    sizeof(err)) != 0)
			continue;
		for (i = 0; i < t.nph; i++) {
			/* inside the text, ':' and a name */
			if (t.ph[i].at + t.ph[i].len > t.end ||
			    data[t.ph[i].at] != ':')
				__builtin_trap();
			names[i] = t.ph[i].name;
		}
		buf_reset(&b);
		if (sql_render((const char *)data, &t, drivers[d], names,
		    t.nph, &b) != 0 && !b.oom)
			__builtin_trap();
	}
	buf_free(&b);
	return 0;
}
