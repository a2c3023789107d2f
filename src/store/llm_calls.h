/*
 * The log of LLM requests (migration 0006): one row per call made for a
 * purpose (normalize, fitness, embed, pdf), with tokens, cost, attempts and
 * outcome, so cost is known per run and per record.
 */
#ifndef SCOUT_STORE_LLM_CALLS_H
#define SCOUT_STORE_LLM_CALLS_H

#include <stdint.h>

#include "store/store.h"

/* Longest error text kept with a call; the start of a message says what failed. */
#define LLM_CALL_ERROR_MAX 2000

struct llm_call_row {
	const char *run_id;    /* uuid of the run, NULL outside a run */
	const char *record_id; /* NULL when the call is not for one record */
	const char *purpose;   /* "normalize_candidate", "embed", ... */
	const char *model;
	int64_t prompt_tokens;
	int64_t completion_tokens;
	double cost_usd;
	int attempts;
	const char *status; /* "ok", "invalid" (answer failed validation) or "error" */
	const char *error;  /* NULL when ok */
};

struct llm_call_totals {
	int64_t calls;
	int64_t failed; /* status other than ok */
	int64_t attempts;
	int64_t prompt_tokens;
	int64_t completion_tokens;
	double cost_usd;
};

int llm_calls_insert(struct store *s, const struct llm_call_row *c, serr *e) SCOUT_MUST;

/* Totals over the calls of a run and/or a record (NULL: any). */
int llm_calls_totals(struct store *s, const char *run_id, const char *record_id,
		     struct llm_call_totals *out, serr *e) SCOUT_MUST;

#endif
