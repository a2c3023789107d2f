-- The run queue: leases held by workers, retries with backoff, one row per
-- attempt, re-execution of a run, concurrency tags, at most one active run
-- per partition of a job, and the notification that wakes workers.
-- Applied by `scout migrate` inside one transaction; do not add BEGIN/COMMIT.
-- The functions below are called by src/store/queue.c; each does its work
-- in one round trip.

ALTER TABLE runs
    ADD COLUMN lease_owner      text,          -- token of the claim holding the run
    ADD COLUMN lease_expires_at timestamptz,   -- the reaper re-queues the run after this
    ADD COLUMN heartbeat_at     timestamptz,   -- last lease renewal
    ADD COLUMN not_before       timestamptz NOT NULL DEFAULT now(), -- retry backoff
    ADD COLUMN max_attempts     int NOT NULL DEFAULT 1 CHECK (max_attempts BETWEEN 1 AND 100),
    ADD COLUMN backfill_id      text,          -- the backfill that queued the run
    ADD COLUMN parent_run_id    uuid REFERENCES runs (id) ON DELETE SET NULL, -- re-execution of
    ADD COLUMN resume_from_step text,          -- steps before it are SKIPPED
    ADD COLUMN concurrency_tags text[] NOT NULL DEFAULT '{}'; -- job tags + request tag keys

-- Runs left STARTED by processes older than the queue hold no lease: let the
-- reaper settle them, and keep only the newest active run of a partition.
UPDATE runs SET lease_expires_at = now() WHERE status IN ('STARTED', 'CANCELING');
UPDATE runs r SET status = 'FAILURE', ended_at = now(),
       error = 'superseded by a newer run of the same partition when the run queue was installed'
 WHERE r.status IN ('QUEUED', 'STARTED') AND r.partition_key IS NOT NULL
   AND EXISTS (SELECT 1 FROM runs o WHERE o.job = r.job AND o.partition_key = r.partition_key
               AND o.status IN ('QUEUED', 'STARTED') AND (o.created_at, o.id) > (r.created_at, r.id));

-- Every run passes through QUEUED and STARTED, leaving dead entries in the
-- partial indexes below: vacuum the table often.
ALTER TABLE runs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);

-- At most one QUEUED or STARTED run per partition of a job: queue_enqueue
-- relies on this index (ON CONFLICT DO NOTHING), never on a check-then-insert.
CREATE UNIQUE INDEX runs_partition_active_idx ON runs (job, partition_key)
    WHERE status IN ('QUEUED', 'STARTED') AND partition_key IS NOT NULL;
-- The claim: QUEUED runs by priority, then age. It is the only index on
-- QUEUED runs, so the claim never sorts them (an index on not_before would
-- tempt the planner to, whenever its statistics are stale); not_before is
-- included for the "when is the next run due" scan.
CREATE INDEX runs_claim_idx ON runs (priority DESC, created_at) INCLUDE (not_before)
    WHERE status = 'QUEUED';
-- The reaper and the concurrency counts: running runs only.
CREATE INDEX runs_lease_idx ON runs (lease_expires_at) WHERE status IN ('STARTED', 'CANCELING');
CREATE INDEX runs_backfill_idx ON runs (backfill_id, status) WHERE backfill_id IS NOT NULL;
CREATE INDEX runs_parent_idx ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;

-- One row per attempt of a run: who ran it, when, and how it ended.
-- RELEASED: the worker gave the run back on shutdown; LOST: its lease expired.
CREATE TABLE run_attempts (
    id          bigserial PRIMARY KEY,
    run_id      uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    attempt     int NOT NULL,
    worker      text,
    lease_owner text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    status      text NOT NULL CHECK (status IN
                    ('STARTED', 'SUCCESS', 'FAILURE', 'CANCELED', 'RELEASED', 'LOST')),
    error       text
);
CREATE INDEX run_attempts_run_idx ON run_attempts (run_id, id);

-- The queue's own events.
ALTER TABLE run_events DROP CONSTRAINT run_events_type_check;
ALTER TABLE run_events ADD CONSTRAINT run_events_type_check CHECK (type IN (
    'RUN_START', 'RUN_SUCCESS', 'RUN_FAILURE', 'STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE',
    'MATERIALIZATION', 'LOG', 'RUN_ENQUEUED', 'RUN_RETRY', 'RUN_CANCELING', 'RUN_CANCELED',
    'RUN_RELEASED', 'STEP_SKIPPED'));

