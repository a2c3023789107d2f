-- Partition status and backfills. A partition's status is derived from its
-- runs; a trigger on runs keeps one row per (job, partition) up to date so
-- status views never scan the runs table. Backfills queue one run per
-- selected partition through the queue and remember which run each
-- partition got.
-- Applied by `scout migrate` inside one transaction; do not add BEGIN/COMMIT.

-- The input hash the sensors and syncs last saw for the partition's record;
-- a partition whose latest success ran with another hash is stale.
ALTER TABLE partitions ADD COLUMN input_hash text;
ALTER TABLE partitions ADD COLUMN input_hash_at timestamptz;

-- One row per (job, partition) that has had a run. `status` is derived from
-- the runs of that partition: the latest-created run decides when it is
-- QUEUED (queued) or STARTED/CANCELING (running); otherwise the latest-created
-- run that ended SUCCESS or FAILURE decides (succeeded / failed); canceled
-- runs alone leave the partition missing. Stale is computed at read time by
-- comparing success_input_hash with partitions.input_hash.
CREATE TABLE partition_runs (
    job                text NOT NULL,
    partition_key      text NOT NULL,
    status             text NOT NULL CHECK (status IN
                           ('missing', 'queued', 'running', 'succeeded', 'failed')),
    last_run_id        uuid,
    last_status        text,
    outcome_run_id     uuid,
    success_run_id     uuid,
    success_input_hash text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, partition_key)
);
-- Filtered pages: the rows of one status in key order.
CREATE INDEX partition_runs_status_idx ON partition_runs (job, status, partition_key);

-- Recompute the partition_runs row of (job, key) from its runs. The row is
-- locked first, so two transactions changing runs of one partition at once
-- are serialized, and the queries that follow (each with a fresh snapshot
-- under READ COMMITTED) see every run change committed before the lock.
CREATE FUNCTION scout_partition_runs_refresh(p_job text, p_key text, p_changed uuid,
                                             p_became_success boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    l   record;
    o   record;
    cur partition_runs%ROWTYPE;
    st  text;
    sid uuid;
    sh  text;
BEGIN
    INSERT INTO partition_runs (job, partition_key, status)
        VALUES (p_job, p_key, 'missing')
        ON CONFLICT (job, partition_key) DO NOTHING;
    SELECT * INTO cur FROM partition_runs
        WHERE job = p_job AND partition_key = p_key FOR UPDATE;

    SELECT id, status INTO l FROM runs
        WHERE job = p_job AND partition_key = p_key
        ORDER BY created_at DESC, id DESC LIMIT 1;
    IF NOT FOUND THEN
        DELETE FROM partition_runs WHERE job = p_job AND partition_key = p_key;
        RETURN;
    END IF;
    SELECT id, status, tags ->> 'input_hash' AS input_hash INTO o FROM runs
        WHERE job = p_job AND partition_key = p_key AND status IN ('SUCCESS', 'FAILURE')
        ORDER BY created_at DESC, id DESC LIMIT 1;

    IF l.status = 'QUEUED' THEN
        st := 'queued';
    ELSIF l.status IN ('STARTED', 'CANCELING') THEN
        st := 'running';
    ELSIF o.id IS NULL THEN
        st := 'missing';
    ELSIF o.status = 'SUCCESS' THEN
        st := 'succeeded';
    ELSE
        st := 'failed';
    END IF;

    -- The input the latest success ran with: the hash its request carried,
    -- else the partition's hash when the success was recorded (a run
    -- started by hand carries none).
    sid := cur.success_run_id;
    sh := cur.success_input_hash;
    IF o.id IS NOT NULL AND o.status = 'SUCCESS'
       AND (sid IS DISTINCT FROM o.id OR (p_became_success AND o.id = p_changed)) THEN
        sid := o.id;
        sh := o.input_hash;
        IF sh IS NULL THEN
            SELECT p.input_hash INTO sh FROM partitions p
                WHERE p.key = p_key AND p.deleted_at IS NULL
                ORDER BY p.kind LIMIT 1;
        END IF;
    END IF;

    UPDATE partition_runs SET status = st, last_run_id = l.id, last_status = l.status,
        outcome_run_id = o.id, success_run_id = sid, success_input_hash = sh,
        updated_at = now()
        WHERE job = p_job AND partition_key = p_key;
