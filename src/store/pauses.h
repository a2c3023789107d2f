/*
 * Pauses of tagged work (the `pauses` table, migrations 0007 and 0009):
 * after OpenRouter answers 402 the 'llm' tag is paused; the queue holds
 * runs with a paused tag back for a minute, then one run probes.
 */
#ifndef SCOUT_STORE_PAUSES_H
#define SCOUT_STORE_PAUSES_H

#include "store/store.h"

struct llm_pause {
	int paused;
	char reason[512];
	char since[40];	 /* ISO-8601 UTC */
	long long age_ms;
};

int llm_pause_set(struct store *s, const char *tag, const char *reason, serr *e) SCOUT_MUST;
int llm_pause_clear(struct store *s, const char *tag, serr *e) SCOUT_MUST;
int llm_pause_get(struct store *s, const char *tag, struct llm_pause *out, serr *e) SCOUT_MUST;

#endif
