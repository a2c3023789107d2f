/*
 * Embedding vectors (migration 0006): the vectors of one candidate or job,
 * replaced together, and the embedding cache keyed by (model, dimensions,
 * SHA-256 of the text), so the same text is embedded once however many
 * records contain it. Vectors are real[] in PostgreSQL and float in C.
 */
#ifndef SCOUT_STORE_VECTORS_H
#define SCOUT_STORE_VECTORS_H

#include <stddef.h>

#include "store/store.h"

/* Largest vector stored (text-embedding-3-large has 3072). */
#define VECTOR_MAX_DIMENSIONS 16384

enum vector_owner { VECTOR_CANDIDATE = 0, VECTOR_JOB };

/*
 * One vector. kind: "narrative_experience", ..., "skill:<canonical>",
 * "position:<n>", "project:<n>" (candidates), "requirement:<canonical>"
 * (jobs). text_hash: embedding_text_hash of the embedded text.
 */
struct vector_row {
	const char *kind;
	const char *text_hash;
	const float *values; /* dimensions floats */
};

struct vector_set {
	char model[200];
	int dimensions;
	struct vector_row *rows; /* ordered by kind */
	size_t n;
	void *mem; /* backs rows, kinds, hashes and values */
};

/* SHA-256 of the text as 64 lowercase hex characters: the cache key. */
void embedding_text_hash(const char *text, char out[65]);

void vector_set_init(struct vector_set *v);
void vector_set_free(struct vector_set *v);

/*
 * Replace every vector of the record with rows (n may be 0), all of the
 * same model and dimensions, in one transaction. The record must be
 * normalized. Fails inside an open transaction.
 */
int vectors_replace(struct store *s, enum vector_owner owner, const char *record_id,
		    const char *model, int dimensions, const struct vector_row *rows, size_t n,
		    serr *e) SCOUT_MUST;

/*
 * The record's vectors of this model and dimensions (vectors of another
 * model are left out: they cannot be compared). n = 0 when there are none.
 */
int vectors_read(struct store *s, enum vector_owner owner, const char *record_id,
		 const char *model, int dimensions, struct vector_set *out, serr *e) SCOUT_MUST;

/*
 * Look n text hashes up: for each hash found, its vector is copied to
 * out + i * dimensions and hit[i] = 1 (else hit[i] = 0); *hits counts
 * them. Repeated hashes are fine.
 */
int embedding_cache_get_many(struct store *s, const char *model, int dimensions,
			     const char *const *hashes, size_t n, float *out, unsigned char *hit,
			     size_t *hits, serr *e) SCOUT_MUST;

/*
 * Store n vectors (vectors + i * dimensions) under their text hashes; a
 * hash already cached is left as it is.
 */
int embedding_cache_put_many(struct store *s, const char *model, int dimensions,
			     const char *const *hashes, const float *vectors, size_t n,
			     serr *e) SCOUT_MUST;

/*
 * Skill name vectors (migration 0011): one per canonical name and space.
 * have[i] = 1 when names[i] has one (have holds n bytes).
 */
int skill_name_vectors_have(struct store *s, const char *model, int dimensions,
			    const char *const *names, size_t n, unsigned char *have,
			    serr *e) SCOUT_MUST;

/* Store n name vectors (vectors + i * dimensions); a name already stored is
 * left as it is. */
int skill_name_vectors_put(struct store *s, const char *model, int dimensions,
			   const char *const *names, const float *vectors, size_t n,
			   serr *e) SCOUT_MUST;

#endif
