-- The first schema: what people make in the UI or the API. The PostgreSQL
-- file of the same number makes the same tables; keep the two in step.
-- Times are UTC; a NULL *_at means "not" (not revoked, not disabled).

-- +goose Up
CREATE TABLE boards (
    id         TEXT PRIMARY KEY,
    document   TEXT NOT NULL,          -- the board as JSON, with the configuration file's keys
    version    INTEGER NOT NULL,       -- raised by every change
    created_at DATETIME NOT NULL,
    created_by TEXT NOT NULL,
    updated_at DATETIME NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE kiosk_links (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    board_id       TEXT NOT NULL,      -- a board of the file or of this database
    name           TEXT NOT NULL,
    token_sha256   TEXT NOT NULL UNIQUE, -- hex SHA-256 of the token; the token itself is never stored
    created_at     DATETIME NOT NULL,
    created_by     TEXT NOT NULL,
    last_seen_at   DATETIME,
    last_seen_from TEXT NOT NULL DEFAULT '',
    revoked_at     DATETIME,
    revoked_by     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX kiosk_links_board_name ON kiosk_links (board_id, name) WHERE revoked_at IS NULL;

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,       -- bcrypt
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'supervisor', 'admin')),
    disabled_at   DATETIME,
    version       INTEGER NOT NULL,
    created_at    DATETIME NOT NULL,
    created_by    TEXT NOT NULL,
    updated_at    DATETIME NOT NULL,
    updated_by    TEXT NOT NULL
);

-- The boards a user may see (besides boards open to every signed-in user).
CREATE TABLE user_boards (
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    board_id  TEXT NOT NULL,
    PRIMARY KEY (user_name, board_id)
);

-- alexedwards/scs sessions.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry DATETIME NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

CREATE TABLE tickers (
    board_id   TEXT PRIMARY KEY,
    message    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at DATETIME NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE queue_settings (
    source     TEXT NOT NULL,          -- '' = the queue of that id or name in any source
    queue      TEXT NOT NULL,
    document   TEXT NOT NULL,          -- JSON, with the file's queue_settings keys
    version    INTEGER NOT NULL,
    updated_at DATETIME NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (source, queue)
);

CREATE TABLE alarm_webhooks (
    name       TEXT PRIMARY KEY,
    document   TEXT NOT NULL,          -- JSON, with the file's alerts.webhook keys
    version    INTEGER NOT NULL,
    created_at DATETIME NOT NULL,
    created_by TEXT NOT NULL,
    updated_at DATETIME NOT NULL,
    updated_by TEXT NOT NULL
);

-- Every change above, written in the same transaction as the change.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          DATETIME NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,         -- board.create, link.revoke, …
    target      TEXT NOT NULL,         -- board:floor, link:floor/reception-tv, …
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE alarm_webhooks;
DROP TABLE queue_settings;
DROP TABLE tickers;
DROP TABLE sessions;
DROP TABLE user_boards;
DROP TABLE users;
DROP TABLE kiosk_links;
DROP TABLE boards;
