/*
 * The JSON schemas of the three LLM answers scout asks for (candidate
 * normalization, job normalization, role fitness), the checks no schema
 * can express (time zones, ranges that depend on each other, repeated
 * skills, the (N) values agreeing with the structured ones), and the map
 * from answer properties to the "(N)" columns of Airtable.
 *
 * The schemas follow strict structured outputs (every property required,
 * optional values nullable, additionalProperties false) and are built once
 * per process; the returned pointers are borrowed and live until exit.
 */
#ifndef SCOUT_LLM_NORMALIZE_SCHEMA_H
#define SCOUT_LLM_NORMALIZE_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

#include "config/config.h"
#include "core/err.h"

/* The json_schema "name" sent with each schema (a-z, 0-9, '_' only). */
#define NORMALIZE_SCHEMA_CANDIDATE "candidate_normalization"
#define NORMALIZE_SCHEMA_JOB "job_normalization"
#define NORMALIZE_SCHEMA_FITNESS "role_fitness"

/* The prompt files (prompts/<name>.md) that go with each schema. */
#define NORMALIZE_PROMPT_CANDIDATE "candidate_normalize"
#define NORMALIZE_PROMPT_JOB "job_normalize"
#define NORMALIZE_PROMPT_FITNESS "role_fitness"

/* Longest string accepted anywhere in an answer, in bytes. */
#define NORMALIZE_MAX_TEXT 16384
/* Longest skill or category name, in bytes. */
#define NORMALIZE_MAX_NAME 120

/* The seniority levels, lowest first (the enum of seniority_level). */
extern const char *const normalize_seniority_levels[];
extern const size_t normalize_seniority_count;

/* NULL only when memory runs out while building (then logged). */
const json_t *normalize_schema_candidate(void);
const json_t *normalize_schema_job(void);
const json_t *normalize_schema_fitness(void);

/*
 * Semantic checks of an answer that already passed schema_validate. Each
 * lists up to a few problems as "<json path>: <problem>".
 *  candidate: IANA time zone, compensation min <= max and known ISO 4217
 *   currency, annual USD figures present when the stated ones are, years
 *   of experience 0..60, experience start <= end, canonical skill names
 *   lowercase, trimmed and unique, project URLs http(s), evidence given
 *   when an injection is reported, the (N) scalars equal to the structured
 *   ones, and no string over NORMALIZE_MAX_TEXT.
 *  job: the same where they apply; a skill is not both must-have and
 *   nice-to-have.
 *  fitness: exactly one score for each of the n categories asked for
 *   (compared case-insensitively), none other.
 */
int normalize_check_candidate(const json_t *answer, serr *e) SCOUT_MUST;
int normalize_check_job(const json_t *answer, serr *e) SCOUT_MUST;
int normalize_check_fitness(const json_t *answer, const char *const *categories, size_t n,
			    serr *e) SCOUT_MUST;

/* Categories a role-fitness answer must score (ud of normalize_validate_fitness). */
struct normalize_categories {
	const char *const *names;
	size_t n;
};

/*
 * Schema validation followed by the semantic checks, in the shape of the
 * LLM client's validator callback (ud unused except for fitness), so an
 * invalid answer is retried with the error.
 */
int normalize_validate_candidate(void *ud, const json_t *answer, serr *e) SCOUT_MUST;
int normalize_validate_job(void *ud, const json_t *answer, serr *e) SCOUT_MUST;
int normalize_validate_fitness(void *ud, const json_t *answer, serr *e) SCOUT_MUST;

/* 1 when code is an active ISO 4217 currency code ("USD", "EUR", ...). */
int normalize_currency_known(const char *code);

/*
 * One "(N)" column of Airtable: the answer property holding its value
 * (NULL when scout sets it itself), where struct config keeps the column's
 * name (a field.talent_n.* or field.job_n.* option, so a base with renamed
 * columns only needs a config file), and the Airtable field type the
 * column should have.
 */
struct normalize_n_field {
	const char *property;	   /* "n_full_name"; NULL: not from the model */
	size_t column;		   /* offsetof(struct config, tn_full_name) */
	const char *airtable_type; /* "singleLineText", "multilineText", "number", "singleSelect" */
};

/* The (N) columns of Talent and of Customers STT, in display order. */
extern const struct normalize_n_field normalize_talent_n_fields[];
extern const size_t normalize_talent_n_count;
extern const struct normalize_n_field normalize_job_n_fields[];
extern const size_t normalize_job_n_count;

/* The configured Airtable name of an (N) column, e.g. "(N) Full Name" by default. */
const char *normalize_n_column(const struct config *cfg, const struct normalize_n_field *nf);

#endif
