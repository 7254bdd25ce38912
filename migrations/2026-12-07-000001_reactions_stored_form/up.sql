-- The reaction summary in the stored form of chat_domain::Reactions (text), not JSON: one
-- line per emoji in order of first use, the emoji then, for each user oldest first, a tab,
-- the user's id, a unit separator (U+001F) and the user's label; each line ends with a
-- newline; no reactions is ''. Emoji and labels have no control characters, so nothing is
-- escaped. A page of 50 messages with reactions is read by checking each summary in one
-- pass and kept as it is, where JSON had to be parsed into the domain's value
-- (docs/benchmarks/findings.md, "The reactions row, in the domain's stored form").
--
-- A new column (added with a constant default: no rewrite) filled for the messages that
-- have reactions, from message_reactions, the reactions' rows.
ALTER TABLE messages ADD COLUMN reaction_lines TEXT NOT NULL DEFAULT '';

UPDATE messages AS m
   SET reaction_lines = COALESCE((
       SELECT string_agg(e.emoji || e.users || E'\n', '' ORDER BY e.first, e.emoji)
         FROM (SELECT r.emoji, min(r.created_at) AS first,
                      string_agg(E'\t' || r.user_id || E'\x1f' || r.user_label, ''
                                 ORDER BY r.created_at, r.user_id) AS users
                 FROM message_reactions AS r
                WHERE r.message_id = m.id
                GROUP BY r.emoji) AS e), '')
 WHERE m.id IN (SELECT message_id FROM message_reactions);

ALTER TABLE messages DROP COLUMN reactions;
ALTER TABLE messages RENAME COLUMN reaction_lines TO reactions;
