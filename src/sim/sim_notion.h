/*
 * The simulator's Notion store: pages with a title and a tree of blocks,
 * served as Notion page and block objects (rich_text arrays, has_children,
 * cursor paging of block children). Pages come from the "notion" member of
 * a loaded base. Callers hold the sim lock.
 */
#ifndef SCOUT_SIM_SIM_NOTION_H
#define SCOUT_SIM_SIM_NOTION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

#define SIM_NOTION_ID 37 /* dashed UUID + NUL */

struct sim_nblock {
	char id[SIM_NOTION_ID];
	json_t *obj;	/* the block object as the API returns it */
	size_t *kids;	/* indexes into the page's blocks */
	size_t nkids;
};

struct sim_npage {
	char id[SIM_NOTION_ID];
	json_t *obj;	/* the page object */
	struct sim_nblock *blocks;
	size_t nblocks;
	size_t *top;	/* indexes of the page's own children */
	size_t ntop;
};

struct sim_notion {
	struct sim_npage **pages;
	size_t npages;
};

void sim_notion_init(struct sim_notion *n);
void sim_notion_free(struct sim_notion *n);

/* Parse {"pages":[...]} into a new store (nothing is shared with n). */
int sim_notion_parse(const json_t *j, struct sim_notion *out, serr *e) SCOUT_MUST;
/* Move the pages of src into n, replacing pages with the same id; src ends empty. */
int sim_notion_merge(struct sim_notion *n, struct sim_notion *src, serr *e) SCOUT_MUST;

/* "0f3c2a9e-4b7d-..." from an id with or without dashes; -1 when not a UUID. */
int sim_notion_id(const char *in, char out[SIM_NOTION_ID]);

struct sim_npage *sim_notion_page(struct sim_notion *n, const char *dashed);
/* The block with this id and the page that holds it, or NULL. */
struct sim_nblock *sim_notion_block(struct sim_notion *n, const char *dashed,
				    struct sim_npage **page);

#endif
