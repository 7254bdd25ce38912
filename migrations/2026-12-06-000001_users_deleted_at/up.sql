-- A deleted user (`DELETE /api/v1/accounts/{account_id}/agents/{id}`) keeps its row, so
-- that its messages keep their sender (messages_account_id_sender_user_id_fkey), but is
-- found by no look-up: its credentials and memberships are deleted with it, and its email
-- and external id are cleared so that a new user may take them. Expand only: a nullable
-- column without a default is a catalog change, no table rewrite.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMPTZ NULL;
