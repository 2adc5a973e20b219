"""The OAA payload written as a stream: one user at a time, never the whole object graph.

oaaclient's ``CustomApplication`` keeps every local user as Python objects and
``get_payload()`` then builds the whole payload as one dict (most of the memory of a large
tenant, issue 12). Here the small part of the payload (property definitions, roles,
permissions, role-group resources) still comes from a ``CustomApplication`` that holds no
users (``oaa.build.application_parts``: the same code as the in-memory builder), and the
users come one at a time as ``MappedUser`` records (``oaa.build.map_user``: the same mapping),
each turned into the two dicts oaaclient would make of it:

* its ``local_users`` entry (``LocalUser.to_dict``: values ``None``, ``[]`` and ``{}`` left out,
  ``id`` only when set), and
* its ``identity_to_permissions`` entry (``Identity.get_identity_to_permissions``: one role
  assignment per role id, in the order first assigned, a second assignment of the same role
  merged into the first; resources by resource key; identities without one left out).

Both lists are per-user streams: ``local_users`` goes into the payload file as it is written,
``identity_to_permissions`` into a sibling temp file in the same pass, appended at the end.
The file is written to a temp file in the target's directory (mode 0600 from its creation:
it lists every user) and renamed into place only when complete; a failure leaves nothing.
Equality with ``get_payload()`` is proved by tests/oaa/test_stream.py (seeded and generated
tenants, compared as parsed JSON).
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson
from oaaclient.templates import CustomApplication, LocalUserType, OAAIdentityType

from oaa_concur.gc_control import gc_paused
from oaa_concur.models import Company, DataIssue, DiscoveryResult, SpendProfile, User
from oaa_concur.oaa.build import MappedUser, Vocabulary, application_parts, stored_parts
from oaa_concur.state.files import make_dirs, unwritable

_EMPTY: tuple[object, ...] = (None, [], {})
"""What ``LocalUser.to_dict`` leaves out (compared with ``==``, as oaaclient does)."""
_HUMAN = LocalUserType.Human.value
_LOCAL_USER = OAAIdentityType.LocalUser.value
_COPY_BUFFER = 1 << 20


@dataclass(frozen=True, slots=True)
class PayloadFile:
    """A payload written to disk."""

    path: Path
    size: int
    """Bytes of JSON."""
    users: int
    """Local users in it."""
    entries: int
    """``identity_to_permissions`` entries in it (users with at least one role)."""


def write_payload(
    path: Path, header: CustomApplication, users: Iterable[MappedUser]
) -> PayloadFile:
    """Write the payload of ``header`` (an application without users) plus ``users`` to
    ``path``, atomically, mode 0600."""
    with gc_paused():
        head = header.get_payload()
    app = head["applications"][0]
    if app["local_users"] or head["identity_to_permissions"]:
        raise ValueError("the header application must not hold users")
    writer = _Writer(app["name"], _resource_keys(app))
    path = Path(path)
    with _private_temp(path) as main, _private_temp(None, path.parent) as sibling:
        writer.sibling = sibling
        _write_top(main, head, writer, users)
        main.flush()
        os.fsync(main.fileno())
    return PayloadFile(path, path.stat().st_size, writer.users, writer.entries)


def save_streamed(result: DiscoveryResult, path: Path) -> tuple[PayloadFile, list[DataIssue]]:
    """The payload of ``result`` written as a stream, and the mapping's data issues (as
    ``build_application`` reports them)."""
    parts = application_parts(result)
    written = write_payload(path, parts.header, parts.users)
    return written, parts.issues


class StoredSnapshot(Protocol):
    """A snapshot in the store, as the payload needs it (``review.spool.Spool``)."""

    def vocabulary(self) -> Vocabulary: ...

    def people(self) -> Iterator[tuple[User, SpendProfile | None]]: ...

    def case_duplicates(self) -> set[str]: ...

    def issues(self) -> list[DataIssue]: ...


def save_stored(
    snapshot: StoredSnapshot, company: Company, now: datetime | None, path: Path | None
) -> tuple[PayloadFile | None, list[DataIssue]]:
    """The payload of a stored snapshot written to ``path`` user by user (None: only mapped,
    for the issues), and the mapping's data issues (at most ``ISSUE_LIMIT`` per kind)."""
    parts = stored_parts(
        company,
        snapshot.vocabulary(),
        snapshot.people(),
        skip=snapshot.case_duplicates(),
        known=snapshot.issues(),
        now=now,
    )
    if path is None:
        collections.deque(parts.users, maxlen=0)
        return None, parts.issues
    return write_payload(path, parts.header, parts.users), parts.issues


def local_user(user: MappedUser) -> dict[str, Any]:
    """``user``'s ``local_users`` entry, as ``LocalUser.to_dict`` writes it."""
    entry: dict[str, Any] = {
        "name": user.name,
        "email": user.email,
        "identities": list(user.identities),
        "is_active": user.active,
        "created_at": user.created_at,
        "user_type": _HUMAN,
        "custom_properties": dict(user.properties),
    }
    if user.id:
        entry["id"] = user.id
    return {k: v for k, v in entry.items() if v not in _EMPTY}


