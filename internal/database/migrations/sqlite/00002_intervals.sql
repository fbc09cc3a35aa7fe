-- History intervals: one row per queue (and per agent) and interval, written
-- when the interval closes. The PostgreSQL file of the same number makes the
-- same tables; keep the two in step. Times are Unix seconds (UTC): a year of
-- 15-minute intervals for 500 queues is 17.5 million rows, and integers
-- keep them small and their keys fast.

-- +goose Up
CREATE TABLE queue_intervals (
    source          TEXT NOT NULL,
    queue           TEXT NOT NULL,
    start_unix      INTEGER NOT NULL,  -- the interval's start
    end_unix        INTEGER NOT NULL,
    offered         INTEGER NOT NULL,
    answered        INTEGER NOT NULL,
    answered_in_sl  INTEGER NOT NULL,
    abandoned       INTEGER NOT NULL,  -- short abandons included
    short_abandoned INTEGER NOT NULL,
    handled         INTEGER NOT NULL,  -- answered contacts that ended in the interval
    handle_ms       INTEGER NOT NULL,  -- their summed handle time
    max_wait_ms     INTEGER NOT NULL,
    waiting_peak    INTEGER NOT NULL,
    waiting_avg     REAL NOT NULL,     -- contacts waiting, averaged over the interval's time
    complete        INTEGER NOT NULL,  -- 1: watched from start to end by one running process
    PRIMARY KEY (source, queue, start_unix)  -- a board's day: one range per queue
) WITHOUT ROWID;
CREATE INDEX queue_intervals_start ON queue_intervals (start_unix);  -- retention, and queries over every queue

CREATE TABLE agent_intervals (
    source       TEXT NOT NULL,
    agent        TEXT NOT NULL,
    start_unix   INTEGER NOT NULL,
    end_unix     INTEGER NOT NULL,
    available_ms INTEGER NOT NULL,
    offered_ms   INTEGER NOT NULL,
    busy_ms      INTEGER NOT NULL,
    wrap_up_ms   INTEGER NOT NULL,
    not_ready_ms INTEGER NOT NULL,
    complete     INTEGER NOT NULL,
    PRIMARY KEY (source, agent, start_unix)
) WITHOUT ROWID;
CREATE INDEX agent_intervals_start ON agent_intervals (start_unix);

-- +goose Down
DROP TABLE agent_intervals;
DROP TABLE queue_intervals;
