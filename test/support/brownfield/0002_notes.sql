-- Migration number: 0002 	 2026-07-15T09:30:00.000Z
CREATE TABLE notes (
  id integer PRIMARY KEY AUTOINCREMENT,
  project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  body text DEFAULT 'draft; unsaved' NOT NULL
);
CREATE TRIGGER notes_body_trimmed AFTER INSERT ON notes BEGIN
  UPDATE notes SET body = trim(body) WHERE id = new.id;
END;
