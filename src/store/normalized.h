/*
 * Normalized candidates and jobs (migration 0006): the validated LLM answer
 * as jsonb, its main values as columns, and its lists as child tables
 * (candidate_skills, candidate_experiences, candidate_projects,
 * candidate_attributes; job_required_skills), plus role fitness scores.
 *
 * A replace writes one record's whole normalization in ONE transaction:
 * when any statement fails (a constraint, a lost connection) nothing
 * changes and the previous normalization stays as it was. The columns and
 * child rows are taken from the answer by the server, so they always agree
 * with the stored jsonb. The answer must have passed normalize_validate_*
 * (llm/normalize_schema.h); the table constraints are the last line.
 *
 * Read-back structs hold borrowed strings backed by the query result they
 * own until *_free; numbers unknown to the answer are NAN.
 */
#ifndef SCOUT_STORE_NORMALIZED_H
#define SCOUT_STORE_NORMALIZED_H

#include <stddef.h>

#include <jansson.h>

#include "store/store.h"

/* What produced a normalization; equal stamps mean the LLM need not run again. */
struct norm_stamp {
	char model[200];
	int prompt_version;
	char input_hash[80];
};

/* 1 when the stamp is exactly (model, prompt_version, input_hash). */
int norm_stamp_equal(const struct norm_stamp *st, const char *model, int prompt_version,
		     const char *input_hash);

/* One record's normalization to store. */
struct normalized_in {
	const char *record_id;
	const char *model;
	int prompt_version;
	const char *input_hash;
	const json_t *normalized;	       /* the validated answer */
	int prompt_injection_flag;	       /* the model's flag or scout's own scan */
	const char *prompt_injection_evidence; /* NULL when not flagged */
};

struct normalized_candidate {
	const char *record_id;
	struct norm_stamp stamp;
	json_t *normalized; /* owned */
	const char *full_name;
	const char *seniority_level;
	double years_of_experience;
	double comp_min_annual_usd;
	double comp_max_annual_usd;
	const char *comp_currency;
	const char *comp_period;
	const char *location_city;
	const char *location_country;
	const char *timezone;
	int is_excluded;
	int verified;
	int highlighted;
	int prompt_injection_flag;
	const char *prompt_injection_evidence;
	const char *normalized_at; /* ISO-8601 UTC */
	void *owner;
};

struct normalized_job {
	const char *record_id;
	struct norm_stamp stamp;
	json_t *normalized; /* owned */
	const char *job_title;
	const char *seniority_level;
	double min_years_experience;
	double salary_min_annual_usd;
	double salary_max_annual_usd;
	const char *salary_currency;
	const char *salary_period;
	const char *location_city;
	const char *location_country;
	const char *timezone;
	const char *work_setup;
	int prompt_injection_flag;
	const char *prompt_injection_evidence;
	const char *normalized_at;
	void *owner;
};

/* The flags of a candidate that come from recruiters, not from normalization. */
enum candidate_flag {
	CANDIDATE_EXCLUDED = 0, /* Job Status = Fraud */
	CANDIDATE_VERIFIED,	/* (N) Verification Status = verified */
	CANDIDATE_HIGHLIGHTED	/* Highlight Talent */
};

struct candidate_skill {
	const char *canonical;
	const char *name;
	int rating;
	const char *evidence;
};

struct candidate_skill_list {
	struct candidate_skill *items; /* in the answer's order */
	size_t n;
	void *owner;
};

struct job_skill {
	const char *canonical;
	const char *name;
	int must_have; /* 0: nice to have */
	const char *expected_capability;
};

struct job_skill_list {
	struct job_skill *items; /* must-haves first, each kind in the answer's order */
	size_t n;
	void *owner;
};

struct role_fitness {
	const char *category;
	int score;
	const char *reason;
	const char *model;
	int prompt_version;
};

struct role_fitness_list {
	struct role_fitness *items; /* by score, highest first */
	size_t n;
	void *owner;
};

void normalized_candidate_init(struct normalized_candidate *c);
void normalized_candidate_free(struct normalized_candidate *c);
void normalized_job_init(struct normalized_job *j);
void normalized_job_free(struct normalized_job *j);
void candidate_skill_list_free(struct candidate_skill_list *l);
void job_skill_list_free(struct job_skill_list *l);
void role_fitness_list_free(struct role_fitness_list *l);

/*
 * Replace the candidate's normalization: the row (recruiter flags kept),
 * skills, experiences, projects and attributes. Fails inside an open
 * transaction (it needs its own).
 */
int normalized_candidate_replace(struct store *s, const struct normalized_in *in,
				 serr *e) SCOUT_MUST;
/* *found = 0 when the candidate was never normalized. */
int normalized_candidate_get(struct store *s, const char *record_id,
			     struct normalized_candidate *out, int *found, serr *e) SCOUT_MUST;
int normalized_candidate_stamp(struct store *s, const char *record_id, struct norm_stamp *out,
			       int *found, serr *e) SCOUT_MUST;
/* Set a recruiter flag; *found = 0 (nothing changed) when not normalized yet. */
int normalized_candidate_set_flag(struct store *s, const char *record_id,
				  enum candidate_flag flag, int value, int *found,
				  serr *e) SCOUT_MUST;
int candidate_skills_read(struct store *s, const char *record_id,
			  struct candidate_skill_list *out, serr *e) SCOUT_MUST;

/* Replace the job's normalization: the row and job_required_skills. */
int normalized_job_replace(struct store *s, const struct normalized_in *in, serr *e) SCOUT_MUST;
int normalized_job_get(struct store *s, const char *record_id, struct normalized_job *out,
		       int *found, serr *e) SCOUT_MUST;
int normalized_job_stamp(struct store *s, const char *record_id, struct norm_stamp *out,
			 int *found, serr *e) SCOUT_MUST;
int job_skills_read(struct store *s, const char *record_id, struct job_skill_list *out,
		    serr *e) SCOUT_MUST;

/*
 * Replace the candidate's role fitness with a validated role-fitness
 * answer ({"fitness": [{category, score, reason}]}), in one transaction.
 * The candidate must be normalized.
 */
int role_fitness_replace(struct store *s, const char *record_id, const char *model,
			 int prompt_version, const json_t *answer, serr *e) SCOUT_MUST;
int role_fitness_read(struct store *s, const char *record_id, struct role_fitness_list *out,
		      serr *e) SCOUT_MUST;

/* Summary counts of the normalized tables (demo, doctor, UI). */
struct normalized_counts {
	int64_t candidates;
	int64_t candidates_flagged; /* prompt injection found */
	int64_t candidate_skills;
	int64_t jobs;
	int64_t job_skills;
	int64_t candidate_vectors;
	int64_t job_vectors;
	int64_t fitness_rows;
	int64_t llm_calls;
	double llm_cost_usd;
	int64_t human_edits;
};

int normalized_counts_get(struct store *s, struct normalized_counts *out, serr *e) SCOUT_MUST;

#endif
