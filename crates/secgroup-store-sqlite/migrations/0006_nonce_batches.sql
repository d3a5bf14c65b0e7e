-- Version 6: nonces persisted as one append-only row per flush of the in-memory cache
-- (see nonces.rs). Number 5 is left to another change (NIS tables); migrations apply by
-- version, so either order of applying 5 and 6 works.
--
-- One random-key upsert per nonce into `nonces` made every request dirty its own B-tree
-- pages; a batch row is written at the end of the table and deleted whole once all its
-- nonces have expired. `nonces` stays for `Tx::claim_nonce` (the durable per-claim path)
-- and for rows written before this version; both tables are loaded at start.

-- The key of the nonces' 128-bit fingerprints (SipHash-1-3 of access key id and nonce).
-- Random per database, from SQLite's OS-seeded generator, so fingerprints stay comparable
-- across restarts yet collisions cannot be aimed at without the file.
CREATE TABLE nonce_key (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    key  BLOB    NOT NULL CHECK (length(key) = 16)
);
INSERT INTO nonce_key (id, key) VALUES (1, randomblob(16));

CREATE TABLE nonce_batches (
    -- Append order (rowid).
    id          INTEGER NOT NULL PRIMARY KEY,
    -- The latest expiry of its nonces (unix microseconds): the row goes once it has passed.
    expires_at  INTEGER NOT NULL,
    -- 24 bytes per nonce: the fingerprint's two words, then its expiry (unix microseconds),
    -- each a little-endian 64-bit integer.
    nonces      BLOB    NOT NULL CHECK (length(nonces) % 24 = 0)
);

CREATE INDEX nonce_batches_expiry ON nonce_batches (expires_at);
