"""Builders for the DNA matching tests (``test_dnamatch_*``): families with typed relatives and
unidentified profiles, made through the registry's services (consent, custody, QC), genotypes
drawn from the shipped Han table (children by Mendel's rules)."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.dna.models import Profile
from reunite.people.models import MissingPersonReport
from tests import dna_factories as f

Genotypes = dict[str, list[str]]


@dataclass
class World:
    """What :func:`build_world` made: the lab technician, the families (report → code →
    profile), the true missing person's profile per report and the unrelated profiles."""

    tech: User
    families: dict[int, dict[str, Profile]] = field(default_factory=dict)
    truth: dict[int, Profile] = field(default_factory=dict)  # report id → the missing person
    unrelated: list[Profile] = field(default_factory=list)
    reports: dict[int, MissingPersonReport] = field(default_factory=dict)


SHAPES = {
    "trio": (("mother", "F"), ("father", "M")),
    "mother": (("mother", "F"),),
    "siblings": (("full_sibling", "F"), ("full_sibling", "M")),
    "sibling": (("full_sibling", "M"),),
}


def build_world(
    *,
    seed: int = 11,
    shapes: tuple[str, ...] = ("trio", "mother", "siblings"),
    unrelated: int = 4,
    code: str = f.CHAOYANG,
    tech: User | None = None,
) -> World:
    """Families of ``shapes`` in division ``code`` whose missing person is also typed as an
    unidentified person (a true relative to find), plus ``unrelated`` unidentified profiles."""
    rng = random.Random(seed)
    lab = tech or f.technician(f.BEIJING)
    world = World(tech=lab)
    for shape in shapes:
        report = f.report(code, sex="F")
        world.reports[report.pk] = report
        mother, father = f.random_genotypes(rng), f.random_genotypes(rng)
        missing = f.child_of(rng, mother, father)
        typed: dict[str, Profile] = {}
        for relationship, sex in SHAPES[shape]:
            member = f.member(
                lab, report, relationship, sex if relationship.endswith("ing") else ""
            )
            genotypes = (
                mother
                if relationship == "mother"
                else father
                if relationship == "father"
                else f.child_of(rng, mother, father)
            )
            sample = f.sample(lab, family_member=member)
            typed[member.code] = f.store(
                lab, sample, genotypes, amelogenin="XX" if sex == "F" else "XY"
            )
        world.families[report.pk] = typed
        person = f.found_person(code, sex="F")
        world.truth[report.pk] = f.store(lab, f.sample(lab, found=person), missing, amelogenin="XX")
    for _ in range(unrelated):
        person = f.found_person(code, sex="M")
        world.unrelated.append(
            f.store(lab, f.sample(lab, found=person), f.random_genotypes(rng), amelogenin="XY")
        )
    return world


def analyst(role: str = Role.DNA_TECHNICIAN, code: str = f.BEIJING) -> User:
    kind = (
        OrganisationKind.FORENSIC_LAB
        if role == Role.DNA_TECHNICIAN
        else (OrganisationKind.PUBLIC_SECURITY)
    )
    return f.user(role, code, kind)


# --------------------------------------------------------------------------- a real SMTP peer


@dataclass
class Mailbox:
    port: int
    messages: list[Message] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a loopback port, keeping what it receives."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    box = Mailbox(port=port)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def search_all() -> int:
    """Search every family against every unidentified profile at once (one engine call) and
    save the candidates; returns how many hits."""
    from django.db import transaction

    from reunite.dna import engine, matching

    params = engine.params_from_settings()
    families = engine.load_families()
    result = engine.search_chunk(families, engine.load_unknowns(), params)
    with transaction.atomic():
        matching.save_hits(result.hits, families, params, source="incremental")
    return len(result.hits)
