/*
 * The CSV reader (imports, extractor output): the input in two chunks
 * cut where its first byte says, comma or tab as the separator.
 */
#include "fuzz.h"
#include "quarry/csv.h"

static int
on_record(char **fields, size_t *lens, size_t n, unsigned long line,
    void *arg)
{
	size_t	i, *total = arg;

	(void)line;
	for (i = 0; i < n; i++)
		*total += lens[i] + (fields[i][lens[i]] == '\0');
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader	r;
	size_t			total = 0, cut;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	csv_reader_init(&r, (data[0] & 0x80) ? '\t' : ',', on_record, &total);
	if (csv_feed(&r, (const char *)data + 1, cut) == 0 &&
	    csv_feed(&r, (const char *)data + 1 + cut, size - 1 - cut) == 0)
		csv_finish(&r);
	csv_reader_free(&r);
	return 0;
}
