/* Per-test databases on the test server (see harness_db.h). */
#include "harness_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrate.h"

#define NAME_MAX_LEN 50

static int name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static const char *server_url(serr *e)
{
	const char *url = getenv("DATABASE_URL");

	if (!url || !*url) {
		serr_set(e, "DATABASE_URL is not set: run integration tests through "
			    "'sh scripts/test.sh build integration', which starts a throwaway cluster");
		return NULL;
	}
	return url;
}

/* The name is checked, so it can be spliced as a quoted identifier. */
static int admin_exec(const char *name, int create, serr *e)
{
	struct store admin;
	char sql[160], what[120];
	const char *url;
	int rc = -1;

	store_init(&admin);
	if (!name_ok(name))
		return serr_set(e, "test database name '%s' must be 1-%d lowercase letters, "
				   "digits or '_'",
				name ? name : "", NAME_MAX_LEN);
	if (!(url = server_url(e)))
		return -1;
	if (store_open_url(&admin, url, e) < 0)
		goto out;
	if (create)
		snprintf(sql, sizeof(sql), "CREATE DATABASE \"t_%s\"", name);
	else
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"t_%s\" WITH (FORCE)", name);
	snprintf(what, sizeof(what), "prepare test database 't_%s'", name);
	if (store_exec(&admin, what, sql, 0, NULL, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	store_close(&admin);
	return rc;
}

int harness_db_drop(const char *name, serr *e)
{
	return admin_exec(name, 0, e);
}

int harness_db_create(const char *name, struct buf *url, serr *e)
{
	struct store s;
	char dbname[64];
	const char *base;
	int rc = -1;

	store_init(&s);
	if (harness_db_drop(name, e) < 0)
		goto out;
	if (admin_exec(name, 1, e) < 0)
		goto out;
	if (!(base = server_url(e)))
		goto out;
	snprintf(dbname, sizeof(dbname), "t_%s", name);
	if (store_url_with_dbname(base, dbname, url, e) < 0)
		goto out;
	if (store_open_url(&s, url->data, e) < 0 || store_migrate(&s, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	store_close(&s);
	return rc;
}

int harness_db_open(const char *name, struct store *s, serr *e)
{
	struct buf url;
	int rc = -1;

	store_init(s);
	buf_init(&url, 0);
	if (harness_db_create(name, &url, e) < 0)
		goto out;
	if (store_open_url(s, url.data, e) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&url);
	return rc;
}
