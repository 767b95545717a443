"""Users, credentials and sessions: who may use a project, stored hashed."""
