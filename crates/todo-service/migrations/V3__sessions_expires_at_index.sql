-- The session sweeper deletes expired sessions in small batches
-- (DELETE ... WHERE id IN (SELECT id FROM sessions WHERE expires_at <= now() LIMIT n)).
-- Without this index each batch scans the whole table, which only grows between sweeps.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
