/* Connection and statement helpers (see store.h). */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/cluster.h"

void store_init(struct store *s)
{
	s->conn = NULL;
	s->sqlstate[0] = '\0';
}

/* Server notices ("relation exists, skipping") go to the debug log, not stderr. */
static void notice_to_log(void *arg, const char *message)
{
	char line[512];
	size_t n;

	(void)arg;
	snprintf(line, sizeof(line), "%s", message);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	log_debug("database notice", "notice=%s", line);
}

/* libpq messages end in newlines and may span lines: make them one line. */
static void one_line(char *dst, size_t dstsz, const char *src)
{
	size_t k = 0;

	if (dstsz == 0)
		return;
	for (; src && *src && k + 1 < dstsz; src++) {
		if (*src == '\n') {
			if (src[1] != '\0' && k + 2 < dstsz) {
				dst[k++] = ';';
				dst[k++] = ' ';
			}
		} else if (*src != '\r') {
			dst[k++] = *src;
		}
	}
	while (k > 0 && dst[k - 1] == ' ')
		k--;
	dst[k] = '\0';
}

static int session_setup(struct store *s, serr *e)
{
	PGresult *r;
	int rc = 0;

	PQsetNoticeProcessor(s->conn, notice_to_log, NULL);
	/* Timestamps come back in UTC, whatever the server's default zone. */
	r = PQexec(s->conn, "SELECT set_config('TimeZone', 'UTC', false)");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[512];

		one_line(msg, sizeof(msg), PQerrorMessage(s->conn));
		rc = serr_set(e, "cannot set up the database session: %s", msg);
	}
	PQclear(r);
	return rc;
}

int store_open_url(struct store *s, const char *url, serr *e)
{
	static const char *const keys[] = { "fallback_application_name", "connect_timeout",
					    "dbname", NULL };
	const char *vals[] = { "scout", "10", url, NULL };
	char msg[768];

	store_init(s);
	if (!url || !*url)
		return serr_set(e, "no database connection string given");
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (!s->conn)
		return serr_set(e, "cannot connect to the database: out of memory");
	if (PQstatus(s->conn) != CONNECTION_OK) {
		/* The URL may hold a password: the message names the server, not the URL. */
		one_line(msg, sizeof(msg), PQerrorMessage(s->conn));
		serr_set(e, "cannot connect to the database: %s", msg);
		store_close(s);
		return -1;
	}
	if (session_setup(s, e) < 0) {
		store_close(s);
		return -1;
	}
	return 0;
}

int store_open(struct store *s, const struct config *cfg, serr *e)
{
	struct buf ci;
	int rc = -1;

	store_init(s);
	if (cfg->database_url && cfg->database_url[0]) {
		if (store_open_url(s, cfg->database_url, e) < 0)
			return serr_wrap(e, "DATABASE_URL");
		return 0;
	}
	buf_init(&ci, 0);
	if (cluster_start(cfg->home, &ci, e) < 0) {
		serr_wrap(e, "cannot start the private PostgreSQL cluster (set DATABASE_URL to use "
			     "another server)");
		goto out;
	}
	if (store_open_url(s, ci.data, e) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&ci);
	return rc;
}

void store_close(struct store *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

static void fail_from_result(struct store *s, const char *what, const PGresult *r, serr *e)
{
	const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char msg[768];

	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", state ? state : "");
	if (primary) {
		snprintf(msg, sizeof(msg), "%s%s%s%s%s", primary, detail ? " (" : "",
			 detail ? detail : "", detail ? ")" : "", hint ? "; " : "");
		if (hint) {
			size_t n = strlen(msg);
			snprintf(msg + n, sizeof(msg) - n, "%s", hint);
		}
	} else {
		one_line(msg, sizeof(msg),
			 s->conn ? PQerrorMessage(s->conn) : "not connected to the database");
		if (!msg[0])
			snprintf(msg, sizeof(msg), "%s",
				 r ? PQresStatus(PQresultStatus(r)) : "no result (out of memory?)");
	}
	serr_set(e, "cannot %s: %s", what, msg);
}

int store_exec(struct store *s, const char *what, const char *sql, int nparams,
	       const char *const *params, PGresult **res_out, serr *e)
{
	PGresult *r;
	ExecStatusType st;

	if (res_out)
		*res_out = NULL;
	s->sqlstate[0] = '\0';
	if (!s->conn)
		return serr_set(e, "cannot %s: not connected to the database", what);
	r = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fail_from_result(s, what, r, e);
		PQclear(r);
		return -1;
	}
	if (res_out)
		*res_out = r;
	else
		PQclear(r);
	return 0;
}

