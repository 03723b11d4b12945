"""Who may do what in Airflow's UI and REST API, with the FAB auth manager (README "Logins").

* **Steward** (数据管理员): everything FAB's built-in ``User`` role may do — trigger, clear and pause the
  DAGs, read every log — plus the stewards' page (the custom resource ``PAGE_RESOURCE``), the plugins'
  navigation entries and the Required Actions menu, where approvals are answered.
* **Viewer**: FAB's built-in ``Viewer``: reads DAGs, runs and logs; cannot trigger or clear, and does not
  see the stewards' page (it lists clerks' files, findings and receipts).
* **Admin**: FAB's ``Admin``, which FAB gives every permission, the page's included.

``ensure_roles`` creates and refreshes them; ``ensure_users`` creates the users the init step is given in
the environment (``.env`` in production): ``AIRFLOW_ADMIN_USER``/``AIRFLOW_ADMIN_PASSWORD`` and
``STEWARD_USERS``/``VIEWER_USERS`` as ``name:password,name:password``. An existing user keeps its password
(it may have been changed in the UI) and is given the role it is listed under. With LDAP or OAuth (single
sign-on) users come from the directory instead and the roles are mapped there (README).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

log = logging.getLogger(__name__)

PAGE_RESOURCE = "District Submissions"  # the stewards' page, a FAB resource of its own
STEWARD_ROLE, VIEWER_ROLE, ADMIN_ROLE = "Steward", "Viewer", "Admin"
STEWARD_BASE_ROLE = "User"  # FAB's built-in role a steward's permissions start from
STEWARD_EXTRA = [
    ("can_read", PAGE_RESOURCE),
    ("menu_access", PAGE_RESOURCE),
    ("can_read", "Plugins"),  # the UI lists plugin pages in its navigation only for this
    ("menu_access", "Plugins"),
    ("menu_access", "HITL Detail"),  # Browse → Required Actions
]


@dataclass(frozen=True)
class AirflowUser:
    name: str
    password: str
    role: str


def users_from_env(env: dict[str, str] | None = None) -> list[AirflowUser]:
    """The users to create, from the environment (see the module doc); a malformed entry is an error."""
    env = os.environ if env is None else env
    users = []
    if env.get("AIRFLOW_ADMIN_USER"):
        users.append(AirflowUser(env["AIRFLOW_ADMIN_USER"], env.get("AIRFLOW_ADMIN_PASSWORD", ""), ADMIN_ROLE))
    for variable, role in (("STEWARD_USERS", STEWARD_ROLE), ("VIEWER_USERS", VIEWER_ROLE)):
        for entry in filter(None, (e.strip() for e in env.get(variable, "").split(","))):
            name, sep, password = entry.partition(":")
            if not sep or not name or not password:
                raise ValueError(f"{variable}: each entry is name:password (got {name or '?'}:…)")
            users.append(AirflowUser(name, password, role))
    for user in users:
        if not user.password:
            raise ValueError(f"user {user.name}: no password given")
    return users


def ensure_roles() -> None:
    """FAB's built-in roles, and the Steward role: the built-in User's permissions plus ``STEWARD_EXTRA``."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as builder:
        security = builder.sm
        security.sync_roles()  # built-in roles and their permissions; Admin gets every permission there is
        extra = [security.create_permission(action, resource) for action, resource in STEWARD_EXTRA]
        steward = security.find_role(STEWARD_ROLE) or security.add_role(STEWARD_ROLE)
        for permission in [*security.find_role(STEWARD_BASE_ROLE).permissions, *extra]:
            security.add_permission_to_role(steward, permission)
        admin = security.find_role(ADMIN_ROLE)
        for permission in extra:
            security.add_permission_to_role(admin, permission)


def ensure_users(users: list[AirflowUser]) -> list[str]:
    """Create the users that do not exist yet; give each the role it is listed under. Returns the names
    created."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    created = []
    with get_application_builder() as builder:
        security = builder.sm
        for user in users:
            role = security.find_role(user.role)
            existing = security.find_user(username=user.name)
            if existing is None:
                if not security.add_user(
                    user.name, user.name, user.role, f"{user.name}@localhost", role, user.password
                ):
                    raise RuntimeError(f"user {user.name} could not be created")
                created.append(user.name)
            elif role not in existing.roles:
                existing.roles.append(role)
                security.update_user(existing)
    return created
