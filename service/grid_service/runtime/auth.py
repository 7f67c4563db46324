"""Who is calling, and what they may read: accounts, tokens, and a right checked on every route.

An *accounts file* (JSON, mode 0600, replaced atomically) lists the people who
may call the service: each account has a worker id, one
:class:`~grid_events.Role`, and the SHA-256 of a random token
(``secrets.token_urlsafe(32)``, 256 bits). The token itself is shown once, when
the account is made (``grid-events accounts add``), and never stored or
logged; a fast hash is enough for a random 256-bit secret (nobody can guess
one to match a hash), and hashes are compared in constant time.

A caller proves who they are with either of two standard schemes:

* ``Authorization: Bearer <token>`` (programs, ``curl``);
* HTTP Basic, user name = worker id, password = token (a browser's login box).

Every protected route depends on :func:`requires` with one
:class:`~grid_events.Right`, checked against :data:`grid_events.POLICY` for
the account's role, exactly as the library checks its commands. No
credentials, or wrong ones: 401 with ``WWW-Authenticate`` challenges for both
schemes. The right missing: 403 naming the role and the right. The service
reads the accounts file again whenever it changes on disk, so an account added
or removed counts from the next request, with no restart.

In code (the demo, a test)::

    accounts = Accounts.load(path)  # an empty set if the file is not there yet
    token = accounts.add("a-zhou", Role.AUDITOR)
    accounts.save()
    httpx.get(url, headers={"Authorization": f"Bearer {token}"})
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import stat
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import attrs
import fastapi.routing
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer

from grid_events import Actor, ConfigurationError, Right, Role, rights_of

__all__ = [
    "ACCOUNT_ROLES",
    "REALM",
    "Account",
    "AccountError",
    "Accounts",
    "AccountsFile",
    "Caller",
    "CallerDep",
    "NotAuthenticatedError",
    "authenticated_caller",
    "challenges",
    "current_caller",
    "requires",
    "right_of",
    "role_of",
    "route_rights",
]

logger = logging.getLogger("grid_service.runtime.auth")

REALM = "grid-events"
_FORMAT_VERSION = 1
_WORKER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
ACCOUNT_ROLES: tuple[Role, ...] = tuple(role for role in Role if role is not Role.SYSTEM)
"""The roles an account may have: every role but the software's own (``system``)."""
_HOW = (
    "send 'Authorization: Bearer <token>', or HTTP Basic with your worker id as user name and the token as "
    "password ('grid-events accounts add' makes an account and shows its token)"
)


class AccountError(ConfigurationError):
    """An account cannot be made, found or read; the message says why and what to do."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _check_worker_id(worker_id: object) -> str:
    if not isinstance(worker_id, str) or not _WORKER_ID.fullmatch(worker_id):
        raise AccountError(
            f"worker id {worker_id!r}: use 1 to 64 ASCII letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit (it is the user name of HTTP Basic)"
        )
    return worker_id


def role_of(value: str | Role) -> Role:
    """Return the role *value* names, or raise :class:`AccountError` listing the roles an account may have."""
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role is None or role is Role.SYSTEM:
        choices = ", ".join(role.value for role in ACCOUNT_ROLES)
        raise AccountError(f"role {value!r}: choose one of {choices} (system is the software's own role)")
    return role


@attrs.frozen
class Account:
    """Someone who may call the service: a worker id, the role they act in, and their token's SHA-256."""

    worker_id: str = attrs.field(converter=_check_worker_id)
    role: Role = attrs.field(converter=role_of)
    token_sha256: str = attrs.field(repr=False)
    created_at: datetime

    @token_sha256.validator
    def _check_digest(self, _: attrs.Attribute[str], value: str) -> None:
        if not isinstance(value, str) or not _DIGEST.fullmatch(value):
            raise AccountError(f"account {self.worker_id}: token_sha256 must be 64 lower-case hex digits")

    @property
    def actor(self) -> Actor:
        """The account as the library's :class:`~grid_events.Actor`."""
        return Actor(self.worker_id, self.role)

    def matches(self, token: str) -> bool:
        """Return whether *token* is this account's (in constant time)."""
        return hmac.compare_digest(self.token_sha256, _digest(token))

    def as_json(self) -> dict[str, str]:
        """Return the account as the accounts file stores it."""
        return {
            "worker_id": self.worker_id,
            "role": self.role.value,
            "token_sha256": self.token_sha256,
            "created_at": self.created_at.isoformat(),
        }


