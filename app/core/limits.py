"""What any input may hold, checked the same way by the HTTP API (app/api/deps.storable_input) and the
websockets (app/api/frames.py); the webhooks clean such input instead (app/social/payloads.py).

PostgreSQL's text refuses a NUL character, no UTF-8 encoder sends a lone UTF-16 surrogate back, and
JSON has no NaN or infinity (Python's parser reads `NaN`, `Infinity` and `1e999` all the same). Every
id, sequence number and version column is a 32-bit INTEGER on PostgreSQL (app/migrations/versions),
so a larger number would fail in the query rather than find nothing. docs/architecture.md, "Limits",
lists the rest.
"""

import math
from typing import Annotated, Any

from pydantic import Field, StringConstraints

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
# A message's text (the web chat's, an agent's reply or note, a canned response), after trimming.
MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# Chosen by a client; sending it again in the same conversation returns the first message.
ClientMessageId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]

Location = tuple[int | str, ...]


def unstorable(data: Any) -> tuple[Location, str] | None:
    """Where in `data` (parsed JSON, keys included) the first string that holds a NUL or a lone
    surrogate, or the first number that is not finite, is, and what is wrong with it; None if
    nothing is. A loop rather than recursion: the parser allowed the nesting, this must too."""
    pending: list[tuple[Location, Any]] = [((), data)]
    while pending:
        location, value = pending.pop()
        if isinstance(value, dict):
            for key, inner in value.items():
                problem = _text_problem(key)
                if problem:  # the location stops short of a name that cannot be sent back
                    return location, f"a name in it {problem}"
                pending.append(((*location, key), inner))
        elif isinstance(value, list):
            pending.extend(((*location, index), inner) for index, inner in enumerate(value))
        elif isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return location, f"the text {problem}"
        elif isinstance(value, float) and not math.isfinite(value):
            return location, "a number JSON cannot hold (NaN, Infinity, or too large for a float)"
    return None


def dotted(location: Location) -> str:
    """A location as the field's name: `questions.3`, `skills.billing`."""
    return ".".join(map(str, location))


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character (\\u0000), which cannot be stored"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "holds a lone UTF-16 surrogate, which is no character"
    return None
