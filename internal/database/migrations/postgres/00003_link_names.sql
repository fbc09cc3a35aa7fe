-- A TV link made in the UI or the API shows agents' names in full, as
-- initials or not at all, as a link in the file does with kiosk: names.
-- The SQLite file of the same number does the same.

-- +goose Up
ALTER TABLE kiosk_links ADD COLUMN names TEXT NOT NULL DEFAULT 'full' CHECK (names IN ('full', 'initials', 'none'));

-- +goose Down
ALTER TABLE kiosk_links DROP COLUMN names;
