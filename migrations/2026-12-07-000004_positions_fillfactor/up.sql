-- A membership's row is rewritten every time its member is delivered or reads a
-- message, and a room's every time a message is sent to it. None of those columns is
-- indexed, so the new version can stay on the same page (a HOT update: no index entry,
-- and the old version is pruned by the next reader, without VACUUM) when the page has
-- room for it. Full pages make each such update an index insertion in every index of
-- the table instead: leave room. Applies to pages written from now on (VACUUM FULL
-- rewrites existing ones).
ALTER TABLE room_members SET (fillfactor = 70);
ALTER TABLE rooms SET (fillfactor = 80);