int store_query_i64(struct store *s, const char *what, const char *sql, int nparams,
		    const char *const *params, int64_t *out, serr *e)
{
	PGresult *r = NULL;
	int rc = -1;

	*out = 0;
	if (store_exec(s, what, sql, nparams, params, &r, e) < 0)
		goto out;
	if (PQntuples(r) != 1 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0)) {
		serr_set(e, "cannot %s: expected one value, got %d row(s)", what, PQntuples(r));
		goto out;
	}
	if (parse_i64(PQgetvalue(r, 0, 0), INT64_MIN, INT64_MAX, out) < 0) {
		serr_set(e, "cannot %s: '%s' is not a whole number", what, PQgetvalue(r, 0, 0));
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int store_begin(struct store *s, serr *e)
{
	return store_exec(s, "begin a transaction", "BEGIN", 0, NULL, NULL, e);
}

int store_commit(struct store *s, serr *e)
{
	return store_exec(s, "commit a transaction", "COMMIT", 0, NULL, NULL, e);
}

void store_rollback(struct store *s)
{
	PGresult *r;

	if (!s->conn || PQtransactionStatus(s->conn) == PQTRANS_IDLE)
		return;
	r = PQexec(s->conn, "ROLLBACK");
	PQclear(r);
}

int store_in_tx(const struct store *s)
{
	PGTransactionStatusType t;

	if (!s->conn)
		return 0;
	t = PQtransactionStatus(s->conn);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

int store_ensure(struct store *s, serr *e)
{
	char msg[768];

	if (!s->conn)
		return serr_set(e, "not connected to the database");
	if (PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	log_warn("database connection lost, reconnecting", NULL);
	PQreset(s->conn);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		one_line(msg, sizeof(msg), PQerrorMessage(s->conn));
		return serr_set(e, "cannot reconnect to the database: %s", msg);
	}
	return session_setup(s, e);
}

int store_failed_with(const struct store *s, const char *sqlstate)
{
	return strcmp(s->sqlstate, sqlstate) == 0;
}

int store_text_array(struct buf *b, const char *const *items, size_t n)
{
	if (buf_putc(b, '{') < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && buf_putc(b, ',') < 0)
			return -1;
		if (!items[i]) {
			if (buf_puts(b, "NULL") < 0)
				return -1;
			continue;
		}
		if (buf_putc(b, '"') < 0)
			return -1;
		for (const char *p = items[i]; *p; p++) {
			if ((*p == '"' || *p == '\\') && buf_putc(b, '\\') < 0)
				return -1;
			if (buf_putc(b, *p) < 0)
				return -1;
		}
		if (buf_putc(b, '"') < 0)
			return -1;
	}
	return buf_putc(b, '}');
}

int store_uri_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			if (buf_putc(b, (char)*p) < 0)
				return -1;
		} else if (buf_putc(b, '%') < 0 || buf_putc(b, hex[*p >> 4]) < 0 ||
			   buf_putc(b, hex[*p & 15]) < 0) {
			return -1;
		}
	}
	return 0;
}

int store_url_with_dbname(const char *url, const char *dbname, struct buf *out, serr *e)
{
	PQconninfoOption *opts = NULL;
	char *err = NULL;
	int first = 1, rc = -1;

	opts = PQconninfoParse(url, &err);
	if (!opts) {
		char msg[512];

		one_line(msg, sizeof(msg), err ? err : "out of memory");
		serr_set(e, "cannot parse the database connection string: %s", msg);
		goto out;
	}
	buf_reset(out);
	if (buf_puts(out, "postgresql:///") < 0 || store_uri_encode(out, dbname) < 0)
		goto toolong;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !o->val[0] || strcmp(o->keyword, "dbname") == 0)
			continue;
		if (buf_putc(out, first ? '?' : '&') < 0 || buf_puts(out, o->keyword) < 0 ||
		    buf_putc(out, '=') < 0 || store_uri_encode(out, o->val) < 0)
			goto toolong;
		first = 0;
	}
	rc = 0;
	goto out;
toolong:
	serr_set(e, "database connection string too long");
out:
	PQconninfoFree(opts);
	PQfreemem(err);
	return rc;
}

const char *store_val(const PGresult *r, int row, int col)
{
	if (!r || row >= PQntuples(r) || col >= PQnfields(r) || PQgetisnull(r, row, col))
		return NULL;
	return PQgetvalue(r, row, col);
}

int store_table_exists(struct store *s, const char *table, int *exists, serr *e)
{
	const char *p[1] = { table };
	int64_t n = 0;

	if (store_query_i64(s, "look up a table",
			    "SELECT count(*) FROM pg_catalog.pg_tables"
			    " WHERE schemaname = current_schema() AND tablename = $1",
			    1, p, &n, e) < 0)
		return -1;
	*exists = n > 0;
	return 0;
}

int store_column_exists(struct store *s, const char *table, const char *column, int *exists,
			serr *e)
{
	const char *p[2] = { table, column };
	int64_t n = 0;

	if (store_query_i64(s, "look up a column",
			    "SELECT count(*) FROM information_schema.columns"
			    " WHERE table_schema = current_schema() AND table_name = $1"
			    " AND column_name = $2",
			    2, p, &n, e) < 0)
		return -1;
	*exists = n > 0;
	return 0;
}

/* Quote a conninfo value: single quotes, with ' and \ escaped. */
static int conninfo_put(struct buf *b, const char *key, const char *val)
{
	if (buf_printf(b, "%s%s='", b->len ? " " : "", key) < 0)
		return -1;
	for (const char *p = val; *p; p++)
		if (((*p == '\'' || *p == '\\') && buf_putc(b, '\\') < 0) || buf_putc(b, *p) < 0)
			return -1;
	return buf_putc(b, '\'');
}

int store_open_like(struct store *s, const struct store *like, serr *e)
{
	PQconninfoOption *opts;
	struct buf ci;
	int rc = -1;

	store_init(s);
	if (!like || !like->conn)
		return serr_set(e, "cannot open another database connection: the first one is not "
				   "open");
	if (!(opts = PQconninfo(like->conn)))
		return serr_set(e, "cannot open another database connection: out of memory");
	buf_init(&ci, 64 * 1024);
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (conninfo_put(&ci, o->keyword, o->val) < 0) {
			serr_set(e, "cannot open another database connection: connection string too "
				    "long");
			goto out;
		}
	}
	rc = store_open_url(s, buf_cstr(&ci), e);
out:
	/* the string may hold a password: wipe it */
	if (ci.data)
		memset(ci.data, 0, ci.cap);
	buf_free(&ci);
	PQconninfoFree(opts);
	return rc;
}
