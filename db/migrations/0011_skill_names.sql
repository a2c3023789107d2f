-- One embedding per distinct canonical skill name and embedding space. The
-- matchmaking engine decides that a candidate's skill is a job's skill by
-- comparing these name vectors ("Postgres" and "PostgreSQL"), and compares
-- the per-record evidence vectors only for skills so matched. A name shared
-- by thousands of candidates is one row. xid stamps the writing transaction
-- so an in-memory pool can read only the names added since its last load
-- (the same snapshot rule as candidate_pool_changes, migration 0010).
CREATE TABLE skill_name_vectors (
    model       text NOT NULL,
    dimensions  int NOT NULL CHECK (dimensions > 0),
    canonical   text NOT NULL CHECK (length(canonical) BETWEEN 1 AND 300),
    vector      real[] NOT NULL CHECK (cardinality(vector) = dimensions),
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, dimensions, canonical)
);
CREATE INDEX skill_name_vectors_xid_idx ON skill_name_vectors (xid);