def permissions_entry(
    user: MappedUser, application: str, resource_keys: Mapping[str, str]
) -> dict[str, Any] | None:
    """``user``'s ``identity_to_permissions`` entry, as ``Identity.get_identity_to_permissions``
    writes it (None: the user holds no role, so oaaclient leaves the entry out)."""
    roles: dict[str, tuple[list[bool | None], list[str]]] = {}
    for role_id, scope in user.assignments:
        apply_to_app = None if scope else True
        keys = [resource_keys[g] for g in scope]
        if role_id not in roles:
            roles[role_id] = ([apply_to_app], keys)
            continue
        flag, resources = roles[role_id]
        if apply_to_app is not None:
            flag[0] = apply_to_app
        resources.extend(k for k in keys if k not in resources)
    assignments = [
        _assignment(application, role_id, flag[0], resources)
        for role_id, (flag, resources) in roles.items()
        if flag[0] or resources
    ]
    if not assignments:
        return None
    identity = user.id or user.name
    return {"identity": identity, "identity_type": _LOCAL_USER, "role_assignments": assignments}


def _assignment(
    application: str, role_id: str, apply_to_app: bool | None, resources: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "application": application,
        "role": role_id,
        "apply_to_application": apply_to_app or False,
    }
    if resources:
        out["resources"] = resources
    return out


def _resource_keys(app: Mapping[str, Any]) -> dict[str, str]:
    """Role-group key (lower-cased code, as ``MappedUser.assignments`` names it) -> the
    resource's key (its unique id)."""
    return {str(r["id"]).lower(): str(r["id"]) for r in app.get("resources", [])}


class _Writer:
    """Writes the user streams and counts them."""

    def __init__(self, application: str, resource_keys: dict[str, str]) -> None:
        self.application = application
        self.resource_keys = resource_keys
        self.sibling: BinaryIO | None = None
        self.users = 0
        self.entries = 0

    def users_into(self, out: BinaryIO, users: Iterable[MappedUser]) -> None:
        assert self.sibling is not None
        for user in users:
            out.write(b"," if self.users else b"")
            out.write(orjson.dumps(local_user(user)))
            self.users += 1
            entry = permissions_entry(user, self.application, self.resource_keys)
            if entry is not None:
                self.sibling.write(b"," if self.entries else b"")
                self.sibling.write(orjson.dumps(entry))
                self.entries += 1

    def entries_into(self, out: BinaryIO) -> None:
        assert self.sibling is not None
        self.sibling.flush()
        self.sibling.seek(0)
        shutil.copyfileobj(self.sibling, out, _COPY_BUFFER)


def _write_top(
    out: BinaryIO, head: dict[str, Any], writer: _Writer, users: Iterable[MappedUser]
) -> None:
    """The top-level object in oaaclient's key order; the two lists come from the streams."""
    keys = list(head)
    if keys.index("applications") > keys.index("identity_to_permissions"):
        raise ValueError("the users must be written before their permissions")
    out.write(b"{")
    for i, key in enumerate(keys):
        out.write(b"," if i else b"")
        out.write(orjson.dumps(key) + b":")
        if key == "applications":
            out.write(b"[")
            _write_app(out, head[key][0], writer, users)
            out.write(b"]")
        elif key == "identity_to_permissions":
            out.write(b"[")
            writer.entries_into(out)
            out.write(b"]")
        else:
            out.write(orjson.dumps(head[key]))
    out.write(b"}")


def _write_app(
    out: BinaryIO, app: dict[str, Any], writer: _Writer, users: Iterable[MappedUser]
) -> None:
    out.write(b"{")
    for i, (key, value) in enumerate(app.items()):
        out.write(b"," if i else b"")
        out.write(orjson.dumps(key) + b":")
        if key == "local_users":
            out.write(b"[")
            writer.users_into(out, users)
            out.write(b"]")
        else:
            out.write(orjson.dumps(value))
    out.write(b"}")


@contextlib.contextmanager
def _private_temp(target: Path | None, directory: Path | None = None) -> Iterator[BinaryIO]:
    """A temp file (0600, ``O_EXCL``) beside ``target``, renamed onto it when the block ends
    well; with ``target`` None a scratch file in ``directory``, always deleted."""
    where = target.parent if target is not None else directory
    assert where is not None
    if not where.exists():
        make_dirs(where)
    name = f".{target.name}." if target is not None else ".oaa-concur-scratch."
    try:
        fd, tmp = tempfile.mkstemp(prefix=name, suffix=".tmp", dir=where)
    except OSError as exc:  # a path through a file, no permission: one sentence
        raise unwritable(target or where, exc) from None
    os.fchmod(fd, 0o600)
    handle = os.fdopen(fd, "w+b", buffering=_COPY_BUFFER)
    try:
        yield handle
        handle.close()
        if target is not None:
            _replace(Path(tmp), target)
    finally:
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()


def _replace(tmp: Path, target: Path) -> None:
    try:
        tmp.replace(target)
    except OSError as exc:  # e.g. the target is a directory
        raise unwritable(target, exc) from None
