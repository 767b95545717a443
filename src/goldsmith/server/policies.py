"""Who may do what: one policy per resource. Each check raises PermissionDeniedError.

Annotators work blind (``settings.blind``, on by default): they read only records leased to
them or answered by them, and only their own responses, and they name records by opaque
handles, never by database id. Everyone, owners and reviewers too, answers only records the
queue leased to them (or that they answered before): reviewers and owners settle other
records in the review queue. Only owners change the task's data, the guidelines and the
users.
"""

from __future__ import annotations

from goldsmith.annotation.queue import Item
from goldsmith.errors import PermissionDeniedError
from goldsmith.schema import Role, User

_STAFF = (Role.OWNER, Role.REVIEWER)


def _deny(message: str) -> None:
    raise PermissionDeniedError(message)


class RecordPolicy:
    @staticmethod
    def sees_ids(user: User) -> bool:
        """Whether ``user`` sees database record ids (owners, reviewers); annotators see
        opaque handles instead, so that no id tells a gold check apart."""
        return user.role in _STAFF

    @staticmethod
    def read(user: User, item: Item) -> None:
        if user.role in _STAFF:
            return
        if item.response is None and item.lease_expires_at is None:
            _deny(
                f"this record is not assigned to {user.name} (a lease that expired returns "
                "the record to the queue; ask for the next record)"
            )

    @staticmethod
    def list(user: User) -> None:
        if user.role not in _STAFF:
            _deny("annotators get records from the queue, not by listing them")

    @staticmethod
    def create(user: User) -> None:
        if user.role != Role.OWNER:
            _deny("only owners add records")


class ResponsePolicy:
    @staticmethod
    def answers_only_assigned(user: User) -> bool:
        """Everyone answers only records leased to them or already answered by them; the
        store checks this inside the answer's own transaction. Reviewers and owners used to
        answer any record, gold checks included (issue 19): now they annotate as themselves
        through the queue, which serves them no gold checks, or settle records in the review
        queue."""
        return True

    @staticmethod
    def list(user: User, of_user: str | None, *, blind: bool = True) -> None:
        if user.role in _STAFF or not blind:
            return
        if of_user != user.name:
            _deny("annotators see only their own responses (the task's settings.blind is on)")


class SuggestionPolicy:
    @staticmethod
    def create(user: User) -> None:
        if user.role != Role.OWNER:
            _deny("only owners add suggestions")


class GuidelinesPolicy:
    @staticmethod
    def update(user: User) -> None:
        if user.role != Role.OWNER:
            _deny(f"{user.role}s cannot change the guidelines")


class StatusPolicy:
    @staticmethod
    def read(user: User) -> None:
        if user.role not in _STAFF:
            _deny("the project status is for owners and reviewers")


class UserPolicy:
    @staticmethod
    def manage(user: User) -> None:
        if user.role != Role.OWNER:
            _deny("only owners list or add users")

    @staticmethod
    def create_key(user: User, for_user: str) -> None:
        if user.role != Role.OWNER and for_user != user.name:
            _deny("you can create API keys only for yourself")


class QualityPolicy:
    """Review items, annotator scores and gold answers are for reviewers and owners only; an
    annotator sees only the feedback addressed to them."""

    @staticmethod
    def review(user: User) -> None:
        if user.role not in _STAFF:
            _deny("only reviewers and owners see the review queue")

    @staticmethod
    def scores(user: User) -> None:
        if user.role not in _STAFF:
            _deny("annotator scores and gold answers are for reviewers and owners")


class BrowsePolicy:
    """The records browser is for owners and reviewers; annotators never see it (they would
    see other people's answers and tell gold checks apart). Only owners change records from
    it or export from it."""

    @staticmethod
    def read(user: User) -> None:
        if user.role not in _STAFF:
            _deny("the records browser is for owners and reviewers")

    @staticmethod
    def act(user: User) -> None:
        if user.role != Role.OWNER:
            _deny("only owners change records from the records browser")

    @staticmethod
    def export(user: User) -> None:
        if user.role != Role.OWNER:
            _deny("only owners export records")
