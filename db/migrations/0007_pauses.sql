-- Pauses of tagged work. After OpenRouter answers 402 (out of credits) the
-- LLM steps record a pause of the 'llm' tag: runs that need the LLM fail at
-- once with the reason instead of each spending its retries, and the queue
-- can hold back runs carrying a paused tag. A later successful LLM call
-- (a probe once the pause is a minute old) deletes the row.
CREATE TABLE pauses (
    tag        text PRIMARY KEY CHECK (length(tag) BETWEEN 1 AND 100),
    reason     text NOT NULL,
    since      timestamptz NOT NULL DEFAULT now(),
    checked_at timestamptz NOT NULL DEFAULT now()
);
