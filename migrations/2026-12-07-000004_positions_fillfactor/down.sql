ALTER TABLE room_members RESET (fillfactor);
ALTER TABLE rooms RESET (fillfactor);
