/*
 * The private PostgreSQL cluster scout runs when DATABASE_URL is unset: a
 * data directory under $SCOUT_HOME/pg, created with initdb on first use and
 * served by pg_ctl on a unix socket only (no TCP). When scout runs as root
 * the server runs as an unprivileged system user, since PostgreSQL refuses
 * root. A lock file in the home serializes starts and stops across
 * processes.
 */
#ifndef SCOUT_STORE_CLUSTER_H
#define SCOUT_STORE_CLUSTER_H

#include "core/buf.h"
#include "core/err.h"

#define CLUSTER_DBNAME "scout"
#define CLUSTER_USER "scout"
#define CLUSTER_PORT "5432"
/* Longest unix socket path the kernel takes: sizeof(sun_path) - 1. */
#define CLUSTER_SOCKET_PATH_MAX 107

/*
 * Create the cluster if needed (initdb, database 'scout'), start it unless
 * it already runs, and fill conninfo with a libpq URI for its socket.
 * Setting SCOUT_PG_FAST=1 turns fsync off (tests).
 */
int cluster_start(const char *home, struct buf *conninfo, serr *e) SCOUT_MUST;

/* Stop the cluster (fast shutdown); a cluster that does not run is fine. */
int cluster_stop(const char *home, serr *e) SCOUT_MUST;

/* *running = 1 when the server answers on its socket; conninfo may be NULL. */
int cluster_status(const char *home, int *running, struct buf *conninfo, serr *e) SCOUT_MUST;

/* The URI of the cluster's 'scout' database, whether or not it runs. */
int cluster_conninfo(const char *home, struct buf *conninfo, serr *e) SCOUT_MUST;

/*
 * The directory for the server's socket: $home/pg/run, or, when that path
 * would pass the unix socket path limit, /tmp/scout-pg-<hash of home>.
 * home must be absolute. *fallback (may be NULL) tells which one.
 */
int cluster_socket_dir(const char *home, struct buf *out, int *fallback, serr *e) SCOUT_MUST;

#endif
