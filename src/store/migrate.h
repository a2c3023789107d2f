/*
 * Schema migrations: the numbered SQL files db/migrations/NNNN_name.sql,
 * compiled into the binary, applied in number order, each in its own
 * transaction together with its row in schema_migrations. A session
 * advisory lock makes concurrent migrations wait for each other.
 */
#ifndef SCOUT_STORE_MIGRATE_H
#define SCOUT_STORE_MIGRATE_H

#include <stddef.h>

#include "core/embedded.h"
#include "store/store.h"

/* One migration file. */
struct migration {
	int version;
	char name[128];
	char checksum[65];
	const char *sql;
	size_t len;
};

/*
 * The embedded migrations in version order. Fails on a misnamed file or a
 * duplicate version. *list is malloc'd (free it).
 */
int migrations_list(struct migration **list, size_t *n, serr *e) SCOUT_MUST;

/*
 * Apply every pending migration; *applied (may be NULL) counts them. Fails,
 * before applying anything, when an applied migration's checksum differs
 * from its file or the database has a migration this binary lacks.
 */
int store_migrate(struct store *s, int *applied, serr *e) SCOUT_MUST;

/* The same over an explicit set of migrations (sorted by version). */
int store_migrate_set(struct store *s, const struct migration *m, size_t n, int *applied,
		      serr *e) SCOUT_MUST;

#endif
