/*
 * Notion blocks -> markdown, with no I/O: the client fetches the tree and
 * hangs each block's children under a top-level "children" array; this
 * file renders it. Headings shift one level down (the page title is the
 * only "#"), lists nest by indentation, rich-text annotations (bold,
 * italic, strikethrough, code, links) are kept, unknown blocks are skipped
 * with a debug log line.
 */
#ifndef SCOUT_NOTION_MARKDOWN_H
#define SCOUT_NOTION_MARKDOWN_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

/* A rich_text array -> inline markdown, appended to out. */
int notion_rich_text_md(const json_t *rich_text, struct buf *out, serr *e) SCOUT_MUST;

/* Plain text of a rich_text array (no markup), appended to out. */
int notion_plain_text(const json_t *rich_text, struct buf *out, serr *e) SCOUT_MUST;

/* An array of block objects (children under "children") -> markdown, appended to md. */
int notion_blocks_md(const json_t *blocks, struct buf *md, serr *e) SCOUT_MUST;

#endif
