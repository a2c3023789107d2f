/*
 * scout's connection to PostgreSQL: opened from DATABASE_URL, or from the
 * private cluster under the home when that is unset, plus the helpers every
 * data-access file uses to run parameterized statements with errors that say
 * what failed. One store per thread; a store is not shared between threads.
 */
#ifndef SCOUT_STORE_STORE_H
#define SCOUT_STORE_STORE_H

#include <stdint.h>

#include <libpq-fe.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/err.h"

struct store {
	PGconn *conn;
	char sqlstate[6]; /* SQLSTATE of the last failed statement, "" when none */
};

void store_init(struct store *s);

/*
 * cfg->database_url when non-empty (never starts a cluster then), else the
 * private cluster under cfg->home, started when needed.
 */
int store_open(struct store *s, const struct config *cfg, serr *e) SCOUT_MUST;
/* Connect to a libpq URI or key=value connection string. */
int store_open_url(struct store *s, const char *url, serr *e) SCOUT_MUST;
void store_close(struct store *s);
/*
 * Open s on the same database as `like` (same server, user, database and
 * password), for the threads that need their own connection.
 */
int store_open_like(struct store *s, const struct store *like, serr *e) SCOUT_MUST;

/*
 * Run one parameterized statement (text parameters, NULL for SQL NULL).
 * `what` names the operation for the error: "cannot <what>: <server message>".
 * On success the result goes to *res_out (caller PQclear()s) or is freed
 * when res_out is NULL.
 */
int store_exec(struct store *s, const char *what, const char *sql, int nparams,
	       const char *const *params, PGresult **res_out, serr *e) SCOUT_MUST;

/* A statement returning one row with one integer column (counts). */
int store_query_i64(struct store *s, const char *what, const char *sql, int nparams,
		    const char *const *params, int64_t *out, serr *e) SCOUT_MUST;

int store_begin(struct store *s, serr *e) SCOUT_MUST;
int store_commit(struct store *s, serr *e) SCOUT_MUST;
/* Safe to call after any failure; never fails loudly. */
void store_rollback(struct store *s);
/* 1 inside a transaction block (including a failed one). */
int store_in_tx(const struct store *s);

/* Reconnect when the server closed the connection (restart, idle timeout). */
int store_ensure(struct store *s, serr *e) SCOUT_MUST;

/* 1 when the last failure was this SQLSTATE (e.g. "23505" unique violation). */
int store_failed_with(const struct store *s, const char *sqlstate);

/*
 * Append a PostgreSQL array literal of text values ({"a","b"}) for a
 * $n::text[] parameter; every element is quoted and escaped.
 */
int store_text_array(struct buf *b, const char *const *items, size_t n) SCOUT_MUST;

/*
 * The same server and settings as url, database dbname, as a URI. For test
 * databases and tools; the result may carry a password: never log it.
 */
int store_url_with_dbname(const char *url, const char *dbname, struct buf *out,
			  serr *e) SCOUT_MUST;

/* Percent-encode s for a URI component (RFC 3986 unreserved kept). */
int store_uri_encode(struct buf *b, const char *s) SCOUT_MUST;

/* Whether a table / a column exists in the current schema (diagnostics of older databases). */
int store_table_exists(struct store *s, const char *table, int *exists, serr *e) SCOUT_MUST;
int store_column_exists(struct store *s, const char *table, const char *column, int *exists,
			serr *e) SCOUT_MUST;

/* Value of a result cell, NULL for SQL NULL. */
const char *store_val(const PGresult *r, int row, int col);

#endif
