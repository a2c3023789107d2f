-- Recruiters' edits of the (N) cells scout writes: when a cell's current
-- Airtable value differs from what scout last wrote there (airtable_writes),
-- a person edited it. scout keeps the person's value and records it here as
-- feedback, one row per distinct value a person gave a cell.
CREATE TABLE human_edits (
    id           bigserial PRIMARY KEY,
    table_id     text NOT NULL,
    record_id    text NOT NULL,
    field        text NOT NULL,
    scout_value  text,          -- JSON text of what scout last wrote; NULL: an empty cell
    human_value  text,          -- JSON text of the person's value; NULL: the person cleared it
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    seen_at      timestamptz NOT NULL DEFAULT now()
);

-- A value seen again on a later run updates seen_at instead of adding a row.
CREATE UNIQUE INDEX human_edits_value_key
    ON human_edits (table_id, record_id, field, md5(coalesce(human_value, '')));
CREATE INDEX human_edits_record ON human_edits (table_id, record_id);