-- Wake the workers (LISTEN scout_runs) whenever a run becomes QUEUED: a new
-- run, a retry, a released or reaped run. The payload is empty so that one
-- transaction queueing many runs sends one notification.
CREATE FUNCTION scout_notify_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('scout_runs', '');
    RETURN NULL;
END
$$;

CREATE FUNCTION scout_notify_queued_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows WHERE status = 'QUEUED') THEN
        PERFORM pg_notify('scout_runs', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_insert_notify AFTER INSERT ON runs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scout_notify_queued_rows();
CREATE TRIGGER runs_requeue_notify AFTER UPDATE OF status ON runs
    FOR EACH ROW WHEN (NEW.status = 'QUEUED' AND OLD.status IS DISTINCT FROM 'QUEUED')
    EXECUTE FUNCTION scout_notify_queued();

-- Mark a run taken by a worker: STARTED under p_owner's lease, a new
-- attempt row and the RUN_START event.
CREATE FUNCTION scout_take_run(p_id uuid, p_worker text, p_owner text, p_lease_ms int)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE runs r SET status = 'STARTED', lease_owner = p_owner, worker = p_worker,
           lease_expires_at = now() + p_lease_ms * interval '1 millisecond',
           heartbeat_at = now(), started_at = now(), ended_at = NULL, error = NULL
     WHERE r.id = p_id;
    INSERT INTO run_attempts (run_id, attempt, worker, lease_owner, status)
    SELECT r.id, r.attempt, p_worker, p_owner, 'STARTED' FROM runs r WHERE r.id = p_id;
    INSERT INTO run_events (run_id, type, level, metadata)
    SELECT r.id, 'RUN_START', 'info',
           jsonb_build_object('attempt', r.attempt, 'max_attempts', r.max_attempts,
                              'worker', p_worker)
      FROM runs r WHERE r.id = p_id;
END
$$;

-- Claim one run for a worker. p_run_id NULL: the first QUEUED run that is
-- due, by priority then age, whose tags are under their limits while fewer
-- than p_max_running (0: no limit) runs are STARTED. p_run_id set: that run
-- if it is still QUEUED (a foreground run, which does not wait for limits).
--
-- Limits hold over every worker: the run is taken optimistically (row lock
-- with SKIP LOCKED, status STARTED, attempt and event rows), then, only
-- when a limit applies to it, the claim takes one transaction-level
-- advisory lock and counts the running runs again (a fresh snapshot under
-- READ COMMITTED in a VOLATILE function: every claim committed before the
-- lock, plus this one). Over a limit, the subtransaction is rolled back and
-- the next candidate is tried. The lock is held only for those counts and
-- the commit, so claims of limited runs serialize briefly and claims of
-- unlimited runs not at all.
CREATE FUNCTION scout_claim_run(p_worker text, p_owner text, p_lease_ms int,
                                p_max_running int, p_tag_limits jsonb, p_run_id uuid)
RETURNS TABLE (c_id text, c_job text, c_partition_key text, c_attempt int,
               c_max_attempts int, c_resume_from_step text, c_tags text)
LANGUAGE plpgsql VOLATILE
-- plain index scans mark the entries of ended runs dead as they pass them;
-- bitmap scans would wade through every run since the last vacuum
SET enable_bitmapscan = off
AS $$
DECLARE
    v_limits jsonb := coalesce(p_tag_limits, '{}'::jsonb);
    v_full text[] := '{}';
    v_tags text[];
    v_limited text[];
    v_id uuid;
    v_try int;
BEGIN
    IF p_run_id IS NOT NULL THEN
        v_limits := '{}'::jsonb;
        p_max_running := 0;
    ELSIF v_limits <> '{}'::jsonb THEN
        -- tags at their limit by a count without the lock: it steers the
        -- choice of candidate; the count under the lock decides
        SELECT coalesce(array_agg(l.key), '{}') INTO v_full
          FROM jsonb_each_text(v_limits) l
         WHERE (SELECT count(*) FROM runs r WHERE r.status IN ('STARTED', 'CANCELING')
                   AND r.concurrency_tags @> ARRAY[l.key]) >= l.value::int;
    END IF;
    FOR v_try IN 1..3 LOOP
        v_id := NULL;
        IF p_run_id IS NULL THEN
            SELECT r.id, r.concurrency_tags INTO v_id, v_tags FROM runs r
             WHERE r.status = 'QUEUED' AND r.not_before <= now()
               AND NOT (r.concurrency_tags && v_full)
             ORDER BY r.priority DESC, r.created_at
             LIMIT 1 FOR UPDATE SKIP LOCKED;
        ELSE
            SELECT r.id, r.concurrency_tags INTO v_id, v_tags FROM runs r
             WHERE r.id = p_run_id AND r.status = 'QUEUED' FOR UPDATE SKIP LOCKED;
        END IF;
        IF v_id IS NULL THEN
            RETURN;
        END IF;
        SELECT coalesce(array_agg(k), '{}') INTO v_limited
          FROM jsonb_object_keys(v_limits) k WHERE k = ANY (v_tags);
        IF p_max_running > 0 OR cardinality(v_limited) > 0 THEN
            BEGIN
                PERFORM scout_take_run(v_id, p_worker, p_owner, p_lease_ms);
                PERFORM pg_advisory_xact_lock(7364528301);
                IF p_max_running > 0 AND (SELECT count(*) FROM runs r
                        WHERE r.status IN ('STARTED', 'CANCELING')) > p_max_running THEN
                    RAISE EXCEPTION USING ERRCODE = 'SQ001', MESSAGE = 'global limit';
                END IF;
                IF EXISTS (SELECT 1 FROM jsonb_each_text(v_limits) l
                            WHERE l.key = ANY (v_limited)
                              AND (SELECT count(*) FROM runs r
                                    WHERE r.status IN ('STARTED', 'CANCELING')
                                      AND r.concurrency_tags @> ARRAY[l.key]) > l.value::int) THEN
                    RAISE EXCEPTION USING ERRCODE = 'SQ002', MESSAGE = 'tag limit';
                END IF;
            EXCEPTION
                WHEN SQLSTATE 'SQ001' THEN
                    RETURN;
                WHEN SQLSTATE 'SQ002' THEN
                    v_full := v_full || v_limited;
                    CONTINUE;
            END;
        ELSE
            -- no limit applies: no lock and no subtransaction
            PERFORM scout_take_run(v_id, p_worker, p_owner, p_lease_ms);
        END IF;
        RETURN QUERY SELECT r.id::text, r.job, r.partition_key, r.attempt, r.max_attempts,
                            r.resume_from_step, r.tags::text
                       FROM runs r WHERE r.id = v_id;
        RETURN;
    END LOOP;
END
$$;

-- Record how an attempt ended, only while p_owner holds the lease. FAILURE
-- with attempts left (and p_retry_ms not NULL) re-queues the run after
-- p_retry_ms; a CANCELING run ends CANCELED unless every step succeeded.
-- p_step (NULL: none) is the last step's end, recorded first (run_steps and
-- its STEP_<p_step_status> event) so a run's end costs one round trip.
-- Returns the run's new status, or NULL when the lease is no longer held
-- (the reaper took the run back: this attempt must not record anything).
CREATE FUNCTION scout_finish_run(p_id uuid, p_owner text, p_status text, p_error text,
                                 p_retry_ms int, p_metadata jsonb, p_step text,
                                 p_step_status text, p_step_message text, p_step_metadata jsonb)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_old text;
    v_attempt int;
    v_max int;
    v_new text;
    v_meta jsonb := coalesce(p_metadata, '{}'::jsonb);
