#include "quarry/error.h"

/* A short English text for an error, never NULL. */
const char *
qerr_str(enum qerr e)
{
	switch (e) {
	case Q_OK:		return "success";
	case Q_NOTFOUND:	return "not found";
	case Q_EXISTS:		return "already exists";
	case Q_INVALID:		return "invalid input";
	case Q_UNAUTH:		return "authentication required";
	case Q_FORBIDDEN:	return "forbidden";
	case Q_TOOBIG:		return "input too large";
	case Q_GONE:		return "gone";
	case Q_METHOD:		return "method not allowed";
	case Q_NOMEM:		return "out of memory";
	case Q_IO:		return "input/output error";
	case Q_STORE:		return "job store error";
	case Q_RETRY:		return "transient conflict";
	case Q_NOSPACE:		return "no space left on device";
	case Q_BUSY:		return "busy";
	case Q_STATE:		return "not allowed in the current state";
	case Q_CANCELLED:	return "cancelled";
	case Q_TRANSIENT:	return "failed for now: will be tried again";
	case Q_TIMEOUT:		return "timed out";
	case Q_CONFIG:		return "the server is misconfigured";
	}
	return "unknown error";
}
