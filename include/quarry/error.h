/*
 * The one error type of the Quarry library.
 *
 * Every library function that can fail returns a qerr.  The web programs map
 * it to an HTTP status in one place (http_status_of_err) and each dialect
 * renders it in its own error body.  Each value has one meaning.
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
	Q_BUSY,		/* the store is held by another process, or gave up */
	Q_STATE,	/* the operation does not apply in the resource's state */
	Q_CANCELLED,	/* a build stopped because its job was cancelled */
	Q_TRANSIENT,	/* a source failed in a way that may pass: try later */
	Q_TIMEOUT,	/* a source ran past its time limit */
	Q_CONFIG	/* the installation contradicts itself (a 500 to fix) */
};

/* A short English text for an error, never NULL. */
const char *qerr_str(enum qerr e);

/*
 * What a visiting callback (a scan of the store, a listing of tokens,
 * definitions or jobs) returns: VISIT_NEXT to go on, VISIT_STOP to end
 * the visit early (the visit then succeeds), or a qerr (> 0) to end it
 * with that error.
 */
#define VISIT_NEXT	0
#define VISIT_STOP	(-1)

#endif
