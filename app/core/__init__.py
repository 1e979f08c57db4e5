"""What every domain of app/ stands on: settings, database sessions, logging, errors, limits and the
values all of them share. Imports nothing else of app/."""
