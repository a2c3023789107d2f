/*
 * The parts of the LLM simulator's answer model shared by its two files:
 * the walk over the schema (sim_openrouter_fill.c) and the sentence-level
 * reading it asks for (sim_openrouter_parts.c): labelled lines, cue
 * sentences, positions, projects, dates, companies, the categories a
 * fitness question lists, section headers, and the chat input. Internal
 * to the simulator.
 */
#ifndef SCOUT_SIM_SIM_OPENROUTER_FILL_H
#define SCOUT_SIM_SIM_OPENROUTER_FILL_H

#include <stddef.h>

#include <jansson.h>

#include "sim/sim_openrouter_text.h"

#define FILL_MAX_DEPTH 24
#define FILL_MAX_ITEMS 12
#define FILL_MAX_CATS 32
#define FILL_INVALID_PREFIX "your previous answer was invalid"

enum focus_kind { F_NONE, F_SKILL, F_SENT, F_CAT, F_ATTR };

/* What an array item is about: one skill, one sentence, one category, one attribute. */
struct focus {
	enum focus_kind kind;
	size_t skill;	    /* index in t->skills */
	size_t sent;	    /* sentence index */
	const char *label;  /* category or attribute name */
};

struct fill {
	const struct sor_text *t;
	const json_t *root;
	char *cats[FILL_MAX_CATS];
	size_t ncats;
	size_t cat_first, cat_last; /* the sentences that list the categories */
	long *section;		    /* per sentence: the header sentence above it, or -1 */
	long budget;
};

struct slot {
	char name[96];	 /* lowercase property name without "n_" / "narrative_" */
	char parent[96];
	const struct focus *focus;
	int depth;
};

/* ---- sentences (sim_openrouter_parts.c) ---- */

/* Sentence i without a leading "Label: " of at most four words (malloc'd). */
char *fill_sentence(const struct fill *f, size_t i);
/* The value of the first "label: value" sentence whose label is one of keys (malloc'd), or NULL. */
char *fill_labeled(const struct fill *f, const char *const *keys);
size_t fill_words_in(const char *s, size_t n);
/* Up to max distinct sentences of min_words or more, the ones holding a cue first, joined; NULL when none. */
char *fill_sentences(const struct fill *f, const char *const *cues, size_t max, size_t min_words);
/* The first sentence if it is short (a name or title line), else NULL. */
char *fill_first_line(const struct fill *f, size_t max_words);
char *fill_first_words(const struct fill *f, size_t i, size_t max);
/* 1 when sentence i holds one of words. */
int fill_sent_is(const struct fill *f, size_t i, const char *const *words);

/* Categories a fitness question lists, into f->cats. */
void fill_find_categories(struct fill *f);
/* 0..100 for a category: its words named outside the list, and the skills found. */
int fill_cat_score(const struct fill *f, const char *cat);
/* f->section: per sentence, the header line above it. */
void fill_find_sections(struct fill *f);

/* A job held ("Title at Company", "Title, Company (2019 - 2022)"), and a project. */
int fill_position_sentence(const struct fill *f, size_t i);
int fill_project_sentence(const struct fill *f, size_t i);
char *fill_company_of(const struct fill *f, size_t i);
char *fill_title_of(const struct fill *f, size_t i);
/* The k-th date of sentence i as YYYY-MM (0), or -1. */
int fill_date_of(const struct fill *f, size_t i, int k, char out[8]);
/* The end of a range, NULL when current ("present") or not stated. */
char *fill_end_date(const struct fill *f, size_t i);
/* An industry word in the focus sentence (or the whole text), or NULL. */
char *fill_domain_of(const struct fill *f, const struct focus *fo);

/* Word lists (NULL-terminated). */
extern const char *const fill_title_words[];
extern const char *const fill_project_words[];
extern const char *const fill_action_words[];
extern const char *const fill_soft_words[];
extern const char *const fill_domain_words[];
extern const char *const fill_experience_cues[];
extern const char *const fill_personality_cues[];
extern const char *const fill_impact_cues[];
extern const char *const fill_role_cues[];

#endif
