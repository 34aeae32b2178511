/*
 * The one error type of the Quarry library.
 *
 * Every library function that can fail returns a qerr.  The web programs map
 * it to an HTTP status in one place (http_status_of_err) and each dialect
 * renders it in its own error body.
 */
#ifndef QUARRY_ERROR_H
#define QUARRY_ERROR_H

enum qerr {
	Q_OK = 0,
	Q_NOTFOUND,	/* no such resource (or not visible to the caller) */
	Q_EXISTS,	/* a unique key is taken: duplicate active job, name in use */
	Q_INVALID,	/* malformed or out-of-range input */
	Q_UNAUTH,	/* no credentials */
	Q_FORBIDDEN,	/* credentials refused or role not allowed */
	Q_TOOBIG,	/* input over a configured limit */
	Q_GONE,		/* existed once, deleted by retention */
	Q_METHOD,	/* method not allowed on this resource */
	Q_NOMEM,	/* allocation failed */
	Q_IO,		/* a read, write or fsync failed (see errno in the log) */
	Q_STORE,	/* the job store failed in a way retrying did not fix */
	Q_RETRY,	/* transient store conflict: the transaction helper retries */
	Q_NOSPACE,	/* disk full */
	Q_BUSY,		/* resource held by another process */
	Q_STATE		/* the operation does not apply in the resource's state */
};

/* A short English text for an error, never NULL. */
const char *qerr_str(enum qerr e);

#endif
