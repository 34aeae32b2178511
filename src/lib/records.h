/*
 * Inside the library: the record decoders of the tables other than the
 * jobs' (job.h has those), for quarryctl verify (verify.c), which checks
 * that every record of the store decodes at its version.
 */
#ifndef QUARRY_LIB_RECORDS_H
#define QUARRY_LIB_RECORDS_H

#include "quarry/model.h"

/* T_TOKENS: a token record. */
enum qerr token_decode(const void *p, size_t n, struct token *t);
/* T_DATASETS: a dataset record (dataset_free it). */
enum qerr dataset_decode(const void *p, size_t n, struct dataset *d);
/* T_DEFS: a definition record (definition_free it). */
enum qerr def_decode(const void *p, size_t n, struct definition *d);

#endif
