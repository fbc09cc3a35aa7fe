-- History intervals: one row per queue (and per agent) and interval, written
-- when the interval closes. The SQLite file of the same number makes the
-- same tables; keep the two in step. Times are Unix seconds (UTC): a year of
-- 15-minute intervals for 500 queues is 17.5 million rows, and integers
-- keep them small and their keys fast.

-- +goose Up
CREATE TABLE queue_intervals (
    source          TEXT NOT NULL,
    queue           TEXT NOT NULL,
    start_unix      BIGINT NOT NULL,  -- the interval's start
    end_unix        BIGINT NOT NULL,
    offered         INTEGER NOT NULL,
    answered        INTEGER NOT NULL,
    answered_in_sl  INTEGER NOT NULL,
    abandoned       INTEGER NOT NULL,  -- short abandons included
    short_abandoned INTEGER NOT NULL,
    handled         INTEGER NOT NULL,  -- answered contacts that ended in the interval
    handle_ms       BIGINT NOT NULL,  -- their summed handle time
    max_wait_ms     BIGINT NOT NULL,
    waiting_peak    INTEGER NOT NULL,
    waiting_avg     DOUBLE PRECISION NOT NULL, -- contacts waiting, averaged over the interval's time
    complete        BOOLEAN NOT NULL, -- true: watched from start to end by one running process
    PRIMARY KEY (source, queue, start_unix)  -- a board's day: one range per queue
);
CREATE INDEX queue_intervals_start ON queue_intervals (start_unix);  -- retention, and queries over every queue

CREATE TABLE agent_intervals (
    source       TEXT NOT NULL,
    agent        TEXT NOT NULL,
    start_unix   BIGINT NOT NULL,
    end_unix     BIGINT NOT NULL,
    available_ms BIGINT NOT NULL,
    offered_ms   BIGINT NOT NULL,
    busy_ms      BIGINT NOT NULL,
    wrap_up_ms   BIGINT NOT NULL,
    not_ready_ms BIGINT NOT NULL,
    complete     BOOLEAN NOT NULL,
    PRIMARY KEY (source, agent, start_unix)
);
CREATE INDEX agent_intervals_start ON agent_intervals (start_unix);

-- +goose Down
DROP TABLE agent_intervals;
DROP TABLE queue_intervals;
