-- Migration number: 0001 	 2026-06-01T10:00:00.000Z
CREATE TABLE projects (
  id text PRIMARY KEY NOT NULL,
  owner_id text NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
  name text NOT NULL,
  created_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
CREATE INDEX projects_owner_idx ON projects (owner_id);
