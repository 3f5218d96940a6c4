"""Photo intake: content checks, metadata stripping, private storage.

An upload is accepted only when Pillow decodes it as JPEG, PNG or WebP whatever its name says,
it is at most ``PHOTO_MAX_BYTES`` and ``MAX_PIXELS``.  It is re-encoded (orientation applied,
EXIF and GPS tags dropped) so that no hidden location of a victim or a family leaks from a photo.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from reunite.core.errors import ValidationFailed

MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile[bytes]
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str


def clean_photo(upload: UploadedFile, *, field: str = "photo") -> CleanPhoto:
    """Check an upload by content and return a metadata-free copy; ``ValidationFailed`` if not."""
    size = upload.size or 0
    if size > settings.PHOTO_MAX_BYTES:
        too_large = _("The photo is too large (%(size)s; the limit is %(limit)s).") % {
            "size": filesizeformat(size),
            "limit": filesizeformat(settings.PHOTO_MAX_BYTES),
        }
        raise ValidationFailed(too_large, field_errors={field: [too_large]})
    data = upload.read()
    not_image = _("This file is not a JPEG, PNG or WebP image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format or ""
                if fmt not in ALLOWED_FORMATS:
                    raise ValidationFailed(not_image, field_errors={field: [not_image]})
                if probe.width * probe.height > MAX_PIXELS:
                    raise ValidationFailed(
                        _("The photo has too many pixels."),
                        field_errors={field: [_("The photo has too many pixels.")]},
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()
                img: Image.Image = ImageOps.exif_transpose(opened)
                if img.mode not in ("RGB", "RGBA", "L"):
                    img = img.convert("RGB")
                if fmt == "JPEG" and img.mode == "RGBA":
                    img = img.convert("RGB")
                out = io.BytesIO()
                img.save(out, format=fmt, **({"quality": 90} if fmt != "PNG" else {}))
                width, height = img.size
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise ValidationFailed(not_image, field_errors={field: [not_image]}) from exc
    content_type, extension = ALLOWED_FORMATS[fmt]
    blob = out.getvalue()
    return CleanPhoto(
        content=ContentFile(blob),
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
        sha256=hashlib.sha256(blob).hexdigest(),
    )
