-- Sensors: their state (enabled flag, cursor, schedule), the history of
-- their ticks, the requests a tick could not queue yet, and the leases
-- that let one process at a time lead (the sensor loop's leader lease).
-- Applied by `scout migrate` inside one transaction; do not add BEGIN/COMMIT.

-- One row per sensor, created on first use with the definition's default.
-- `version` counts committed ticks: a tick commits only when the version
-- it started from is still current, so a sensor never ticks twice for one
-- due time, whatever the processes racing for it.
CREATE TABLE sensor_state (
    name         text PRIMARY KEY,
    enabled      boolean NOT NULL,
    cursor       text,
    version      bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    last_tick_at timestamptz,   -- start of the last committed tick (database clock)
    next_tick_at timestamptz    -- when it is due again (last tick + interval)
);

-- The tick history. A tick is SKIPPED (nothing new; reason says why),
-- SUCCESS (runs requested) or FAILURE (error says why; cursor unchanged).
CREATE TABLE sensor_ticks (
    id            bigserial PRIMARY KEY,
    sensor        text NOT NULL,
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    status        text NOT NULL CHECK (status IN ('SKIPPED', 'SUCCESS', 'FAILURE')),
    reason        text,
    error         text,
    cursor_before text,
    cursor_after  text,
    requested     int NOT NULL DEFAULT 0,     -- requests the evaluation returned
    run_ids       text[] NOT NULL DEFAULT '{}', -- runs this tick created
    run_count     int NOT NULL DEFAULT 0,
    holder        text,                       -- the process that ticked
    metadata      jsonb NOT NULL DEFAULT '{}' -- records listed, Airtable requests, ...
);
CREATE INDEX sensor_ticks_sensor_idx ON sensor_ticks (sensor, id DESC);

-- Requests that met a QUEUED or STARTED run of the same partition with
-- another run key (the record changed again while its run waited or ran):
-- kept here and queued by the sensor's next ticks, so no edit is lost.
-- A newer request for the same partition replaces an older one.
CREATE TABLE sensor_pending (
    sensor        text NOT NULL,
    job           text NOT NULL,
    partition_key text NOT NULL,
    run_key       text,
    tags          jsonb NOT NULL DEFAULT '{}',
    priority      int NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sensor, job, partition_key)
);

-- Named leases (the sensor leader, ...): held by `holder` until expires_at,
-- renewed by the holder, taken over by anyone once expired. Times come
-- from the database clock only.
CREATE TABLE leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL
);
