/* Applying the embedded SQL migrations (see migrate.h). */
#include "store/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define MIGRATION_DIR "db/migrations/"
/* pg_advisory_lock key: "scoutmig" as ASCII, shared by every scout process. */
#define MIGRATE_LOCK_KEY "8314611887311251815"

static int migration_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* "db/migrations/0001_foundation.sql" -> 1, "foundation". */
static int migration_parse(const struct embedded_file *f, struct migration *m, serr *e)
{
	const char *base = f->path + strlen(MIGRATION_DIR);
	const char *us = strchr(base, '_');
	size_t blen = strlen(base), nlen;
	char num[16];

	if (!us || us == base || (size_t)(us - base) >= sizeof(num) || blen < 5 ||
	    strcmp(base + blen - 4, ".sql") != 0)
		return serr_set(e, "migration file '%s' is not named NNNN_name.sql", f->path);
	memcpy(num, base, (size_t)(us - base));
	num[us - base] = '\0';
	if (parse_int(num, 1, 999999, &m->version) < 0)
		return serr_set(e, "migration file '%s' does not start with a version number",
				f->path);
	nlen = (size_t)(base + blen - 4 - (us + 1));
	if (nlen == 0 || nlen >= sizeof(m->name))
		return serr_set(e, "migration file '%s' has an empty or too long name", f->path);
	memcpy(m->name, us + 1, nlen);
	m->name[nlen] = '\0';
	sha256_hex(f->data, f->len, m->checksum);
	m->sql = f->data;
	m->len = f->len;
	return 0;
}

int migrations_list(struct migration **list, size_t *n, serr *e)
{
	struct migration *m = NULL;
	size_t count = 0, bytes;
	int rc = -1;

	*list = NULL;
	*n = 0;
	if (size_mul(embedded_count + 1, sizeof(*m), &bytes) < 0)
		return serr_set(e, "too many embedded files");
	m = calloc(1, bytes);
	if (!m)
		return serr_set(e, "out of memory listing migrations");
	for (size_t i = 0; i < embedded_count; i++) {
		if (!str_starts_with(embedded_files[i].path, MIGRATION_DIR))
			continue;
		if (migration_parse(&embedded_files[i], &m[count], e) < 0)
			goto out;
		count++;
	}
	qsort(m, count, sizeof(*m), migration_cmp);
	for (size_t i = 1; i < count; i++) {
		if (m[i].version == m[i - 1].version) {
			serr_set(e, "two migrations share version %04d: '%s' and '%s'", m[i].version,
				 m[i - 1].name, m[i].name);
			goto out;
		}
	}
	*list = m;
	*n = count;
	m = NULL;
	rc = 0;
out:
	free(m);
	return rc;
}

static const struct migration *find_version(const struct migration *m, size_t n, int version)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].version == version)
			return &m[i];
	return NULL;
}

/*
 * Every applied migration must still match its file: a changed file means
 * the database and the code disagree about the schema.
 */
static int check_applied(const PGresult *r, const struct migration *m, size_t n, serr *e)
{
	for (int i = 0; i < PQntuples(r); i++) {
		const char *vs = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1);
		const char *sum = PQgetvalue(r, i, 2);
		const struct migration *f;
		int v;

		if (parse_int(vs, 0, 999999, &v) < 0)
			return serr_set(e, "schema_migrations holds a bad version '%s'", vs);
		f = find_version(m, n, v);
		if (!f)
			return serr_set(e, "the database has migration %04d '%s' that this scout does "
					   "not know: run a newer scout against this database",
					v, name);
		if (strcmp(f->checksum, sum) != 0)
			return serr_set(e, "migration %04d '%s' was changed after it was applied "
					   "(checksum %.12s in the database, %.12s in the file): restore "
					   "the original file and put the change in a new migration",
					v, f->name, sum, f->checksum);
	}
	return 0;
}

static int is_applied(const PGresult *r, int version)
{
	char vs[16];

	snprintf(vs, sizeof(vs), "%d", version);
	for (int i = 0; i < PQntuples(r); i++)
		if (strcmp(PQgetvalue(r, i, 0), vs) == 0)
			return 1;
	return 0;
}

/* The file may hold many statements, so it goes through PQexec (no parameters). */
static int apply_one(struct store *s, const struct migration *m, serr *e)
{
	char what[200], vs[16];
	const char *params[3];
	PGresult *r = NULL;
	char *sql = NULL;
	int rc = -1;

	snprintf(what, sizeof(what), "apply migration %04d '%s'", m->version, m->name);
	sql = malloc(m->len + 1);
	if (!sql) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	memcpy(sql, m->sql, m->len);
	sql[m->len] = '\0';
	if (store_begin(s, e) < 0)
		goto out;
	r = PQexec(s->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);

		serr_set(e, "cannot %s: %s%s%s", what, primary ? primary : PQerrorMessage(s->conn),
			 pos ? " at character " : "", pos ? pos : "");
		goto out;
	}
	snprintf(vs, sizeof(vs), "%d", m->version);
	params[0] = vs;
	params[1] = m->name;
	params[2] = m->checksum;
	if (store_exec(s, what,
		       "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
		       3, params, NULL, e) < 0)
		goto out;
	if (store_commit(s, e) < 0)
		goto out;
	log_info("applied migration", "version=%04d name=%s", m->version, m->name);
	rc = 0;
out:
	if (rc < 0)
		store_rollback(s);
	PQclear(r);
	free(sql);
	return rc;
}

int store_migrate_set(struct store *s, const struct migration *m, size_t n, int *applied,
		      serr *e)
{
	const char *lockp[1] = { MIGRATE_LOCK_KEY };
	PGresult *r = NULL;
	int locked = 0, count = 0, rc = -1;

	if (applied)
		*applied = 0;
	if (store_in_tx(s))
		return serr_set(e, "cannot migrate inside an open transaction");
	if (store_exec(s, "take the migration lock", "SELECT pg_advisory_lock($1::bigint)", 1,
		       lockp, NULL, e) < 0)
		goto out;
	locked = 1;
	if (store_exec(s, "create table 'schema_migrations'",
		       "CREATE TABLE IF NOT EXISTS schema_migrations ("
		       " version int PRIMARY KEY,"
		       " name text NOT NULL,"
		       " checksum text NOT NULL,"
		       " applied_at timestamptz NOT NULL DEFAULT now())",
		       0, NULL, NULL, e) < 0)
		goto out;
	if (store_exec(s, "read table 'schema_migrations'",
		       "SELECT version, name, checksum FROM schema_migrations ORDER BY version", 0,
		       NULL, &r, e) < 0)
		goto out;
	if (check_applied(r, m, n, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (is_applied(r, m[i].version))
			continue;
		if (apply_one(s, &m[i], e) < 0)
			goto out;
		count++;
	}
	if (applied)
		*applied = count;
	rc = 0;
out:
	PQclear(r);
	if (locked) {
		serr ignore;

		if (store_exec(s, "release the migration lock", "SELECT pg_advisory_unlock($1::bigint)",
			       1, lockp, NULL, &ignore) < 0)
			log_warn("cannot release the migration lock", "err=%s", ignore.msg);
	}
	return rc;
}

int store_migrate(struct store *s, int *applied, serr *e)
{
	struct migration *m = NULL;
	size_t n = 0;
	int rc = -1;

	if (migrations_list(&m, &n, e) < 0)
		goto out;
	if (store_migrate_set(s, m, n, applied, e) < 0)
		goto out;
	rc = 0;
out:
	free(m);
	return rc;
}
