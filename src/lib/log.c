#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "quarry/log.h"
#include "quarry/util.h"

static char	 log_prog[32] = "quarry";

const char *
log_ident(void)
{
	return log_prog;
}
static char	 log_path[4096];
static int	 log_fd = 2;

/* Sets the program name and the file ("" or NULL = stderr); 0 on success. */
int
log_open(const char *prog, const char *path)
{
	snprintf(log_prog, sizeof(log_prog), "%s", prog);
	snprintf(log_path, sizeof(log_path), "%s", path ? path : "");
	return log_reopen();
}

/* Reopens the same file (after rotation, on SIGHUP). */
int
log_reopen(void)
{
	int fd;

	if (log_path[0] == '\0') {
		log_fd = 2;
		return 0;
	}
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (log_fd > 2)
		close(log_fd);
	log_fd = fd;
	return 0;
}

void
qlog(enum log_level lvl, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	char	 line[2048], ts[RFC3339_LEN];
	int	 n, m;
	va_list	 ap;

	time_rfc3339(time(NULL), ts);
	n = snprintf(line, sizeof(line), "%s %s %s[%d]: ", ts, names[lvl],
	    log_prog, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(log_fd, line, (size_t)n);
}
