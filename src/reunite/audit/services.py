"""Writing and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from reunite.audit.context import current_request_context
from reunite.audit.models import AuditAction, AuditChainHead, AuditEntry

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