BEGIN
    SELECT r.status, r.attempt, r.max_attempts INTO v_old, v_attempt, v_max
      FROM runs r WHERE r.id = p_id AND r.lease_owner = p_owner FOR UPDATE;
    IF NOT FOUND OR v_old NOT IN ('STARTED', 'CANCELING') THEN
        RETURN NULL;
    END IF;
    IF p_step IS NOT NULL THEN
        INSERT INTO run_steps (run_id, step, status, ended_at, error)
        VALUES (p_id, p_step, p_step_status, now(),
                CASE p_step_status WHEN 'FAILURE' THEN p_step_message END)
        ON CONFLICT (run_id, step) DO UPDATE SET status = EXCLUDED.status, ended_at = now(),
               error = EXCLUDED.error;
        INSERT INTO run_events (run_id, type, step, level, message, metadata)
        VALUES (p_id, 'STEP_' || p_step_status, p_step,
                CASE p_step_status WHEN 'FAILURE' THEN 'error' ELSE 'info' END,
                p_step_message, p_step_metadata);
    END IF;
    v_new := CASE
        WHEN v_old = 'CANCELING' AND p_status <> 'SUCCESS' THEN 'CANCELED'
        WHEN p_status = 'FAILURE' AND p_retry_ms IS NOT NULL AND v_attempt < v_max THEN 'QUEUED'
        ELSE p_status END;
    v_meta := v_meta || jsonb_build_object('attempt', v_attempt, 'max_attempts', v_max);
    IF v_new = 'QUEUED' THEN
        UPDATE runs r SET status = 'QUEUED', attempt = r.attempt + 1,
               not_before = now() + p_retry_ms * interval '1 millisecond',
               lease_owner = NULL, lease_expires_at = NULL, error = p_error,
               started_at = NULL, ended_at = NULL
         WHERE r.id = p_id;
        v_meta := v_meta || jsonb_build_object('retry_in_ms', p_retry_ms);
        INSERT INTO run_events (run_id, type, level, message, metadata)
        VALUES (p_id, 'RUN_RETRY', 'warn',
                format('attempt %s of %s failed, attempt %s queued: %s', v_attempt, v_max,
                       v_attempt + 1, p_error), v_meta);
    ELSE
        UPDATE runs r SET status = v_new, ended_at = now(), error = p_error,
               lease_owner = NULL, lease_expires_at = NULL
         WHERE r.id = p_id;
        INSERT INTO run_events (run_id, type, level, message, metadata)
        VALUES (p_id, CASE v_new WHEN 'SUCCESS' THEN 'RUN_SUCCESS'
                                 WHEN 'CANCELED' THEN 'RUN_CANCELED' ELSE 'RUN_FAILURE' END,
                CASE v_new WHEN 'FAILURE' THEN 'error' ELSE 'info' END,
                CASE WHEN v_new = 'FAILURE' AND v_max > 1
                     THEN format('attempt %s of %s failed, no attempts left: %s', v_attempt,
                                 v_max, p_error)
                     ELSE p_error END, v_meta);
    END IF;
    UPDATE run_attempts a SET status = CASE v_new WHEN 'QUEUED' THEN 'FAILURE' ELSE v_new END,
           ended_at = now(), error = p_error
     WHERE a.run_id = p_id AND a.lease_owner = p_owner;
    RETURN v_new;