END
$$;

CREATE FUNCTION scout_partition_runs_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM scout_partition_runs_refresh(OLD.job, OLD.partition_key, OLD.id, false);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.job IS DISTINCT FROM NEW.job
                             OR OLD.partition_key IS DISTINCT FROM NEW.partition_key)
       AND OLD.partition_key IS NOT NULL THEN
        PERFORM scout_partition_runs_refresh(OLD.job, OLD.partition_key, OLD.id, false);
    END IF;
    IF NEW.partition_key IS NOT NULL THEN
        PERFORM scout_partition_runs_refresh(NEW.job, NEW.partition_key, NEW.id,
            NEW.status = 'SUCCESS' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'SUCCESS'));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER runs_partition_status_ins AFTER INSERT ON runs
    FOR EACH ROW WHEN (NEW.partition_key IS NOT NULL)
    EXECUTE FUNCTION scout_partition_runs_trigger();
CREATE TRIGGER runs_partition_status_upd AFTER UPDATE OF status, job, partition_key ON runs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.job IS DISTINCT FROM NEW.job
                       OR OLD.partition_key IS DISTINCT FROM NEW.partition_key)
    EXECUTE FUNCTION scout_partition_runs_trigger();
CREATE TRIGGER runs_partition_status_del AFTER DELETE ON runs
    FOR EACH ROW WHEN (OLD.partition_key IS NOT NULL)
    EXECUTE FUNCTION scout_partition_runs_trigger();

-- Rows for the runs that exist already.
INSERT INTO partition_runs (job, partition_key, status)
    SELECT DISTINCT job, partition_key, 'missing' FROM runs WHERE partition_key IS NOT NULL;
SELECT scout_partition_runs_refresh(job, partition_key, NULL, false) FROM partition_runs;

-- A backfill: one run per selected partition of a partitioned job, queued
-- in chunks. REQUESTED while its runs are being queued (a backfill left
-- REQUESTED by a process that died is finished by `scout backfill resume`),
-- RUNNING once every selected partition has a run, COMPLETED when every run
-- succeeded, FAILED when every run ended and some did not succeed,
-- CANCELED when cancelled (its queued runs are canceled; running ones finish).
CREATE TABLE backfills (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job                 text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('candidates', 'jobs')),
    selection           text NOT NULL CHECK (selection IN ('all', 'list', 'failed')),
    status              text NOT NULL DEFAULT 'REQUESTED' CHECK (status IN
                            ('REQUESTED', 'RUNNING', 'CANCELED', 'COMPLETED', 'FAILED')),
    num_selected        bigint NOT NULL DEFAULT 0,
    num_queued          bigint NOT NULL DEFAULT 0,  -- runs this backfill created
    num_already_pending bigint NOT NULL DEFAULT 0,  -- partitions that had a queued or running run
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    ended_at            timestamptz
);
CREATE INDEX backfills_created_idx ON backfills (created_at DESC);

-- The selected partitions of a backfill and the run each one got: the run
-- the backfill queued, or the run that was already queued or running for
-- it (pending_elsewhere). run_id is NULL until the partition is queued.
CREATE TABLE backfill_partitions (
    backfill_id       uuid NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
    partition_key     text NOT NULL,
    run_id            uuid,
    pending_elsewhere boolean NOT NULL DEFAULT false,
    PRIMARY KEY (backfill_id, partition_key)
);
CREATE INDEX backfill_partitions_unqueued_idx ON backfill_partitions (backfill_id, partition_key)
    WHERE run_id IS NULL;