class Accounts:
    """The accounts of one accounts file: load it, add and remove accounts, save it, authenticate tokens.

    Not safe for two writers at once: make changes with one ``grid-events
    accounts`` command at a time (the service only reads the file).
    """

    def __init__(self, path: str | os.PathLike[str], accounts: dict[str, Account] | None = None) -> None:
        self.path = Path(path)
        self._accounts: dict[str, Account] = dict(accounts or {})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Accounts:
        """Return the accounts in the file *path* (none if there is no such file yet).

        Raises :class:`AccountError` if the file cannot be read or is not an accounts file.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as e:
            raise AccountError(f"cannot read the accounts file {path}: {e}") from e
        return cls(path, _parse(path, text))

    def __len__(self) -> int:
        return len(self._accounts)

    def __iter__(self) -> Iterator[Account]:
        return iter(sorted(self._accounts.values(), key=lambda account: account.worker_id))

    def __contains__(self, worker_id: object) -> bool:
        return worker_id in self._accounts

    def get(self, worker_id: str) -> Account | None:
        """Return the account of *worker_id*, or None."""
        return self._accounts.get(worker_id)

    def add(self, worker_id: str, role: Role | str, *, replace: bool = False) -> str:
        """Add an account for *worker_id* acting as *role*; return its new token (shown once, stored hashed).

        *replace*: give an existing account this role and a new token (the old token stops working).
        Raises :class:`AccountError` for a bad worker id or role, or an existing account without *replace*.
        Call :meth:`save` to write the change.
        """
        worker_id = _check_worker_id(worker_id)
        checked = role_of(role)
        if worker_id in self._accounts and not replace:
            raise AccountError(f"{worker_id} already has an account; replace it to issue a new token")
        token = secrets.token_urlsafe(32)
        while token.startswith("-"):  # a token is easier to pass around when it cannot look like an option
            token = secrets.token_urlsafe(32)
        self._accounts[worker_id] = Account(worker_id, checked, _digest(token), datetime.now(UTC))
        return token

    def remove(self, worker_id: str) -> Account:
        """Remove the account of *worker_id* (its token stops working once saved); return it.

        Raises :class:`AccountError` if there is no such account. Call :meth:`save` to write the change.
        """
        try:
            return self._accounts.pop(worker_id)
        except KeyError:
            raise AccountError(f"no account {worker_id!r} in {self.path}") from None

    def save(self) -> None:
        """Write the accounts to the file atomically, readable and writable by its owner only (0600)."""
        body = {"version": _FORMAT_VERSION, "accounts": [account.as_json() for account in self]}
        text = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".new")
        try:
            os.fchmod(descriptor, 0o600)
            with contextlib.suppress(FileNotFoundError, PermissionError):
                # Keep the file's owner: `sudo grid-events accounts add` must not leave a root-owned file that the
                # service (another user) can no longer read. Only root may give a file away; others keep their own.
                owner = self.path.stat()
                if (owner.st_uid, owner.st_gid) != (os.getuid(), os.getgid()):
                    os.fchown(descriptor, owner.st_uid, owner.st_gid)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise
        with contextlib.suppress(OSError):  # make the rename durable where the platform allows
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def authenticate(self, token: str, *, worker_id: str | None = None) -> Account | None:
        """Return the account whose token *token* is (and, if given, whose worker id is *worker_id*), or None."""
        if worker_id is not None:
            account = self._accounts.get(worker_id)
            if account is None:
                # Hash and compare all the same, so that the time taken does not tell which worker ids exist.
                hmac.compare_digest(_digest(token), _NO_ACCOUNT_DIGEST)
                return None
            return account if account.matches(token) else None
        digest = _digest(token)
        found = None
        for account in self._accounts.values():  # every account compared: the time says nothing about which
            if hmac.compare_digest(account.token_sha256, digest):
                found = account
        return found


_NO_ACCOUNT_DIGEST = "0" * 64
"""Compared against when a Basic user name names no account (see :meth:`Accounts.authenticate`)."""


def _parse(path: Path, text: str) -> dict[str, Account]:
    try:
        body = json.loads(text)
        version = body.get("version") if isinstance(body, dict) else None
        if version != _FORMAT_VERSION:
            raise AccountError(f"format version {version!r}, not {_FORMAT_VERSION}")  # noqa: TRY301
        accounts = {}
        for entry in body["accounts"]:
            account = Account(
                entry["worker_id"], entry["role"], entry["token_sha256"], datetime.fromisoformat(entry["created_at"])
            )
            accounts[account.worker_id] = account
    except (ValueError, KeyError, TypeError, AccountError) as e:
        raise AccountError(
            f"{path} is not a grid-events accounts file ({e}); make it with 'grid-events accounts add'"
        ) from e
    return accounts


class AccountsFile:
    """The accounts file as the service sees it: read again whenever it changes on disk.

    Checked on each request (one ``stat``); a file that disappears means no
    accounts (every protected route answers 401), one that cannot be read any
    more means the same, with an error in the log, until it is fixed.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int, int] | None = None
        self._accounts = Accounts(self.path)
        self.refresh(initial=True)

    def refresh(self, *, initial: bool = False) -> Accounts:
        """Return the current accounts, reading the file again if it changed since last time."""
        info = self._stat(initial=initial)
        # ctime too: a replaced file may reuse the inode, within the mtime's resolution, at the same size.
        seen = None if info is None else (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)
        if seen == self._seen and not initial:
            return self._accounts
        with self._lock:
            if seen != self._seen or initial:
                self._seen = seen
                self._accounts = self._read(info, initial=initial)
            return self._accounts

    def _stat(self, *, initial: bool) -> os.stat_result | None:
        try:
            return self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as e:
            if initial:
                raise AccountError(f"cannot read the accounts file {self.path}: {e}") from e
            return None

    def _read(self, info: os.stat_result | None, *, initial: bool) -> Accounts:
        if info is None:
            logger.warning(
                "no accounts file at %s: every route but /healthz, /readyz, /metrics and the API document "
                "answers 401 until 'grid-events accounts add' makes an account",
                self.path,
            )
            return Accounts(self.path)
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning("the accounts file %s is readable by others: chmod 600 it", self.path)
        try:
            accounts = Accounts.load(self.path)
        except AccountError:
            if initial:
                raise
            logger.exception("the accounts file changed and cannot be read: refusing every caller until fixed")
            return Accounts(self.path)
        logger.info("%d account(s) from %s", len(accounts), self.path)
        return accounts


