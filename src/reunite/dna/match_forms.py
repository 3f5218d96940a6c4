"""Web forms of DNA matching: the candidate queue's filters, a review, a battle's threshold.

Each parses what the browser sent into the shapes of ``dna.review`` / ``dna.battle``; the rules
are checked there and their ``ValidationFailed.field_errors`` come back through ``put_errors``.
"""

from __future__ import annotations

import math

from django import forms
from django.utils.translation import gettext_lazy as _

from reunite.dna.models import CandidateStatus, HypothesisKind, ReviewDecision
from reunite.dna.review import MAX_NOTE, CandidateFilters

__all__ = ["BattleForm", "CandidateFilterForm", "ReviewForm"]


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise forms.ValidationError(_("Enter a number."))
    return value


class CandidateFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Open (candidate or under review)")),
            ("all", _("Any status")),
            *CandidateStatus.choices,
        ],
    )
    kind = forms.ChoiceField(
        label=_("Typed relatives"),
        required=False,
        choices=[("", "—"), *HypothesisKind.choices],
    )
    division = forms.RegexField(
        label=_("Jurisdiction (division code)"),
        required=False,
        regex=r"^[0-9]{2,12}$",
        error_messages={"invalid": _("A division code: digits only.")},
    )
    min_lr = forms.FloatField(label=_("Minimum LR"), required=False, min_value=1e-300)

    def clean_min_lr(self) -> float | None:
        return _finite(self.cleaned_data.get("min_lr"))

    def to_filters(self) -> tuple[CandidateFilters, bool]:
        """The filters, and whether only open candidates are wanted (the default)."""
        data = self.cleaned_data
        status = data.get("status") or ""
        open_only = status == ""
        return (
            CandidateFilters(
                status="" if status in ("", "all") else status,
                kind=data.get("kind") or "",
                division=data.get("division") or "",
                min_lr=data.get("min_lr"),
            ),
            open_only,
        )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=ReviewDecision.choices)
    note = forms.CharField(
        label=_("Why (what you checked)"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BattleForm(forms.Form):
    threshold = forms.FloatField(label=_("LR threshold"), min_value=1.0, max_value=1e30)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("threshold") is not None and data["threshold"] <= 1.0:
            self.add_error("threshold", _("An LR of 1 or less supports nothing: choose more."))
        return data

    def clean_threshold(self) -> float | None:
        return _finite(self.cleaned_data.get("threshold"))
