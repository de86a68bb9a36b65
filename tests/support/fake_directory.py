"""An in-memory directory with the DirectoryStore's behaviour (unique ids, emails and external ids;
versions), so the identity and directory rules can be tested in milliseconds. The emulator
proves the real store (tests/integration)."""

from __future__ import annotations

from collections.abc import Callable

from leads_shared.data.directory_store import Taken, TeamMissing, VersionConflict
from leads_shared.data.sequences import IdTaken
from leads_shared.models.directory import Team, User


class FakeDirectory:
    def __init__(self) -> None:
        self._users: dict[tuple[str, int], User] = {}
        self._teams: dict[tuple[str, int], Team] = {}
        self._sequence: dict[str, int] = {}
        self.writes = 0
        self.reads = 0

    # reads
    def user(self, tenant_id: str, user_id: int) -> User | None:
        self.reads += 1
        return self._users.get((tenant_id, user_id))

    def users(self, tenant_id: str) -> list[User]:
        self.reads += 1
        return [user for (tenant, _), user in sorted(self._users.items()) if tenant == tenant_id]

    def _find(self, tenant_id: str, matches: Callable[[User], bool]) -> User | None:
        return next((u for (t, _), u in self._users.items() if t == tenant_id and matches(u)), None)

    def user_with_email(self, tenant_id: str, email: str) -> User | None:
        self.reads += 1
        return self._find(tenant_id, lambda u: (u.email or "").lower() == email.lower())

    def user_of_subject(self, tenant_id: str, subject: str, user_id: int | None) -> User | None:
        self.reads += 1
        found = self._find(tenant_id, lambda u: u.external_id == subject)
        return found or (self._users.get((tenant_id, user_id)) if user_id is not None else None)

    def teams(self, tenant_id: str) -> list[Team]:
        return [team for (tenant, _), team in sorted(self._teams.items()) if tenant == tenant_id]

    # writes
    def _check_unique(self, user: User) -> None:
        for other in self.users(user.tenant_id):
            if other.id == user.id:
                continue
            if user.email and (other.email or "").lower() == user.email.lower():
                raise Taken("email")
            if user.external_id and other.external_id == user.external_id:
                raise Taken("external_id")
        if user.team_id is not None and (user.tenant_id, user.team_id) not in self._teams:
            raise TeamMissing()

    def insert_user(self, user: User) -> None:
        if (user.tenant_id, user.id) in self._users:
            raise IdTaken()
        self._check_unique(user)
        self.writes += 1
        self._users[(user.tenant_id, user.id)] = user

    def insert_new_user(self, user: User, finish: Callable[[User], User] | None = None) -> User:
        while True:
            self._sequence[user.tenant_id] = self._sequence.get(user.tenant_id, 0) + 1
            numbered = user.model_copy(update={"id": self._sequence[user.tenant_id]})
            numbered = finish(numbered) if finish else numbered
            try:
                self.insert_user(numbered)
            except IdTaken:
                continue
            return numbered

    def replace_user(self, before: User, after: User) -> None:
        stored = self._users.get((before.tenant_id, before.id))
        if stored is None or stored.version != before.version:
            raise VersionConflict()
        self._check_unique(after)
        self.writes += 1
        self._users[(after.tenant_id, after.id)] = after

    def put_team(self, team: Team) -> None:
        self._teams[(team.tenant_id, team.id)] = team
