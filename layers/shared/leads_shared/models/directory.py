"""Users, teams and deal stages of a tenant (read-only for this API)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class User(BaseModel):
    tenant_id: str
    id: int
    name: str
    email: str
    role: Literal["admin", "user"] = "user"
    team_id: int | None = None


class Team(BaseModel):
    tenant_id: str
    id: int
    name: str


class DealStage(BaseModel):
    tenant_id: str
    id: int
    name: str
    position: int
