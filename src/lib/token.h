/*
 * Inside the model: a token read inside a caller's transaction, for the
 * operations that authenticate and act in one transaction (token_auth,
 * job_get_by_token).  Not part of the library's interface.
 */
#ifndef QUARRY_LIB_TOKEN_H
#define QUARRY_LIB_TOKEN_H

#include "quarry/model.h"
#include "quarry/store.h"

/*
 * The hex SHA-256 of a secret, the key tokens are found by; Q_FORBIDDEN
 * for a secret no token can have (empty, or over 256 bytes).
 */
enum qerr token_hash(const char *secret, char hash[65]);
/* The live token with that hash, read in tx; Q_FORBIDDEN if unknown,
 * expired or revoked. */
enum qerr token_read_live(struct stx *tx, const char *hash,
	      struct token *out);

#endif
