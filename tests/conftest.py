"""Shared fixtures: the real division tree, organisations and one user per role.

The test database gets the real administrative divisions of China once per session; each test
then runs in a rolled-back transaction (pytest-django's default for ``db``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

os.environ.setdefault(
    "REUNITE_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test")
)

from reunite.accounts.models import Division, Organisation, OrganisationKind, Role, User

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    from reunite.accounts.services import load_divisions

    with django_db_blocker.unblock():
        load_divisions()


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


def division(code: str) -> Division:
    return Division.objects.get(code=code)


@pytest.fixture
def make_org(db: None) -> Callable[..., Organisation]:
    def make(
        code: str, kind: str = OrganisationKind.PUBLIC_SECURITY, name: str | None = None
    ) -> Organisation:
        d = division(code)
        org, _ = Organisation.objects.get_or_create(
            division=d, name=name or f"{d.name} {kind}", defaults={"kind": kind}
        )
        return org

    return make


@pytest.fixture
def make_user(db: None, make_org: Callable[..., Organisation]) -> Callable[..., User]:
    counter = {"n": 0}

    def make(
        role: str = Role.INVESTIGATOR,
        code: str = "110105",
        kind: str = OrganisationKind.PUBLIC_SECURITY,
    ) -> User:
        counter["n"] += 1
        user = User.objects.create_user(
            username=f"{role}-{code}-{counter['n']}",
            password=PASSWORD,
            role=role,
            organisation=make_org(code, kind),
        )
        return user

    return make


@pytest.fixture
def investigator(make_user: Callable[..., User]) -> User:
    """An investigator of the Chaoyang district (Beijing) bureau."""
    return make_user(Role.INVESTIGATOR, "110105")


@pytest.fixture
def chaoyang() -> Division:
    return division("110105")


def png_bytes(size: tuple[int, int] = (32, 40), color: str = "teal", fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def photo_upload() -> Callable[..., SimpleUploadedFile]:
    def make(
        name: str = "face.png", content: bytes | None = None, content_type: str = "image/png"
    ) -> SimpleUploadedFile:
        return SimpleUploadedFile(
            name, content if content is not None else png_bytes(), content_type
        )

    return make


def days_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)
