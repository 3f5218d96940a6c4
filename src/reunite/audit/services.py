"""Writing and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, role_allows, scope_q
from reunite.audit.context import current_request_context
from reunite.audit.models import AuditAction, AuditChainHead, AuditEntry
from reunite.core.errors import AccessDenied

GENESIS_HASH = "0" * 64


def _canonical(entry: AuditEntry) -> bytes:
    body = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_username": entry.actor_username,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "source_ip": entry.source_ip,
        "user_agent": entry.user_agent,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _lock_chain() -> AuditChainHead:
    """Serialise appends: PostgreSQL row lock on the head; SQLite writes are already serial."""
    AuditChainHead.objects.get_or_create(id=1)
    return AuditChainHead.objects.select_for_update().get(id=1)


def record(
    *,
    actor: Any,
    action: AuditAction | str,
    object_type: str = "",
    object_id: object = "",
    details: dict[str, Any] | None = None,
    source_ip: str | None = None,
    user_agent: str | None = None,
) -> AuditEntry:
    """Append one entry.  ``details`` must hold no personal data (names, DNA, contacts)."""
    ctx = current_request_context()
    with transaction.atomic():
        head = _lock_chain()
        user = actor if getattr(actor, "is_authenticated", False) else None
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=user,
            actor_username=user.get_username() if user else "",
            action=str(action),
            object_type=object_type,
            object_id=str(object_id),
            source_ip=source_ip if source_ip is not None else ctx.source_ip,
            user_agent=(user_agent if user_agent is not None else ctx.user_agent)[:200],
            details=details or {},
            prev_hash=head.entry_hash,
        )
        entry.entry_hash = compute_hash(entry)
        entry.save(force_insert=True)
        head.seq = entry.seq
        head.entry_hash = entry.entry_hash
        head.save(update_fields=["seq", "entry_hash"])
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head_hash: str
    problems: list[str]


def _iter_entries(batch: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        chunk = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def verify(*, max_problems: int = 20) -> VerifyResult:
    """Walk the chain; report every edited, inserted or missing entry (first ``max_problems``)."""
    problems: list[str] = []
    expected_seq = 1
    prev = GENESIS_HASH
    count = 0
    for entry in _iter_entries():
        count += 1
        if entry.seq != expected_seq:
            problems.append(f"entries {expected_seq}..{entry.seq - 1} are missing")
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq} does not link to its predecessor")
        if compute_hash(entry) != entry.entry_hash:
            problems.append(f"entry {entry.seq} was altered (content does not match its hash)")
        prev = entry.entry_hash
        expected_seq = entry.seq + 1
        if len(problems) >= max_problems:
            break
    head = AuditChainHead.objects.filter(id=1).first()
    head_seq = head.seq if head else 0
    head_hash = head.entry_hash if head else GENESIS_HASH
    if len(problems) < max_problems and (head_seq != expected_seq - 1 or head_hash != prev):
        problems.append(
            f"the chain ends at entry {expected_seq - 1} but the head records entry {head_seq}"
            " (entries were removed from the end, or the head was altered)"
        )
    return VerifyResult(ok=not problems, entries=count, head_hash=prev, problems=problems)


# --------------------------------------------------------------------------- reading the log


@dataclass(frozen=True)
class AuditFilters:
    """Empty strings mean "any"."""

    action: str = ""
    object_type: str = ""


def list_entries(*, acting_user: User, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Entries the user may read, newest first; reading the log is itself logged.

    Role x jurisdiction: entries made by members of units inside the user's jurisdiction; entries
    with no known actor (failed sign-ins) only for users whose jurisdiction is the whole tree.
    A refusal is audited and raises ``AccessDenied``.
    """
    if not role_allows(acting_user, Action.VIEW_AUDIT) or acting_user.jurisdiction is None:
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type="audit_entry",
            details={"wanted": str(Action.VIEW_AUDIT)},
        )
        raise AccessDenied(_("Your role may not read the audit log."))
    scope = scope_q(acting_user, Action.VIEW_AUDIT, field="actor__organisation__division")
    if acting_user.jurisdiction.parent_id is None:
        scope |= Q(actor__isnull=True)
    qs = AuditEntry.objects.filter(scope)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    record(
        actor=acting_user,
        action=AuditAction.SEARCH,
        object_type="audit_entry",
        details={"filters": sorted(k for k, v in vars(filters).items() if v)},
    )
    return qs.order_by("-seq")


def known_object_types() -> list[str]:
    """The record types that occur in the log (for a filter's choices)."""
    return list(
        AuditEntry.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
