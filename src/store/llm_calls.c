/* Inserting and summing the log of LLM requests (see llm_calls.h). */
#include "store/llm_calls.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

/* Copy src into dst, cut (when too long) at a UTF-8 character boundary. */
static void copy_utf8(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz) {
		n = dstsz - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int llm_calls_insert(struct store *s, const struct llm_call_row *c, serr *e)
{
	const char *what = "record an llm call";
	char pt[24], ct[24], cost[40], attempts[16], err[LLM_CALL_ERROR_MAX + 1];
	const char *p[10];

	if (!c->purpose || !*c->purpose || strlen(c->purpose) > 100)
		return serr_set(e, "cannot %s: the purpose is empty or longer than 100", what);
	if (!c->model || !*c->model)
		return serr_set(e, "cannot %s for '%s': no model", what, c->purpose);
	if (!c->status || (strcmp(c->status, "ok") && strcmp(c->status, "invalid") &&
			   strcmp(c->status, "error")))
		return serr_set(e, "cannot %s for '%s': status '%s' is not ok, invalid or error",
				what, c->purpose, c->status ? c->status : "");
	if (c->prompt_tokens < 0 || c->completion_tokens < 0 || c->attempts < 0 ||
	    !isfinite(c->cost_usd) || c->cost_usd < 0)
		return serr_set(e, "cannot %s for '%s': tokens, attempts and cost must not be "
				   "negative",
				what, c->purpose);
	snprintf(pt, sizeof(pt), "%" PRId64, c->prompt_tokens);
	snprintf(ct, sizeof(ct), "%" PRId64, c->completion_tokens);
	snprintf(cost, sizeof(cost), "%.10g", c->cost_usd);
	snprintf(attempts, sizeof(attempts), "%d", c->attempts);
	if (c->error)
		copy_utf8(err, sizeof(err), c->error);
	p[0] = c->run_id;
	p[1] = c->record_id;
	p[2] = c->purpose;
	p[3] = c->model;
	p[4] = pt;
	p[5] = ct;
	p[6] = cost;
	p[7] = attempts;
	p[8] = c->status;
	p[9] = c->error ? err : NULL;
	return store_exec(s, what,
			  "INSERT INTO llm_calls (run_id, record_id, purpose, model, prompt_tokens,"
			  " completion_tokens, cost_usd, attempts, status, error)"
			  " VALUES ($1::uuid, $2, $3, $4, $5::bigint, $6::bigint, $7::float8,"
			  " $8::int, $9, $10)",
			  10, p, NULL, e);
}

int llm_calls_totals(struct store *s, const char *run_id, const char *record_id,
		     struct llm_call_totals *out, serr *e)
{
	const char *what = "sum the llm calls";
	const char *p[2] = { run_id, record_id };
	PGresult *r = NULL;
	int64_t v[5];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (store_exec(s, what,
		       "SELECT count(*), count(*) FILTER (WHERE status <> 'ok'),"
		       " coalesce(sum(attempts), 0), coalesce(sum(prompt_tokens), 0),"
		       " coalesce(sum(completion_tokens), 0), coalesce(sum(cost_usd), 0)"
		       " FROM llm_calls WHERE ($1::uuid IS NULL OR run_id = $1::uuid)"
		       " AND ($2::text IS NULL OR record_id = $2::text)",
		       2, p, &r, e) < 0)
		return -1;
	for (int i = 0; i < 5; i++)
		if (parse_i64(PQgetvalue(r, 0, i), 0, INT64_MAX, &v[i]) < 0) {
			serr_set(e, "cannot %s: '%s' is not a count", what, PQgetvalue(r, 0, i));
			goto out;
		}
	if (parse_double(PQgetvalue(r, 0, 5), &out->cost_usd) < 0) {
		serr_set(e, "cannot %s: '%s' is not a cost", what, PQgetvalue(r, 0, 5));
		goto out;
	}
	out->calls = v[0];
	out->failed = v[1];
	out->attempts = v[2];
	out->prompt_tokens = v[3];
	out->completion_tokens = v[4];
	rc = 0;
out:
	PQclear(r);
	return rc;
}
