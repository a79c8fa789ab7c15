-- GET /todos reads a user's newest N todos (ORDER BY created_at DESC, id DESC LIMIT N). With only
-- an index on user_id, Postgres fetches all of the user's todos and sorts them, and a load run
-- adds thousands of todos per session user: read latency would drift during a run and differ
-- between arms that write different numbers of todos. This index yields the newest N in order,
-- reading N entries whatever the user's total.
CREATE INDEX todos_user_id_created_at_id_idx ON todos (user_id, created_at DESC, id DESC);

-- Redundant now: the new index leads with user_id, so it also serves lookups by user_id alone,
-- including the ON DELETE CASCADE from users.
DROP INDEX todos_user_id_idx;
