"""What any input may hold, the same for every way in: the HTTP API, the websockets and the imports.

PostgreSQL's text refuses a NUL character, no UTF-8 encoder sends a lone UTF-16 surrogate back, and
JSON has no NaN or infinity (Python's parser reads `NaN`, `Infinity` and `1e999` all the same). Every
id, sequence number and version column is a 32-bit INTEGER on PostgreSQL (app/migrations/versions),
so a larger number would fail in the query rather than find nothing. docs/architecture.md, "Limits",
lists the rest.
"""

Location = tuple[int | str, ...]


def dotted(location: Location) -> str:
    """A location as the field's name: `questions.3`, `skills.billing`."""
    return ".".join(map(str, location))
