-- Reverts 0002_notes (kept outside wrangler's <dir>/*.sql pattern).
DROP TRIGGER notes_body_trimmed;
DROP TABLE notes;
