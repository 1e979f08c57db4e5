"""What any input may hold, the same for every way in: the HTTP API, the websockets and the imports.

PostgreSQL's text refuses a NUL character, no UTF-8 encoder sends a lone UTF-16 surrogate back, and
JSON has no NaN or infinity (Python's parser reads `NaN`, `Infinity` and `1e999` all the same). Every
id, sequence number and version column is a 32-bit INTEGER on PostgreSQL (app/migrations/versions),
so a larger number would fail in the query rather than find nothing. docs/architecture.md, "Limits",
lists the rest.
"""

from typing import Annotated

from pydantic import Field

# What a PostgreSQL INTEGER holds, and so every id, seq and version a client names.
MAX_INT32 = 2**31 - 1

# A feed or message sequence number a client resumes after.
Seq = Annotated[int, Field(ge=0, le=MAX_INT32)]
# The same in a websocket frame: a JSON integer, not true or "41".
StrictSeq = Annotated[Seq, Field(strict=True)]
# A row's id a client names: an offer, a person, a message, a question, an outbox item.
RowId = Annotated[int, Field(ge=1, le=MAX_INT32)]
# An article's version number.
VersionNumber = Annotated[int, Field(ge=1, le=MAX_INT32)]

Location = tuple[int | str, ...]


def dotted(location: Location) -> str:
    """A location as the field's name: `questions.3`, `skills.billing`."""
    return ".".join(map(str, location))
