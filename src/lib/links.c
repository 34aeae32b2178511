/*
 * Signed download links (issue 13, item 1; docs/http.md): a short-lived
 * URL of a job's file that needs no Authorization header.  It names the
 * job, the token it was made for (its public id, never its secret) and
 * its expiry, and carries HMAC-SHA256 over the three (nettle's, compared
 * in constant time with memeql_sec), keyed by a random secret the store
 * keeps beside its database files (db_dir/link.key, made by quarryctl
 * init, replaced by quarryctl link-key rotate).  A process reads the key
 * once and again only when the file changes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Quarry's headers first: nettle's rename sha256_* by macro. */
#include "quarry/model.h"
#include "quarry/seams.h"
#include "quarry/util.h"

#include <nettle/hmac.h>
#include <nettle/memops.h>

#define KEY_FILE	"link.key"
#define KEY_LEN		32

static struct {
	unsigned char	key[KEY_LEN];
	dev_t		dev;
	ino_t		ino;
	struct timespec	mtime;
	int		loaded;
} cache;

static int
key_path(const struct conf *c, char *out, size_t len)
{
	return snprintf(out, len, "%s/%s", c->db_dir, KEY_FILE) >= (int)len ?
	    -1 : 0;
}

/* Makes a new key, replacing any (see model.h). */
enum qerr
link_key_create(const struct conf *c)
{
	unsigned char	 key[KEY_LEN];
	char		 path[PATH_MAX], tmp[PATH_MAX + 8];
	int		 fd;
	enum qerr	 e;

	if (key_path(c, path, sizeof(path)) != 0)
		return Q_INVALID;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((e = random_bytes(key, sizeof(key))) != Q_OK)
		return e;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) <
	    0)
		return Q_IO;
	if (write_all(fd, key, sizeof(key)) != 0 || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return Q_IO;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return Q_IO;
	}
	memset(key, 0, sizeof(key));
	cache.loaded = 0;
	return Q_OK;
}

/* Makes the key if there is none (see model.h). */
enum qerr
link_key_ensure(const struct conf *c)
{
	char		path[PATH_MAX];
	struct stat	st;

	if (key_path(c, path, sizeof(path)) != 0)
		return Q_INVALID;
	if (stat(path, &st) == 0 && st.st_size == KEY_LEN)
		return Q_OK;
	return link_key_create(c);
}

/* The key, from the cache unless the file changed; -1 without one. */
static int
key_get(const struct conf *c, unsigned char key[KEY_LEN])
{
	char		path[PATH_MAX];
	struct stat	st;
	int		fd;
	ssize_t		n;

	if (key_path(c, path, sizeof(path)) != 0 || stat(path, &st) != 0 ||
	    st.st_size != KEY_LEN)
		return -1;
	if (!cache.loaded || cache.dev != st.st_dev || cache.ino != st.st_ino ||
	    cache.mtime.tv_sec != st.st_mtim.tv_sec ||
	    cache.mtime.tv_nsec != st.st_mtim.tv_nsec) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
		n = read(fd, cache.key, KEY_LEN);
		close(fd);
		if (n != KEY_LEN)
			return -1;
		cache.dev = st.st_dev;
		cache.ino = st.st_ino;
		cache.mtime = st.st_mtim;
		cache.loaded = 1;
	}
	memcpy(key, cache.key, KEY_LEN);
	return 0;
}

static void
mac(const unsigned char key[KEY_LEN], const char *job, const char *principal,
    long long expires, unsigned char out[SHA256_DIGEST_SIZE])
{
	struct hmac_sha256_ctx	ctx;
	char			e[32];

	snprintf(e, sizeof(e), "%lld", expires);
	hmac_sha256_set_key(&ctx, KEY_LEN, key);
	/* NUL-separated: no field can borrow another's bytes */
	hmac_sha256_update(&ctx, strlen(job) + 1, (const uint8_t *)job);
	hmac_sha256_update(&ctx, strlen(principal) + 1,
	    (const uint8_t *)principal);
	hmac_sha256_update(&ctx, strlen(e) + 1, (const uint8_t *)e);
	hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

static const char hexd[] = "0123456789abcdef";

/* The signature of a link (see model.h). */
enum qerr
link_sign(const struct conf *c, const char *job, const char *principal,
    long long expires, char sig[LINK_SIG_LEN + 1])
{
	unsigned char	key[KEY_LEN], m[SHA256_DIGEST_SIZE];
	size_t		i;

	if (key_get(c, key) != 0)
		return Q_NOTFOUND;
	mac(key, job, principal, expires, m);
	memset(key, 0, sizeof(key));
	for (i = 0; i < sizeof(m); i++) {
		sig[2 * i] = hexd[m[i] >> 4];
		sig[2 * i + 1] = hexd[m[i] & 15];
	}
	sig[LINK_SIG_LEN] = '\0';
	return Q_OK;
}

/* Checks a link's signature and expiry (see model.h). */
enum qerr
link_check(const struct conf *c, const char *job, const char *principal,
    long long expires, const char *sig)
{
	char	want[LINK_SIG_LEN + 1];
	int	same;

	if (strlen(sig) != LINK_SIG_LEN)
		return Q_FORBIDDEN;
	if (link_sign(c, job, principal, expires, want) != Q_OK)
		return Q_FORBIDDEN;
	same = memeql_sec(want, sig, LINK_SIG_LEN);
	memset(want, 0, sizeof(want));
	if (!same)
		return Q_FORBIDDEN;
	if (expires <= (long long)q_seams.now())
		return Q_TIMEOUT;
	return Q_OK;
}
