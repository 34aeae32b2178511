/*
 * The web programs' main loop: FastCGI when the process was started by a
 * FastCGI server (libfcgi tells: its stdin is a listening socket), else
 * exactly one plain CGI request from the environment and stdin.  Both
 * feed the same struct request through a struct transport.
 */
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "http/http.h"
#include "quarry/log.h"
#include "quarry/store.h"

/* ---- CGI: the process environment, stdin and stdout ---- */

static unsigned long long cgi_consumed;	/* body bytes read from stdin */

static ssize_t
cgi_read(void *ctx, void *p, size_t n)
{
	size_t got;

	(void)ctx;
	got = fread(p, 1, n, stdin);
	if (got == 0 && ferror(stdin))
		return -1;
	cgi_consumed += got;
	return (ssize_t)got;
}

/*
 * Reads and drops what is left of the request body (CONTENT_LENGTH, at
 * most 1 GiB) after the answer went out: a CGI program that exits with
 * part of its body unread (a 413, a refused request) makes Apache's
 * mod_cgid lose the answer, its socket reset by the unread data.
 */
static void
cgi_drain(void)
{
	const char		*cl = getenv("CONTENT_LENGTH");
	char			 buf[65536], *end;
	unsigned long long	 want, left;
	size_t			 got;

	if (cl == NULL || *cl == '\0')
		return;
	want = strtoull(cl, &end, 10);
	if (*end != '\0' || want <= cgi_consumed)
		return;
	left = want - cgi_consumed;
	if (left > 1ULL << 30)
		left = 1ULL << 30;
	while (left > 0) {
		got = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf),
		    stdin);
		if (got == 0)
			break;
		left -= got;
	}
}

static int
cgi_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

static int
cgi_flush(void *ctx)
{
	(void)ctx;
	return fflush(stdout) == 0 ? 0 : -1;
}

