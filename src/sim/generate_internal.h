/*
 * Shared parts of the sample-base generator: its own seeded PRNG (never
 * rand(), so a seed means the same base everywhere), the word lists the
 * profiles are drawn from, and the text builders for CVs and job
 * descriptions.
 */
#ifndef SCOUT_SIM_GENERATE_INTERNAL_H
#define SCOUT_SIM_GENERATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "sim/generate.h"

/* xoshiro256** seeded through splitmix64. */
struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform integer in [lo, hi]. */
int rng_int(struct rng *r, int lo, int hi);
/* 1 with probability pct/100. */
int rng_chance(struct rng *r, int pct);
size_t rng_index(struct rng *r, size_t n);

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(r, a) ((a)[rng_index((r), COUNT(a))])

struct place {
	const char *city;
	const char *country;
	const char *tz; /* IANA */
};

struct region {
	const char *name;
	const char *const *first;
	size_t nfirst;
	const char *const *last;
	size_t nlast;
	const struct place *places;
	size_t nplaces;
	const char *language; /* spoken besides English */
};

struct archetype {
	const char *title;	      /* headline title of a candidate */
	const char *category;	      /* Talent Category */
	const char *desired[3];	      /* Desired Job Category values */
	const char *skills[12];	      /* skill pool, most characteristic first */
	const char *domain;	      /* what the work is about */
	const char *job_titles[3];    /* titles a hiring company would use */
	const char *achievements[3];  /* templates: {s1} {s2} {co} {n} {domain} */
	const char *duties[6];	      /* experience and job description bullets */
	int engineering;	      /* has public code (GitHub) */
};

extern const struct region gen_regions[];
extern const size_t gen_nregions;
extern const struct archetype gen_archetypes[];
extern const size_t gen_narchetypes;
extern const char *const gen_skills[];
extern const size_t gen_nskills;
extern const char *const gen_categories[];
extern const size_t gen_ncategories;
extern const char *const gen_levels[];	  /* Experience Levels, by seniority */
extern const size_t gen_nlevels;
extern const char *const gen_job_statuses[]; /* Talent Job Status */
extern const size_t gen_njob_statuses;
extern const char *const gen_ats_statuses[]; /* ATS Job Status */
extern const size_t gen_nats_statuses;
extern const char *const gen_work_setups[];
extern const size_t gen_nwork_setups;
extern const char *const gen_past_companies[];
extern const size_t gen_npast_companies;
extern const char *const gen_hiring_companies[];
extern const size_t gen_nhiring_companies;
extern const char *const gen_hackathons[];
extern const size_t gen_nhackathons;
extern const char *const gen_universities[];
extern const size_t gen_nuniversities;
extern const char *const gen_mail_domains[];
extern const size_t gen_nmail_domains;

/* Every Desired Job Category value used by the archetypes, without duplicates. */
size_t gen_desired_categories(const char **out, size_t max);

/* Lowercase ASCII of a UTF-8 name ("João Müller" -> "joao.muller" with sep '.'). */
void gen_ascii_slug(const char *utf8, char sep, char *out, size_t outsz);

/* A candidate as the CV and the Airtable record both describe it. */
struct gen_candidate {
	const struct region *region;
	const struct place *place;
	const struct archetype *arch;
	char first[48], last[48], name[100];
	char handle[64];
	int years;
	int level;		    /* index into gen_levels */
	const char *skills[8];
	int skill_years[8];
	size_t nskills;
	const char *companies[4];
	int nphases;		    /* past positions, most recent first */
	int comp_min, comp_max;	    /* yearly, in comp_currency */
	const char *comp_currency;
};

/* Fill a candidate profile (names, place, skills, history, compensation). */
void gen_candidate_profile(struct rng *r, struct gen_candidate *c);

/* A professional summary of a few sentences. */
int gen_summary(struct rng *r, const struct gen_candidate *c, struct buf *out) SCOUT_MUST;

/*
 * The CV as text lines for pdfgen ("# " marks headings); the line strings
 * live in store (NUL-separated) and lines[] points into it once complete.
 */
int gen_cv_lines(struct rng *r, const struct gen_candidate *c, const char *summary,
		 struct buf *store) SCOUT_MUST;

/* What a hiring company wants, for both job description shapes. */
struct gen_job {
	const struct archetype *arch;
	const char *company;
	const char *title;
	const struct place *place;
	const char *setup;
	int senior;	    /* 0 junior .. 3 lead */
	int salary_min, salary_max;
	const char *must[5];
	const char *nice[3];
	size_t nmust, nnice;
};

/* Blocks in the docs/simulator.md Notion page format; long adds 100+ top-level blocks. */
json_t *gen_jd_blocks(struct rng *r, const struct gen_job *j, int long_page);
/* The same description as plain text, for the Job Description field. */
int gen_jd_text(struct rng *r, const struct gen_job *j, struct buf *out) SCOUT_MUST;

/* The generator's state while one base is built. */
struct gen {
	const struct sample_opts *o;
	const struct config *cfg;
	struct rng r;	  /* content */
	struct rng ids;	  /* record ids, a stream of their own */
	json_t *talent;	  /* record arrays of the three tables */
	json_t *jobs;
	json_t *ats;
	json_t *pages;	  /* Notion pages */
	int *fraud;	  /* per candidate: marked Fraud */
};

json_t *gen_new_record(struct rng *ids, int64_t created_ms, json_t *fields);

/* Customers STT records with their Notion pages, then the ATS rows linked to them. */
int gen_jobs_and_ats(struct gen *g, serr *e) SCOUT_MUST;

#endif
