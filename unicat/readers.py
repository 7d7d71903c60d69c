"""What readers add to the catalogue: comments, ratings, tags, reports of comments, the moderation log,
and reading lists.

All of it is attached to the **union id** a reader saw, and kept apart from the union index, so that
``unicat index`` (which rebuilds the index) never touches it. When a record is merged into another,
its old id redirects to the new one (:mod:`indexer.ids`), and what readers wrote on the old id shows
on the record it now lives in (:func:`search_app.readers.record_aliases.aliases`); when a split is
undone and the old id lives again, its comments go back with it, because they never moved.

Every value a person types is checked here with a message that says what is wrong, so the web forms,
the JSON API and any script refuse alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from unicat.accounts import User
from unicat.errors import BadParameter, choice_of

MAX_COMMENT = 4_000
MAX_TAG = 40
MAX_TAGS_PER_RECORD = 20
"""Tags one reader may put on one record."""
MAX_REASON = 500
MAX_LIST_NAME = 120
MAX_LIST_DESCRIPTION = 1_000
MAX_LIST_ENTRIES = 5_000
STARS = (1, 2, 3, 4, 5)
FORMER_READER = "a former reader"
"""Who wrote what an account no longer there wrote (its comments and lists stay)."""

ModerationVerb = Literal["hide", "restore", "dismiss"]
MODERATION_VERBS: tuple[ModerationVerb, ...] = get_args(ModerationVerb)
"""``hide`` takes a comment off the record page, ``restore`` puts it back, ``dismiss`` closes its
reports and leaves it shown."""

# Control characters other than line feed and tab (a pasted comment keeps its paragraphs).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Comment:
    """A reader's comment on a union record, plain text (pages escape it; nothing in it is markup).

    ``record`` is the union id it was written on; ``hidden`` is set by a librarian, with the reason
    its author sees."""

    record: str
    user_id: int
    body: str
    id: int | None = None
    created: str = ""
    edited: str | None = None
    hidden: bool = False
    hidden_reason: str | None = None

    def with_changes(self, **changes: Any) -> Comment:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "record": self.record,
            "user_id": self.user_id,
            "body": self.body,
            "created": self.created,
            "edited": self.edited,
            "hidden": self.hidden,
            "hidden_reason": self.hidden_reason,
        }


@dataclass(frozen=True, slots=True)
class Rating:
    """One reader's stars (1–5) for one union record; a reader has one rating per record."""

    record: str
    user_id: int
    stars: int
    at: str = ""


@dataclass(frozen=True, slots=True)
class Tag:
    """One reader's tag on one union record (normalised by :func:`normalise_tag`)."""

    record: str
    user_id: int
    tag: str
    at: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    """A reader's report that a comment breaks the rules; open until a librarian acts on the comment
    (``resolution`` is then the id of that :class:`ModerationAction`). A reader reports a comment once."""

    comment_id: int
    user_id: int
    reason: str = ""
    id: int | None = None
    created: str = ""
    resolution: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "comment_id": self.comment_id,
            "user_id": self.user_id,
            "reason": self.reason,
            "created": self.created,
            "resolution": self.resolution,
        }


@dataclass(frozen=True, slots=True)
class ModerationAction:
    """One entry of the moderation log: who did what to which comment, when and why."""

    comment_id: int
    verb: ModerationVerb
    reason: str
    user_id: int
    id: int | None = None
    at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "comment_id": self.comment_id,
            "verb": self.verb,
            "reason": self.reason,
            "user_id": self.user_id,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class ReadingList:
    """A reader's list of records; a public one can be read by anyone at its permalink."""

    user_id: int
    name: str
    description: str = ""
    public: bool = False
    id: int | None = None
    created: str = ""
    updated: str = ""

    def with_changes(self, **changes: Any) -> ReadingList:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "name": self.name,
            "description": self.description,
            "public": self.public,
            "created": self.created,
            "updated": self.updated,
        }


@dataclass(frozen=True, slots=True)
class ListEntry:
    """A union record on a list, with when it was added (a list shows its newest additions first)."""

    list_id: int
    record: str
    added: str = ""


