/*
 * Reading matchmaking inputs out of PostgreSQL results: real[] vectors in
 * the binary array format, binary-result queries, and the small column
 * conversions the pool and job loaders share.
 */
#include "store/match_rows.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "match/match.h"

#define FLOAT4OID 700

static uint32_t be32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* A real[] in PostgreSQL's binary array format into out[dim]. */
int match_real_array_parse(const char *v, int len, int dim, float *out)
{
	const char *p;

	if (len < 20 || be32(v) != 1 || be32(v + 8) != FLOAT4OID || (int)be32(v + 12) != dim)
		return -1;
	if ((size_t)len != 20 + (size_t)dim * 8)
		return -1;
	p = v + 20;
	for (int i = 0; i < dim; i++, p += 8) {
		uint32_t bits;

		if (be32(p) != 4)
			return -1; /* NULL element or not a float4 */
		bits = be32(p + 4);
		memcpy(&out[i], &bits, 4);
	}
	return 0;
}

/* PQexecParams with binary results (vectors), errors as store_exec words them. */
int match_exec_binary(struct store *s, const char *what, const char *sql, int n,
		       const char *const *params, PGresult **out, serr *e)
{
	PGresult *r;
	char msg[512];
	size_t len;

	*out = NULL;
	if (!s->conn)
		return serr_set(e, "cannot %s: not connected to the database", what);
	r = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 1);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(msg, sizeof(msg), "%s",
			 r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
		len = strlen(msg);
		while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			msg[--len] = '\0';
		PQclear(r);
		return serr_set(e, "cannot %s: %s", what, msg);
	}
	*out = r;
	return 0;
}

double match_num_or_nan(const PGresult *r, int row, int col)
{
	double d;

	if (PQgetisnull(r, row, col) || parse_double(PQgetvalue(r, row, col), &d) < 0)
		return NAN;
	return d;
}

int match_is_true(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static const char *const narrative_kinds[MN_COUNT] = {
	"narrative_experience", "narrative_domain", "narrative_personality", "narrative_impact",
	"narrative_technical"
};

int match_narrative_index(const char *kind)
{
	for (int i = 0; i < MN_COUNT; i++)
		if (strcmp(kind, narrative_kinds[i]) == 0)
			return i;
	return -1;
}

