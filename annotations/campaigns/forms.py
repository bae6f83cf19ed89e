"""The campaign forms: a new campaign, and an edit of one. Both read into a `CampaignSpec`."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from annotations.campaigns.campaigns import CampaignError, CampaignSpec
from annotations.models import Campaign, Category
from policies.filters import FilterError, parse_period
from policies.models import Company, Snapshot


class _CaptureChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Snapshot) -> str:
        return f"{obj.company.name}, {obj.captured_at:%Y-%m-%d}"


class _CampaignFields(forms.Form):
    """What a new campaign and an edited one share."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    annotators = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        widget=forms.CheckboxSelectMultiple,
    )
    companies = forms.ModelMultipleChoiceField(
        queryset=Company.objects.order_by("name"), widget=forms.CheckboxSelectMultiple
    )
    captured_from = forms.CharField(required=False, label="Captured from (YYYY, YYYY-MM or date)")
    captured_to = forms.CharField(required=False, label="Captured to (inclusive)")
    per_capture = forms.IntegerField(min_value=1, max_value=20, initial=3)
    blind = forms.BooleanField(required=False, initial=True)
    suggestions = forms.BooleanField(
        required=False,
        label="Show suggestions to annotators",
        help_text="Categories suggested from other policies' tags and the category model. Off by "
        "default in a blind campaign: they show what others tagged.",
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None chosen: the whole taxonomy.",
    )

    def spec(self, slug: str, snapshot_ids: list[int] | None = None, **extra) -> CampaignSpec:
        """The form's campaign; a bad date range is a `CampaignError` naming its field."""
        data = self.cleaned_data
        try:
            start = data["captured_from"] and parse_period(data["captured_from"], "captured from")
            end = data["captured_to"] and parse_period(data["captured_to"], "captured to")
        except FilterError as exc:
            raise CampaignError(str(exc)) from exc
        return CampaignSpec(
            slug=slug,
            name=data["name"],
            description=data["description"],
            instructions=data["instructions"],
            annotators=[u.username for u in data["annotators"]],
            companies=[c.slug for c in data["companies"]],
            captured_from=start[0] if start else None,
            captured_before=end[1] if end else None,
            snapshot_ids=snapshot_ids or [],
            per_capture=data["per_capture"],
            blind=data["blind"],
            suggestions=data["suggestions"],
            categories=[c.slug for c in data["categories"]],
            **extra,
        )


class CampaignForm(_CampaignFields):
    slug = forms.SlugField(max_length=80)
    field_order = ["slug"]


class CampaignEditForm(_CampaignFields):
    """An edit: the campaign's captures to keep (all ticked), companies whose captures to add,
    the rule and whether it still runs."""

    captures = _CaptureChoice(
        queryset=Snapshot.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Captures to keep",
        help_text="Untick a capture to take it out (finished work cannot be taken out).",
    )
    rule = forms.ChoiceField(
        choices=Campaign.Rule.choices, help_text="What adjudication pre-selects for gold."
    )
    status = forms.ChoiceField(
        choices=Campaign.Status.choices,
        widget=forms.RadioSelect,
        help_text="Closing shows the annotators' tags to everyone and makes exports of their "
        "layers public; annotators can no longer mark captures done.",
    )
    field_order = [
        *("name", "description", "instructions", "status", "annotators", "per_capture", "blind"),
        *("categories", "rule", "captures", "companies", "captured_from", "captured_to"),
    ]

    def __init__(self, campaign: Campaign, *args, **kwargs) -> None:
        self.campaign = campaign
        captures = Snapshot.objects.filter(assignments__campaign=campaign).distinct()
        initial = {
            "name": campaign.name,
            "description": campaign.description,
            "instructions": campaign.instructions,
            "annotators": list(campaign.annotators.all()),
            "per_capture": campaign.per_capture,
            "blind": campaign.blind,
            "suggestions": campaign.suggestions,
            "categories": list(campaign.categories.all()),
            "captures": list(captures),
            "rule": campaign.rule,
            "status": campaign.status,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["captures"].queryset = captures.select_related("company").order_by(
            "company__slug", "captured_at"
        )
        self.fields["companies"].required = False
        self.fields["companies"].label = "Add the captures of"
        self.fields["companies"].help_text = "With the dates below, if given."

    def edit_spec(self) -> CampaignSpec:
        data = self.cleaned_data
        return self.spec(
            self.campaign.slug,
            [s.pk for s in data["captures"]],
            rule=data["rule"],
            status=data["status"],
        )