@attrs.frozen
class Caller:
    """Who is asking: an authenticated account, and the address they ask from."""

    worker_id: str
    role: Role
    host: str = ""

    @property
    def actor(self) -> Actor:
        """The caller as the library's :class:`~grid_events.Actor` (for commands and queries on their behalf)."""
        return Actor(self.worker_id, self.role)

    def may(self, right: Right) -> bool:
        """Return whether the caller's role holds *right*."""
        return right in rights_of(self.role)


def challenges() -> list[str]:
    """Return the ``WWW-Authenticate`` challenges of a 401: HTTP Basic (browsers) and Bearer."""
    return [f'Basic realm="{REALM}", charset="UTF-8"', f'Bearer realm="{REALM}"']


class NotAuthenticatedError(HTTPException):
    """401: no credentials, or wrong ones. The service's handler adds a challenge for each scheme."""

    def __init__(self, detail: str) -> None:
        super().__init__(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenges()[0]})


class _Basic(HTTPBasic):
    def make_not_authenticated_error(self) -> HTTPException:
        return NotAuthenticatedError(f"malformed HTTP Basic credentials: {_HOW}")


class _Bearer(HTTPBearer):
    def make_not_authenticated_error(self) -> HTTPException:  # pragma: no cover (auto_error is off)
        return NotAuthenticatedError(f"authentication required: {_HOW}")


_bearer = _Bearer(
    auto_error=False,
    scheme_name="bearer",
    description="`Authorization: Bearer <token>`: the token `grid-events accounts add` showed.",
)
_basic = _Basic(
    auto_error=False,
    scheme_name="basic",
    realm=REALM,
    description="HTTP Basic: user name = worker id, password = the account's token (for browsers).",
)


def accounts_of(request: Request) -> Accounts:
    """Return the service's current accounts (the :class:`AccountsFile` on ``app.state.accounts``)."""
    source = getattr(request.app.state, "accounts", None)
    if not isinstance(source, AccountsFile):
        return Accounts(Path(os.devnull))  # an application without accounts lets nobody in
    return source.refresh()


