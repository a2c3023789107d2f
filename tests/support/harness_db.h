/*
 * Per-test databases for integration tests. scripts/test.sh starts a
 * throwaway cluster and exports DATABASE_URL; each test gets a fresh
 * database "t_<name>" on that server with every migration applied.
 */
#ifndef SCOUT_TESTS_HARNESS_DB_H
#define SCOUT_TESTS_HARNESS_DB_H

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

/*
 * Drop and create database "t_<name>" (name: lowercase letters, digits and
 * '_', at most 50), migrate it and put its URL in url. Fails with a message
 * saying how to run the tests when DATABASE_URL is not set.
 */
int harness_db_create(const char *name, struct buf *url, serr *e) SCOUT_MUST;

/* harness_db_create, then open a store on the new database. */
int harness_db_open(const char *name, struct store *s, serr *e) SCOUT_MUST;

/* Drop database "t_<name>" (closing other sessions on it). */
int harness_db_drop(const char *name, serr *e) SCOUT_MUST;

#endif
