/*
 * The sample-base generator: a realistic recruiting base (Talent,
 * Customers STT and ATS tables with every field of the seed, PDF CVs,
 * Notion job descriptions) in the docs/simulator.md load format, the same
 * bytes for the same seed. Used by `scout sim --generate`, the demo and
 * the tests.
 */
#ifndef SCOUT_SIM_GENERATE_H
#define SCOUT_SIM_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct sample_opts {
	uint64_t seed;
	int candidates;		/* default 300 */
	int jobs;		/* default 12 */
	const char *base_id;	/* default "appScoutSample01" */
	int with_pdfs;		/* default 1: most candidates get a PDF CV */
	size_t oversized_bytes; /* size of the one oversized CV (default 21 MiB, over pdf.max_file_mb); 0 = none */
};

void sample_opts_init(struct sample_opts *o);

/* A new base (new reference) in the load format, or NULL with e filled. */
json_t *sample_generate(const struct sample_opts *o, serr *e);

/*
 * The Talent field that holds the inverse of an ATS link-to-Talent field
 * ("Potential Talent Fit AI" -> "Job Match"), or NULL for other names.
 */
const char *sample_talent_inverse(const char *ats_field);

#endif
