/*
 * error-documents: writes the static error documents the web server
 * sends for the errors it answers itself (www/errors/DIALECT/NNN.html,
 * see docs/http.md), each rendered by the dialect's own error writer,
 * so that they cannot drift from what the programs answer.
 *
 *	error-documents DIR	writes DIR/concur, DIR/graph, DIR/osdi
 *
 * test_http checks that the files in www/errors are current.
 * The files are named NNN.html whatever their format because lighttpd's
 * server.errorfile-prefix appends "NNN.html"; the server configurations
 * give them their dialect's Content-Type.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dialect/dialect.h"
#include "http/http.h"
#include "quarry/buf.h"

static const struct dialect *const dialects[] = {
	&dialect_concur, &dialect_graph, &dialect_osdi
};

/* 0 if path holds exactly b. */
static int
same(const char *path, const struct buf *b)
{
	FILE	*f;
	char	 tmp[8192];
	size_t	 n;
	int	 ok;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(tmp, 1, sizeof(tmp), f);
	ok = n == b->len && memcmp(tmp, b->data, n) == 0 && !ferror(f);
	fclose(f);
	return ok ? 0 : -1;
}

static int
put(const char *path, const struct buf *b)
{
	char	 tmp[4200];
	FILE	*f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "wb")) == NULL)
		return -1;
	if (fwrite(b->data, 1, b->len, f) != b->len) {
		fclose(f);
		remove(tmp);
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char	*dir;
	char		 path[4096];
	struct buf	 b = BUF_INIT;
	size_t		 d, i;
	int		 status;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: error-documents DIR\n");
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "error-documents: %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	for (d = 0; d < sizeof(dialects) / sizeof(dialects[0]); d++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dialects[d]->name);
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "error-documents: %s: %s\n", path,
			    strerror(errno));
			return 1;
		}
		for (i = 0; (status = http_server_error(i)) != 0; i++) {
			buf_reset(&b);
			if (http_error_document(dialects[d], status, &b) != 0) {
				fprintf(stderr, "error-documents: cannot render "
				    "%d for %s\n", status, dialects[d]->name);
				return 1;
			}
			snprintf(path, sizeof(path), "%s/%s/%d.html", dir,
			    dialects[d]->name, status);
			if (same(path, &b) == 0)
				continue;
			if (put(path, &b) != 0) {
				fprintf(stderr, "error-documents: %s: %s\n",
				    path, strerror(errno));
				return 1;
			} else
				printf("%s\n", path);
		}
	}
	buf_free(&b);
	return 0;
}
