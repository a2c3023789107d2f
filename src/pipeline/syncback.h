/*
 * Sync-back: normalized values written to the "(N)" columns of Talent and
 * Customers STT (docs/syncback.md). Each step reads the current values of
 * those cells, keeps every cell a person edited (the value differs from
 * what scout last wrote there, see store/airtable_writes.h) and records it
 * as feedback in human_edits, writes only cells whose value changes, in
 * batches of 10 paced per base, and then remembers what Airtable stored.
 */
#ifndef SCOUT_PIPELINE_SYNCBACK_H
#define SCOUT_PIPELINE_SYNCBACK_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "llm/normalize_schema.h"

struct job_ctx;
struct store;

/* The value scout gives an empty (N) Verification Status; recruiters set "verified". */
#define SYNCBACK_UNVERIFIED "unverified"
#define SYNCBACK_VERIFIED "verified"
/* Records read and planned together (one listing request by RECORD_ID()). */
#define SYNCBACK_CHUNK 100

/*
 * Steps (job_step_fn). The partition's record, or every normalized record
 * when the run covers all of them.
 *  candidate: the Talent (N) cells; (N) Verification Status only filled
 *   when empty, and its current value copied to the candidate's verified flag.
 *  job: the Customers STT (N) cells, then Start Matchmaking unchecked when
 *   checked (in the same request), as the seed's job pipeline ends.
 *  job_fields: the job's (N) cells only, Start Matchmaking left alone (the
 *   upload job, which must not swallow a recruiter's matchmaking trigger).
 */
int step_syncback_candidate(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_syncback_job(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_syncback_job_fields(struct job_ctx *ctx, serr *e) SCOUT_MUST;

/* The options of an (N) single-select column, or NULL (n = 0) for another column. */
const char *const *syncback_select_choices(const struct normalize_n_field *nf, size_t *n);
/* Decimal places of an (N) number column: 1 for years, 0 for money. */
int syncback_number_precision(const struct normalize_n_field *nf);

/*
 * The cell value of one (N) column for an answer's property value: text
 * trimmed (single-line text on one line), numbers rounded to the column's
 * precision, select options as their names; JSON null for an empty cell.
 * NULL with e filled when the value does not fit the column's type.
 */
json_t *syncback_cell(const struct config *cfg, const struct normalize_n_field *nf,
		      const json_t *value, serr *e);

/* What to do with one record. */
struct syncback_plan {
	json_t *write; /* column -> value to PATCH (empty object: nothing) */
	json_t *edits; /* [{"field", "scout", "human"}]: cells a person edited, kept */
};

void syncback_plan_init(struct syncback_plan *p);
void syncback_plan_free(struct syncback_plan *p);

/*
 * Plan one record: normalized is the answer (its n_* properties), current
 * the record's Airtable "fields" (absent = empty), written what scout last
 * wrote to its cells (airtable_writes_get_record); cfg names the columns
 * (normalize_n_column). A cell scout wrote
 * before whose current value differs is a person's edit: kept, listed in
 * edits. Any other cell is written when its value would change.
 */
int syncback_plan_record(const struct config *cfg, const struct normalize_n_field *nf, size_t n,
			 const json_t *normalized, const json_t *current, const json_t *written,
			 struct syncback_plan *out, serr *e) SCOUT_MUST;

/* Normalized rows to sync, SYNCBACK_CHUNK at a time (syncback_store.c). */
struct syncback_rows {
	json_t *rows;	     /* [{"id", "n": {n_* properties}, "verified": bool}] */
	char last_id[128];   /* keyset: the next chunk starts after it */
};

/*
 * The next chunk of normalized candidates (jobs = 0) or jobs (jobs = 1):
 * the one record_id when given (then one chunk), else every record in id
 * order. rows is replaced; an empty array means done.
 */
int syncback_rows_next(struct store *s, int jobs, const char *record_id,
		       struct syncback_rows *r, serr *e) SCOUT_MUST;

/* Store a person's edit of a cell; seeing the same value again only refreshes seen_at. */
int syncback_human_edit_record(struct store *s, const char *table, const char *record_id,
			       const char *field, const json_t *scout_value,
			       const json_t *human_value, serr *e) SCOUT_MUST;

#endif