END
$$;

-- Give a run back on shutdown: STARTED -> QUEUED for another worker without
-- spending an attempt (CANCELING -> CANCELED). NULL when p_owner lost it.
CREATE FUNCTION scout_release_run(p_id uuid, p_owner text, p_reason text)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_old text;
    v_new text;
BEGIN
    SELECT r.status INTO v_old FROM runs r
     WHERE r.id = p_id AND r.lease_owner = p_owner FOR UPDATE;
    IF NOT FOUND OR v_old NOT IN ('STARTED', 'CANCELING') THEN
        RETURN NULL;
    END IF;
    v_new := CASE v_old WHEN 'CANCELING' THEN 'CANCELED' ELSE 'QUEUED' END;
    UPDATE runs r SET status = v_new, lease_owner = NULL, lease_expires_at = NULL,
           not_before = now(),
           started_at = CASE v_new WHEN 'QUEUED' THEN NULL ELSE r.started_at END,
           ended_at = CASE v_new WHEN 'CANCELED' THEN now() END
     WHERE r.id = p_id;
    UPDATE run_attempts a SET status = CASE v_new WHEN 'QUEUED' THEN 'RELEASED' ELSE v_new END,
           ended_at = now(), error = p_reason
     WHERE a.run_id = p_id AND a.lease_owner = p_owner;
    INSERT INTO run_events (run_id, type, level, message)
    VALUES (p_id, CASE v_new WHEN 'QUEUED' THEN 'RUN_RELEASED' ELSE 'RUN_CANCELED' END,
            'warn', p_reason);
    RETURN v_new;
