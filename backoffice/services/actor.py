"""Who is calling a service, and what their role lets them do."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from backoffice.domain.enums import Role
from backoffice.errors import PermissionDenied


class Permission(enum.StrEnum):
    VIEW_INVENTORY = "view inventory"
    RECEIVE = "receive manifests"
    TRANSFER = "record and move transfers"
    COUNT = "count inventory"
    ADJUST = "adjust inventory"
    APPROVE_ADJUSTMENT = "approve adjustments over the threshold"
    RECONCILE = "reconcile sales"
    IMPORT_DATA = "import files"
    REPORTS = "pull reports"
    PRINT_LABELS = "print labels"
    OVERRIDE_LAB_WARNING = "print labels for packages without passing lab results"
    SET_PRICES = "change item prices"
    IMPORT_TAGS = "load the store's unused METRC package tags"
    EDIT_CATALOGUE = "edit the catalogue"
    MANAGE_OUTBOX = "retry or resolve METRC outbox items"
    MANAGE_USERS = "manage users"
    MANAGE_SETTINGS = "change store settings"
    BACKUP_RESTORE = "back up and restore the database"  # a backup holds every PIN hash: admins only
    VIEW_AUDIT = "read and verify the audit trail"
    ACCEPT_HELD_CHANGES = "accept changes from files that lift a hold or a failed lab state"


_ASSOCIATE = {
    Permission.VIEW_INVENTORY,
    Permission.RECEIVE,
    Permission.TRANSFER,
    Permission.COUNT,
    Permission.ADJUST,
    Permission.RECONCILE,
    Permission.IMPORT_DATA,
    Permission.PRINT_LABELS,
}
_MANAGER = _ASSOCIATE | {
    Permission.APPROVE_ADJUSTMENT,
    Permission.REPORTS,
    Permission.OVERRIDE_LAB_WARNING,
    Permission.SET_PRICES,
    Permission.MANAGE_OUTBOX,
    Permission.VIEW_AUDIT,
    Permission.ACCEPT_HELD_CHANGES,
    Permission.EDIT_CATALOGUE,
    Permission.IMPORT_TAGS,
}
# purchasing keeps the catalogue: items, vendors and shelf prices
_PURCHASING = {
    Permission.VIEW_INVENTORY,
    Permission.REPORTS,
    Permission.IMPORT_DATA,
    Permission.EDIT_CATALOGUE,
    Permission.SET_PRICES,
}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ASSOCIATE: frozenset(_ASSOCIATE),
    Role.MANAGER: frozenset(_MANAGER),
    Role.PURCHASING: frozenset(_PURCHASING),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                f"{self.username} ({self.role.value}) may not {permission.value}; ask a manager or an administrator."
            )


# Changes made by the application itself (migrations, demo data, scheduled jobs).
SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN)