async def authenticated_caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Caller:
    """Return the authenticated caller (a FastAPI dependency), or raise 401 saying what to send."""
    host = request.client.host if request.client is not None else ""
    if bearer is None and basic is None:
        raise NotAuthenticatedError(f"authentication required: {_HOW}")
    if basic is not None and request.method not in SAFE_METHODS:
        # A browser replays a saved Basic login on any request, a forged cross-site form's too: changes need
        # the Bearer header, which no other site can make a browser send.
        raise NotAuthenticatedError(
            f"{request.method} needs 'Authorization: Bearer <token>'; HTTP Basic is for reading (browsers)"
        )
    accounts = accounts_of(request)
    if basic is not None:
        account = accounts.authenticate(basic.password, worker_id=basic.username)
        scheme, known = "basic", basic.username in accounts
    else:
        account = accounts.authenticate(bearer.credentials) if bearer is not None else None
        scheme, known = "bearer", False
    if account is None:
        # The user name only if it is an account's: a token pasted into the user name must not reach the log.
        claimed = f" (worker id {basic.username!r})" if basic is not None and known else ""
        logger.info("refused %s credentials from %s%s", scheme, host, claimed)
        raise NotAuthenticatedError(f"invalid credentials: the token is unknown, revoked or not this user's; {_HOW}")
    return Caller(account.worker_id, account.role, host)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing: the only ones HTTP Basic is accepted for."""

current_caller = authenticated_caller
"""The former name of :func:`authenticated_caller` (any account, whatever its rights): prefer :func:`requires`."""

CallerDep = Annotated[Caller, Depends(authenticated_caller)]
"""The authenticated caller, whatever their rights (a route parameter)."""


def _refusal(caller: Caller, right: Right) -> str:
    holders = [role.value for role in ACCOUNT_ROLES if right in rights_of(role)]
    who = ", ".join(holders) if holders else "nobody"
    return f"role {caller.role.value} lacks the right {right.value} ({right.description}); held by: {who}"


_RIGHT_ATTRIBUTE = "__grid_right__"


@functools.cache
def requires(right: Right) -> Callable[..., Coroutine[Any, Any, Caller]]:
    """Return a FastAPI dependency: the authenticated caller, whose role must hold *right* (else 403).

    Use it on a route or a router, e.g. ``dependencies=[Depends(requires(Right.AUDIT_READ))]``, or as a
    parameter ``caller: Annotated[Caller, Depends(requires(Right.AUDIT_READ))]``. :func:`right_of` reads the
    right back from a route.
    """
    checked = Right(right)

    async def authorized(request: Request, caller: CallerDep) -> Caller:
        if not caller.may(checked):
            logger.info(
                "refused %s (%s) %s %s: no %s",
                caller.worker_id,
                caller.role.value,
                request.method,
                request.url.path,
                checked.value,
            )
            raise HTTPException(status.HTTP_403_FORBIDDEN, _refusal(caller, checked))
        return caller

    authorized.__name__ = f"requires_{checked.value.replace('.', '_')}"
    setattr(authorized, _RIGHT_ATTRIBUTE, checked)
    return authorized


def right_of(route: object) -> Right | None:
    """Return the right *route* (an ``APIRoute``) requires through :func:`requires`, or None if it is public."""
    dependant = getattr(route, "dependant", None)
    pending = [dependant] if dependant is not None else []
    while pending:
        dependant = pending.pop()
        right = getattr(dependant.call, _RIGHT_ATTRIBUTE, None)
        if isinstance(right, Right):
            return right
        pending.extend(dependant.dependencies)
    return None


def route_rights(app: FastAPI) -> dict[tuple[str, str], Right | None]:
    """Return, for each API route of *app* as (method, path), the right it requires (None: public).

    Routes of included routers count, with the dependencies the inclusion adds.
    """
    contexts: Iterable[Any] = (
        fastapi.routing.iter_route_contexts(app.routes)
        if hasattr(fastapi.routing, "iter_route_contexts")  # FastAPI ≥ 0.130 includes routers lazily
        else app.routes
    )
    found: dict[tuple[str, str], Right | None] = {}
    for context in contexts:
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute):
            continue
        right = right_of(context)
        for method in sorted(context.methods or ()):
            found[method, context.path] = right
    return found