# -- checking what people type ----------------------------------------------------------------------
def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text).strip()


def check_comment(raw: str, field: str = "body") -> str:
    """A comment's text: trimmed, 1 to 4,000 characters, control characters dropped (lines kept)."""
    text = _clean(raw)
    if not text:
        raise BadParameter(field, "write something: an empty comment cannot be posted")
    if len(text) > MAX_COMMENT:
        raise BadParameter(
            field, f"a comment has at most {MAX_COMMENT:,} characters; this one has {len(text):,}"
        )
    return text


def check_stars(raw: str | int, field: str = "stars") -> int:
    """A rating: a whole number of stars from 1 to 5."""
    text = str(raw).strip()
    if not text.isdigit() or int(text) not in STARS:
        raise BadParameter(field, f"a rating is a whole number of stars from 1 to 5, not {text[:20]!r}")
    return int(text)


def normalise_tag(raw: str, field: str = "tag") -> str:
    """A tag as stored and searched: lower case, spaces collapsed, 1 to 40 characters, no commas (a
    comma separates tags where several are typed at once)."""
    tag = " ".join(_clean(raw).casefold().split())
    if not tag:
        raise BadParameter(field, "a tag needs at least one letter or digit")
    if len(tag) > MAX_TAG:
        raise BadParameter(field, f"a tag has at most {MAX_TAG} characters: {tag[:60]!r} is longer")
    if "," in tag:
        raise BadParameter(field, "a tag cannot hold a comma")
    if not any(character.isalnum() for character in tag):
        raise BadParameter(field, f"{tag!r} is not a tag: it needs at least one letter or digit")
    return tag


def parse_tags(raw: str, field: str = "tags") -> list[str]:
    """Tags typed as ``classic, 19th century, to read``: each normalised, each once, in order."""
    tags: list[str] = []
    for part in raw.split(","):
        if part.strip():
            tag = normalise_tag(part, field)
            if tag not in tags:
                tags.append(tag)
    if not tags:
        raise BadParameter(field, "give at least one tag (several are separated by commas)")
    if len(tags) > MAX_TAGS_PER_RECORD:
        raise BadParameter(field, f"at most {MAX_TAGS_PER_RECORD} tags on one record")
    return tags


def check_reason(raw: str, field: str = "reason", required: bool = True) -> str:
    """A reason (for a report, or a librarian's hide or restore): at most 500 characters."""
    reason = " ".join(_clean(raw).split())
    if required and not reason:
        raise BadParameter(field, "give the reason: the comment's author and the log will show it")
    if len(reason) > MAX_REASON:
        raise BadParameter(field, f"a reason has at most {MAX_REASON} characters")
    return reason


def check_verb(raw: str, field: str = "verb") -> ModerationVerb:
    if (verb := choice_of(raw, MODERATION_VERBS)) is not None:
        return verb
    known = ", ".join(MODERATION_VERBS)
    raise BadParameter(field, f"{raw[:40]!r} is not a moderation action; they are {known}")


def check_list_name(raw: str, field: str = "name") -> str:
    name = " ".join(_clean(raw).split())
    if not name:
        raise BadParameter(field, "give the list a name")
    if len(name) > MAX_LIST_NAME:
        raise BadParameter(field, f"a list's name has at most {MAX_LIST_NAME} characters")
    return name


def check_list_description(raw: str, field: str = "description") -> str:
    text = _clean(raw)
    if len(text) > MAX_LIST_DESCRIPTION:
        raise BadParameter(field, f"a list's description has at most {MAX_LIST_DESCRIPTION:,} characters")
    return text


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """The ratings of one record (and of the ids merged into it): how many, and their mean."""

    count: int
    average: float

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "average": round(self.average, 2)}


def shown_name(user: User | None) -> str:
    """The name shown beside what a reader wrote."""
    return user.display_name if user is not None else FORMER_READER


def summarise(ratings: list[Rating]) -> RatingSummary | None:
    if not ratings:
        return None
    return RatingSummary(len(ratings), sum(rating.stars for rating in ratings) / len(ratings))
