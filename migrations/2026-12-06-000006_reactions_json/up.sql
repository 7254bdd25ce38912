-- The reaction summary as `json`, not `jsonb`: it is only ever written whole (rebuilt from
-- message_reactions) and read whole, and PostgreSQL sends a `jsonb` value by printing it
-- again as text (about 3 µs a message, 150 µs a page of 50 with reactions), while a `json`
-- value is sent as stored (docs/benchmarks/findings.md).
ALTER TABLE messages
    DROP CONSTRAINT messages_reactions_array,
    ALTER COLUMN reactions DROP DEFAULT,
    ALTER COLUMN reactions TYPE JSON USING reactions::json,
    ALTER COLUMN reactions SET DEFAULT '[]',
    ADD CONSTRAINT messages_reactions_array CHECK (json_typeof(reactions) = 'array');
