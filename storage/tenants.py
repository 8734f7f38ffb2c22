"""Which Azure AD tenant speaks for which municipality."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Municipality, Tenant

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class TenantError(ValueError):
    """A tenant id or municipality that cannot be used; the message says why."""


def normalise_tenant_id(tenant_id: str) -> str:
    value = tenant_id.strip().lower()
    if not _GUID.fullmatch(value):
        raise TenantError(
            f"{tenant_id!r} is not a tenant id (a GUID like 00000000-0000-4000-8000-000000000630)"
        )
    return value


@dataclass(frozen=True, slots=True)
class Mapping:
    tenant_id: str
    municipality_code: int
    municipality: str


@dataclass(frozen=True, slots=True)
class AddResult:
    mapping: Mapping
    previous: str | None  # the municipality the tenant was mapped to before, if another


async def add_tenant(db: AsyncConnection, tenant_id: str, municipality_code: int) -> AddResult:
    tenant_id = normalise_tenant_id(tenant_id)
    name = await db.scalar(select(Municipality.name).where(Municipality.code == municipality_code))
    if name is None:
        raise TenantError(f"no municipality has code {municipality_code}")
    current = (
        await db.execute(
            select(Municipality.name, Tenant.municipality_code)
            .join(Municipality, Municipality.code == Tenant.municipality_code)
            .where(Tenant.tenant_id == tenant_id)
        )
    ).first()
    if current is None:
        await db.execute(insert(Tenant).values(tenant_id=tenant_id, municipality_code=municipality_code))
        return AddResult(Mapping(tenant_id, municipality_code, name), None)
    if current.municipality_code != municipality_code:
        await db.execute(
            update(Tenant).where(Tenant.tenant_id == tenant_id).values(municipality_code=municipality_code)
        )
        return AddResult(Mapping(tenant_id, municipality_code, name), current.name)
    return AddResult(Mapping(tenant_id, municipality_code, name), None)


async def remove_tenant(db: AsyncConnection, tenant_id: str) -> bool:
    result = await db.execute(delete(Tenant).where(Tenant.tenant_id == normalise_tenant_id(tenant_id)))
    return bool(result.rowcount)


async def list_tenants(db: AsyncConnection) -> list[Mapping]:
    rows = await db.execute(
        select(Tenant.tenant_id, Tenant.municipality_code, Municipality.name)
        .join(Municipality, Municipality.code == Tenant.municipality_code)
        .order_by(Municipality.name, Tenant.tenant_id)
    )
    return [Mapping(r.tenant_id, r.municipality_code, r.name) for r in rows]