static const char *
cgi_getenv(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/* ---- FastCGI: libfcgi's request streams and parameters ---- */

static ssize_t
fcgi_read(void *ctx, void *p, size_t n)
{
	FCGX_Request *rq = ctx;
	int got;

	if (n > 1 << 20)
		n = 1 << 20;
	got = FCGX_GetStr(p, (int)n, rq->in);
	return got < 0 ? -1 : got;
}

/* FastCGI records (FastCGI 1.0 section 3.3) written past libfcgi. */
#define FCGI_STDOUT_TYPE	6
#define FCGI_RECORD_MAX		65528	/* content bytes, a multiple of 8 */
#define DIRECT_MIN		32768	/* smaller writes go through libfcgi */
#define DIRECT_RECORDS		8	/* records per writev */

/* Writes all of iov[0..n) to fd, resuming after partial writes. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = writev(fd, iov, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* The header of a stdout record of len content bytes, no padding. */
static void
record_header(unsigned char hdr[8], int id, size_t len)
{
	hdr[0] = 1;			/* version */
	hdr[1] = FCGI_STDOUT_TYPE;
	hdr[2] = (unsigned char)(id >> 8);
	hdr[3] = (unsigned char)id;
	hdr[4] = (unsigned char)(len >> 8);
	hdr[5] = (unsigned char)len;
	hdr[6] = 0;			/* padding length */
	hdr[7] = 0;
}

/*
 * Large writes (JSON and XML lists, the CGI path's file reads) go to the socket as full-size stdout
 * records, several per system call, after flushing what libfcgi holds:
 * libfcgi would cut them into 8 KiB records, one write each.
 */
static int
fcgi_write_direct(FCGX_Request *rq, const char *p, size_t n)
{
	unsigned char	hdr[DIRECT_RECORDS][8];
	struct iovec	iov[2 * DIRECT_RECORDS];
	size_t		len;
	int		k;

	if (FCGX_FFlush(rq->out) != 0)
		return -1;
	while (n > 0) {
		for (k = 0; k < DIRECT_RECORDS && n > 0; k++) {
			len = n > FCGI_RECORD_MAX ? FCGI_RECORD_MAX : n;
			record_header(hdr[k], rq->requestId, len);
			iov[2 * k].iov_base = hdr[k];
			iov[2 * k].iov_len = 8;
			iov[2 * k + 1].iov_base = (void *)p;
			iov[2 * k + 1].iov_len = len;
			p += len;
			n -= len;
		}
		if (writev_all(rq->ipcFd, iov, 2 * k) != 0)
			return -1;
	}
	return 0;
}

static int
fcgi_flush(void *ctx)
{
	FCGX_Request *rq = ctx;

	return FCGX_FFlush(rq->out) == 0 ? 0 : -1;
}

static int
fcgi_write(void *ctx, const void *p, size_t n)
{
	FCGX_Request	*rq = ctx;
	const char	*c = p;
	int		 chunk;

	if (n >= DIRECT_MIN && rq->ipcFd >= 0)
		return fcgi_write_direct(rq, c, n);
	while (n > 0) {
		chunk = n > 1 << 20 ? 1 << 20 : (int)n;
		if (FCGX_PutStr(c, chunk, rq->out) != chunk)
			return -1;
		c += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/*
 * A file download over FastCGI: full-size stdout records whose content
 * the kernel copies from the file to the socket (sendfile), so the bytes
 * never pass through this process: a header write, then the content.
 * Where sendfile cannot be used, pread and write do the same.
 */
static long long
fcgi_send_file(void *ctx, int fd, long long off, long long n)
{
	FCGX_Request	*rq = ctx;
	unsigned char	 hdr[8];
	struct iovec	 iov;
	static char	 buf[FCGI_RECORD_MAX];
	static int	 no_sendfile;
	long long	 sent = 0;
	size_t		 len, done;
	ssize_t		 w;
	off_t		 pos = (off_t)off;

	if (FCGX_FFlush(rq->out) != 0 || rq->ipcFd < 0)
		return 0;
	while (sent < n) {
		len = n - sent > FCGI_RECORD_MAX ? FCGI_RECORD_MAX :
		    (size_t)(n - sent);
		record_header(hdr, rq->requestId, len);
		iov.iov_base = hdr;
		iov.iov_len = sizeof(hdr);
		if (writev_all(rq->ipcFd, &iov, 1) != 0)
			return sent;
		for (done = 0; done < len; done += (size_t)w) {
			w = -1;
			if (!no_sendfile) {
				w = sendfile(rq->ipcFd, fd, &pos, len - done);
				if (w < 0 && (errno == EINVAL ||
				    errno == ENOSYS || errno == EOPNOTSUPP))
					no_sendfile = 1;
			}
			if (no_sendfile) {
				if ((w = pread(fd, buf, len - done, pos)) > 0) {
					iov.iov_base = buf;
					iov.iov_len = (size_t)w;
					if (writev_all(rq->ipcFd, &iov, 1) != 0)
						w = -1;
					else
						pos += w;
				}
			}
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)	/* the client went away, or EOF */
				return sent + (long long)done;
		}
		sent += (long long)len;
	}
	return sent;
}

static const char *
fcgi_getenv(void *ctx, const char *name)
{
	FCGX_Request *rq = ctx;

	return FCGX_GetParam(name, rq->envp);
}

/*
 * Serves one request over io.  The store is opened on first use and
 * kept (one environment handle per process); a failed open is retried
 * on the next request.
 */
static void
serve_one(const struct transport *io, const struct conf *c, int conf_ok,
    struct store **sp, enum prog p)
{
	struct request	r;

	if (conf_ok && *sp == NULL && store_open(c, STORE_NO_ROWS, sp) != Q_OK)
		*sp = NULL;
	http_request_init(&r, io, c, *sp, p);
	if (!conf_ok)
		http_error(&r, Q_STORE, "the configuration could not be read");
	else
		http_dispatch(&r);
	http_request_free(&r);
}

/*
 * SIGTERM (how web servers stop FastCGI programs) ends the accept loop
 * after the request in hand, so the program closes the store and exits
 * normally (and a leak checker sees the whole run).
 */
static void
on_term(int sig)
{
	(void)sig;
	FCGX_ShutdownPending();
}

/* Runs a web program (see http.h). */
int
http_main(enum prog p, const char *name)
{
	static struct conf	 c;
	struct store		*s = NULL;
	struct transport	 io;
	FCGX_Request		 rq;
	struct sigaction	 sa;
	char			 err[512];
	int			 conf_ok;

	signal(SIGPIPE, SIG_IGN);
	log_open(name, NULL);
	conf_ok = conf_load(&c, NULL, err, sizeof(err)) == Q_OK;
	if (!conf_ok)
		qlog(LOG_ERR, "%s", err);
	if (FCGX_IsCGI()) {
		io.read = cgi_read;
		io.write = cgi_write;
		io.getenv = cgi_getenv;
		io.send_file = NULL;	/* read and written through stdio */
		io.flush = cgi_flush;
		io.ctx = NULL;
		serve_one(&io, &c, conf_ok, &s, p);
		fflush(stdout);
		cgi_drain();
		store_close(s);
		return 0;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0) {
		qlog(LOG_ERR, "cannot start FastCGI");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: accept returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	io.read = fcgi_read;
	io.write = fcgi_write;
	io.getenv = fcgi_getenv;
	io.send_file = fcgi_send_file;
	io.flush = fcgi_flush;
	io.ctx = &rq;
	while (FCGX_Accept_r(&rq) >= 0) {
		serve_one(&io, &c, conf_ok, &s, p);
		FCGX_Finish_r(&rq);
	}
	FCGX_Free(&rq, 1);
	store_close(s);
	return 0;
}
