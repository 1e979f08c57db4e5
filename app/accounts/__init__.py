"""People signing in to the web consoles: passwords, sessions, and who may do what."""
