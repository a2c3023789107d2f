/*
 * Reading matchmaking inputs out of PostgreSQL results, shared by the pool
 * loader (match_pool.c) and the job loader (job_match.c).
 */
#ifndef SCOUT_STORE_MATCH_ROWS_H
#define SCOUT_STORE_MATCH_ROWS_H

#include <libpq-fe.h>

#include "core/err.h"
#include "store/store.h"

/* A real[] in PostgreSQL's binary array format into out[dim]; -1 when it is
 * not a one-dimensional float4 array of dim values without NULLs. */
int match_real_array_parse(const char *v, int len, int dim, float *out) SCOUT_MUST;

/* PQexecParams with binary results (for vectors), errors worded as
 * store_exec words them. */
int match_exec_binary(struct store *s, const char *what, const char *sql, int n,
		      const char *const *params, PGresult **out, serr *e) SCOUT_MUST;

/* A numeric column as a double, NAN when NULL or unreadable. */
double match_num_or_nan(const PGresult *r, int row, int col);
/* A boolean column, NULL reading as false. */
int match_is_true(const PGresult *r, int row, int col);
/* MN_* index of a narrative vector kind ("narrative_domain"), -1 otherwise. */
int match_narrative_index(const char *kind);

#endif
