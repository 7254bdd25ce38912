-- Time-ordered UUIDs (version 7, RFC 9562) for the rows every send writes: messages, webhook
-- events and deliveries (an attachment's UUID is its upload's, made by the server). A random
-- UUID (version 4) puts each new row's key on a random leaf page of the table's UUID index:
-- once that index outgrows the buffer cache, a send reads a page and, after each checkpoint,
-- writes a whole page image to the WAL for it, and the cost grows with the history. A version 7 UUID starts with the
-- time in milliseconds, so new keys go to the index's right edge, as a serial id does.
-- The other 74 bits are random, as before: a UUID still cannot be guessed.
--
-- PostgreSQL 15 has no uuidv7(): this takes a random UUID, overlays the 48-bit Unix time
-- in milliseconds on its first six bytes, and turns its version nibble from 4 (0100) into
-- 7 (0111) by setting bits 52 and 53; the variant bits stay as gen_random_uuid() set them.
CREATE FUNCTION chat_uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(
            set_bit(
                overlay(uuid_send(gen_random_uuid())
                        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp())
                                                         * 1000)::bigint) FROM 3)
                        FROM 1 FOR 6),
                52, 1),
            53, 1),
        'hex')::uuid
$$;

ALTER TABLE messages ALTER COLUMN uuid SET DEFAULT chat_uuid_v7();
ALTER TABLE webhook_events ALTER COLUMN uuid SET DEFAULT chat_uuid_v7();
ALTER TABLE webhook_deliveries ALTER COLUMN uuid SET DEFAULT chat_uuid_v7();
