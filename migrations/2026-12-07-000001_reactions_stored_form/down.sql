ALTER TABLE messages ADD COLUMN reaction_json JSON NOT NULL DEFAULT '[]'
    CONSTRAINT messages_reactions_array CHECK (json_typeof(reaction_json) = 'array');

UPDATE messages AS m
   SET reaction_json = COALESCE((
       SELECT json_agg(json_build_object('emoji', e.emoji, 'users', e.users)
                       ORDER BY e.first, e.emoji)
         FROM (SELECT r.emoji, min(r.created_at) AS first,
                      json_agg(json_build_array(r.user_id, r.user_label)
                               ORDER BY r.created_at, r.user_id) AS users
                 FROM message_reactions AS r
                WHERE r.message_id = m.id
                GROUP BY r.emoji) AS e), '[]'::json)
 WHERE m.id IN (SELECT message_id FROM message_reactions);

ALTER TABLE messages DROP COLUMN reactions;
ALTER TABLE messages RENAME COLUMN reaction_json TO reactions;
