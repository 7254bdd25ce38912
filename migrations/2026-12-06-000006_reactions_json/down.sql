ALTER TABLE messages
    DROP CONSTRAINT messages_reactions_array,
    ALTER COLUMN reactions DROP DEFAULT,
    ALTER COLUMN reactions TYPE JSONB USING reactions::jsonb,
    ALTER COLUMN reactions SET DEFAULT '[]',
    ADD CONSTRAINT messages_reactions_array CHECK (jsonb_typeof(reactions) = 'array');
