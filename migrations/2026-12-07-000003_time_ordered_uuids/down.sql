ALTER TABLE webhook_deliveries ALTER COLUMN uuid SET DEFAULT gen_random_uuid();
ALTER TABLE webhook_events ALTER COLUMN uuid SET DEFAULT gen_random_uuid();
ALTER TABLE messages ALTER COLUMN uuid SET DEFAULT gen_random_uuid();
DROP FUNCTION chat_uuid_v7();
