/* Pauses of tagged work (see pauses.h). */
#include "store/pauses.h"

#include <stdio.h>
#include <string.h>

#include "core/util.h"

int llm_pause_set(struct store *s, const char *tag, const char *reason, serr *e)
{
	const char *p[2] = { tag, reason };

	return store_exec(s, "record the pause of llm work",
			  "INSERT INTO pauses (tag, reason) VALUES ($1, $2)"
			  " ON CONFLICT (tag) DO UPDATE SET reason = EXCLUDED.reason, checked_at = now()",
			  2, p, NULL, e);
}

int llm_pause_clear(struct store *s, const char *tag, serr *e)
{
	const char *p[1] = { tag };

	return store_exec(s, "clear the pause of llm work", "DELETE FROM pauses WHERE tag = $1", 1,
			  p, NULL, e);
}

int llm_pause_get(struct store *s, const char *tag, struct llm_pause *out, serr *e)
{
	const char *p[1] = { tag };
	PGresult *r = NULL;
	int64_t age = 0;

	memset(out, 0, sizeof(*out));
	if (store_exec(s, "read the pause of llm work",
		       "SELECT reason, to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		       " (extract(epoch FROM now() - checked_at) * 1000)::bigint::text"
		       " FROM pauses WHERE tag = $1",
		       1, p, &r, e) < 0)
		return -1;
	if (PQntuples(r) == 1) {
		out->paused = 1;
		snprintf(out->reason, sizeof(out->reason), "%s", store_val(r, 0, 0));
		snprintf(out->since, sizeof(out->since), "%s", store_val(r, 0, 1));
		if (parse_i64(store_val(r, 0, 2), INT64_MIN, INT64_MAX, &age) == 0)
			out->age_ms = (long long)age;
	}
	PQclear(r);
	return 0;
}