END
$$;

-- Settle runs whose lease expired (their worker died or hung): another
-- attempt when attempts are left, else FAILURE; CANCELING ones end CANCELED.
-- At most p_limit runs per call; returns what happened to each.
CREATE FUNCTION scout_reap_runs(p_limit int)
RETURNS TABLE (c_id text, c_status text, c_owner text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v record;
    v_new text;
    v_msg text;
BEGIN
    FOR v IN SELECT r.id, r.status, r.attempt, r.max_attempts, r.lease_owner, r.worker
               FROM runs r
              WHERE r.status IN ('STARTED', 'CANCELING') AND r.lease_expires_at < now()
              ORDER BY r.lease_expires_at
              LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
        v_new := CASE WHEN v.status = 'CANCELING' THEN 'CANCELED'
                      WHEN v.attempt < v.max_attempts THEN 'QUEUED' ELSE 'FAILURE' END;
        v_msg := format('the lease of worker ''%s'' expired (the worker died or hung) during attempt %s of %s',
                        coalesce(v.worker, '?'), v.attempt, v.max_attempts);
        IF v_new = 'QUEUED' THEN
            UPDATE runs r SET status = 'QUEUED', attempt = r.attempt + 1, not_before = now(),
                   lease_owner = NULL, lease_expires_at = NULL, error = v_msg,
                   started_at = NULL, ended_at = NULL
             WHERE r.id = v.id;
            INSERT INTO run_events (run_id, type, level, message, metadata)
            VALUES (v.id, 'RUN_RETRY', 'warn', v_msg || format(', attempt %s queued', v.attempt + 1),
                    jsonb_build_object('attempt', v.attempt, 'max_attempts', v.max_attempts,
                                       'reason', 'lease_expired'));
        ELSE
            UPDATE runs r SET status = v_new, ended_at = now(),
                   error = CASE v_new WHEN 'FAILURE' THEN v_msg || ', no attempts left'
                                      ELSE r.error END,
                   lease_owner = NULL, lease_expires_at = NULL
             WHERE r.id = v.id;
            INSERT INTO run_events (run_id, type, level, message, metadata)
            VALUES (v.id, CASE v_new WHEN 'FAILURE' THEN 'RUN_FAILURE' ELSE 'RUN_CANCELED' END,
                    CASE v_new WHEN 'FAILURE' THEN 'error' ELSE 'warn' END,
                    v_msg || CASE v_new WHEN 'FAILURE' THEN ', no attempts left' ELSE '' END,
                    jsonb_build_object('attempt', v.attempt, 'max_attempts', v.max_attempts,
                                       'reason', 'lease_expired'));
        END IF;
        UPDATE run_attempts a SET status = 'LOST', ended_at = now(), error = v_msg
         WHERE a.run_id = v.id AND a.lease_owner = v.lease_owner;
        c_id := v.id::text;
        c_status := v_new;
        c_owner := v.lease_owner;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Cancel: QUEUED -> CANCELED at once, STARTED -> CANCELING (the worker stops
-- between steps). Returns the status before and after; NULL row values when
-- the run does not exist.
CREATE FUNCTION scout_cancel_run(p_id uuid, p_reason text)
RETURNS TABLE (c_old text, c_new text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_old text;
    v_new text;
BEGIN
    SELECT r.status INTO v_old FROM runs r WHERE r.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_new := CASE v_old WHEN 'QUEUED' THEN 'CANCELED' WHEN 'STARTED' THEN 'CANCELING'
                        ELSE v_old END;
    IF v_new IS DISTINCT FROM v_old THEN
        UPDATE runs r SET status = v_new,
               ended_at = CASE v_new WHEN 'CANCELED' THEN now() ELSE r.ended_at END,
               error = CASE v_new WHEN 'CANCELED' THEN p_reason ELSE r.error END
         WHERE r.id = p_id;
        INSERT INTO run_events (run_id, type, level, message)
        VALUES (p_id, CASE v_new WHEN 'CANCELED' THEN 'RUN_CANCELED' ELSE 'RUN_CANCELING' END,
                'warn', p_reason);
    END IF;
    c_old := v_old;
    c_new := v_new;
    RETURN NEXT;
END
$$;
