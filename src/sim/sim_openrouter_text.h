/*
 * What the OpenRouter simulator's "model" reads in an input text: the
 * sentences, with the ones that try to instruct the model (prompt
 * injection) set aside, the known skills with a rating taken from the
 * words near them, years of experience, money amounts with their currency
 * and period, an IANA time zone, a city and country, e-mail and links.
 * Everything is deterministic: the same text always reads the same way.
 * Internal to the simulator (and its unit tests).
 */
#ifndef SCOUT_SIM_SIM_OPENROUTER_TEXT_H
#define SCOUT_SIM_SIM_OPENROUTER_TEXT_H

#include <stddef.h>

#include "core/buf.h"

#define SOR_MAX_INPUT (256 * 1024) /* bytes of input read; the rest is ignored */
#define SOR_MAX_SENTENCES 4096
#define SOR_MAX_SKILLS 128
#define SOR_MAX_MONEY 16

struct sor_span {
	size_t off, len; /* in sor_text.clean */
	size_t line;	 /* line of the input it came from (blank lines count) */
};

struct sor_skill {
	int id;		/* index in the known skill table */
	size_t sent;	/* sentence of the first mention */
	size_t at;	/* offset of the first mention in clean */
	int rating;	/* 1..10 from the words near it */
	int nice;	/* the sentence says nice-to-have / bonus / plus */
};

enum sor_period { SOR_PERIOD_NONE = 0, SOR_PERIOD_HOUR, SOR_PERIOD_MONTH, SOR_PERIOD_YEAR };

struct sor_text {
	char *clean;		/* the input without injected sentences */
	char *lower;		/* lowercase ASCII copy of clean */
	size_t len;
	struct sor_span *sent;
	size_t nsent;
	struct buf injection;	/* the sentences set aside, joined by a space */
	int injected;
	struct sor_skill skills[SOR_MAX_SKILLS];
	size_t nskills;
	int years;		/* years of experience, -1 when not stated */
	double money[SOR_MAX_MONEY]; /* amounts in the pay sentences, as stated */
	size_t nmoney;
	char currency[4];	/* ISO 4217 of the amounts, "" when unknown */
	enum sor_period period;
	int zone;		/* index in the time zone table, -1 when none */
	char city[64], country[64];
	char email[128], url[256];
};

/* ---- word lists (sim_openrouter_data.c) ---- */

struct sor_skill_def {
	const char *name;      /* as written: "Node.js" */
	const char *canonical; /* lowercase: "node.js" */
	const char *alts;      /* other lowercase spellings, '|' separated */
};

struct sor_place_def {
	const char *zone;		   /* IANA name */
	const char *city, *country;	   /* lowercase, as matched in text */
	const char *city_name, *country_name; /* as answered */
};

struct sor_rating_word {
	const char *word;
	int rating;
};

struct sor_currency {
	const char *mark; /* lowercase code or sign as written */
	const char *code; /* ISO 4217 */
	double usd;	  /* value of one unit in US dollars */
};

extern const struct sor_skill_def sor_skills[];
extern const size_t sor_nskills;
extern const struct sor_place_def sor_places[]; /* the first row of a zone or country is its main one */
extern const size_t sor_nplaces;
extern const char *const sor_injection_markers[]; /* lowercase phrases that address the model */
extern const size_t sor_ninjection_markers;
extern const struct sor_rating_word sor_rating_words[];
extern const size_t sor_nrating_words;
extern const struct sor_currency sor_currencies[];
extern const size_t sor_ncurrencies;

/* ---- reading a text ---- */

/* Read input (any bytes; invalid UTF-8 is kept as is). -1 only when memory runs out. */
int sor_text_init(struct sor_text *t, const char *input);
void sor_text_free(struct sor_text *t);

/* Known skills: display name ("Node.js") and canonical name ("node.js"). */
const char *sor_skill_name(int id);
const char *sor_skill_canonical(int id);
/* The IANA name of time zone table entry i. */
const char *sor_zone_name(int i);

/* Sentence i as a new NUL-terminated string (NULL on OOM). */
char *sor_sentence(const struct sor_text *t, size_t i);
/* 1 when sentence i contains word (lowercase, whole-word match). */
int sor_sentence_has(const struct sor_text *t, size_t i, const char *word);
/* Index of the first sentence containing any of the words (NULL-terminated list) after from, or -1. */
long sor_find_sentence(const struct sor_text *t, const char *const *words, size_t from);
/* 1 when the lowercase text contains word as a whole word. */
int sor_has_word(const struct sor_text *t, const char *word);
/* Position of word (whole word) in lowercase s of length n, or -1. */
long sor_word_at(const char *s, size_t n, const char *word);

/* The annual figure in USD of a stated amount (period and currency of t; hourly x 2000, monthly x 12). */
double sor_annual_usd(const struct sor_text *t, double amount);

/* 1 when the sentence (lowercase) tries to instruct the model. */
int sor_is_injection(const char *lower, size_t n);

/*
 * Feature hashing of lowercased word unigrams and bigrams with signed
 * hashes into dim floats, L2-normalized: similar texts get close vectors.
 */
void sor_embed(const char *text, int dim, float *out);

#endif
