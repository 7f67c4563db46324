"""The lines of a timeline: each event of a case in words, who recorded it in which role, when, why, with what.

:func:`build_timeline` phrases a whole case (what earlier events told, such as
a checklist's items, names things better); :func:`describe_event` phrases one
event on its own. An event class no phrasing knows (written by a newer version
of the library) is shown field by field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from grid_events.audit.timeline import disputes, residents, site_shifts, tasks
from grid_events.audit.timeline.state import value_text
from grid_events.audit.timeline.vocabulary import Language, check_language, evidence_text, role_name
from grid_events.audit.timeline.words import CaseContext, Phrasing, Said, Words, event_type
from grid_events.domain.base import GridAggregate
from grid_events.domain.inspection import Finding
from grid_events.domain.mediation import CHINA_TIME
from grid_events.domain.values import Actor, EvidenceRef, Role

__all__ = ["TimelineEntry", "build_timeline", "describe_event", "has_phrasing"]

_PHRASINGS: Mapping[type[GridAggregate.Event], Phrasing] = {
    **residents.PHRASINGS,
    **tasks.PHRASINGS,
    **disputes.PHRASINGS,
    **site_shifts.PHRASINGS,
}


def has_phrasing(event_class: type[GridAggregate.Event]) -> bool:
    """Return whether the timeline has words for *event_class* (every event of the domain should)."""
    return event_class in _PHRASINGS


@attrs.frozen
class TimelineEntry:
    """One event of a case in plain words."""

    aggregate_id: UUID
    version: int
    recorded_at: datetime
    """When the event was recorded, in China time (UTC+8)."""
    event_type: str
    """The event's class as the records name it (``Dispute.AgreementSigned``)."""
    actor_id: str
    role: Role | None
    role_name: str
    what: str
    why: str
    evidence: tuple[EvidenceRef, ...]
    sealed: tuple[str, ...]
    """Placeholders of the sealed personal data the event holds (never the data)."""
    language: Language

    @property
    def time_text(self) -> str:
        """The recording time as the auditors read it: ``2026-11-02 09:00:00``."""
        return self.recorded_at.strftime("%Y-%m-%d %H:%M:%S")

    @property
    def actor_text(self) -> str:
        """Who acted and in which role: ``m-chen（调解员）``."""
        return (
            f"{self.actor_id}（{self.role_name}）" if self.language == "zh" else f"{self.actor_id} ({self.role_name})"
        )

    def evidence_texts(self) -> tuple[str, ...]:
        """Each piece of evidence in words: kind, where it is, its SHA-256 and description."""
        return tuple(evidence_text(ref, self.language) for ref in self.evidence)

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data with stable keys."""
        return {
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "event_type": self.event_type,
            "actor_id": self.actor_id,
            "role": self.role.value if self.role is not None else None,
            "role_name": self.role_name,
            "what": self.what,
            "why": self.why,
            "evidence": [
                {"kind": ref.kind.value, "uri": ref.uri, "sha256": ref.sha256, "description": ref.description}
                for ref in self.evidence
            ],
            "sealed": list(self.sealed),
        }


def _evidence(event: GridAggregate.Event) -> tuple[EvidenceRef, ...]:
    """Every evidence reference an event cites, wherever in its fields it is."""
    found: list[EvidenceRef] = []
    for value in vars(event).values():
        if isinstance(value, EvidenceRef):
            found.append(value)
        elif isinstance(value, Finding):
            found.extend(value.evidence)
        elif isinstance(value, tuple):
            found.extend(item for item in value if isinstance(item, EvidenceRef))
    return tuple(found)


def _fallback(event: GridAggregate.Event, w: Words) -> Said:
    """Words for an event class the timeline does not know (a newer version of the library wrote it)."""
    fields = w.join(
        f"{name}={value_text(value, w)}"
        for name, value in sorted(vars(event).items())
        if name not in {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}
    )
    return Said(w(f"{event_type(event)}：{fields}", f"{event_type(event)}: {fields}"))


def _actor(event: GridAggregate.Event) -> tuple[str, Role | None]:
    actor = getattr(event, "actor", None)
    if isinstance(actor, Actor):
        return actor.worker_id, actor.role
    return "?", None


def describe_event(event: GridAggregate.Event, lang: Language = "zh") -> TimelineEntry:
    """Return one event in plain words in *lang* (personal data stays sealed).

    Out of its history, the event is phrased without what earlier events
    told (a checklist item is named by its code only): prefer
    :func:`build_timeline` for a whole case.
    """
    return _describe(event, check_language(lang), CaseContext())


def _describe(event: GridAggregate.Event, lang: Language, context: CaseContext) -> TimelineEntry:
    words = Words(lang, context)
    phrasing = _PHRASINGS.get(type(event), _fallback)
    said = phrasing(event, words)
    actor_id, role = _actor(event)
    return TimelineEntry(
        aggregate_id=event.originator_id,
        version=event.originator_version,
        recorded_at=event.timestamp.astimezone(CHINA_TIME),
        event_type=event_type(event),
        actor_id=actor_id,
        role=role,
        role_name=role_name(role, lang) if role is not None else words("未知", "unknown"),
        what=said.what,
        why=said.why,
        evidence=_evidence(event),
        sealed=tuple(words.sealed_mentioned),
        language=lang,
    )


def build_timeline(events: Iterable[GridAggregate.Event], lang: Language = "zh") -> list[TimelineEntry]:
    """Return a case's events (oldest first, as :func:`~grid_events.audit.replay.history` gives them) in words."""
    lang = check_language(lang)
    context = CaseContext()
    entries = []
    for event in events:
        context.learn(event)
        entries.append(_describe(event, lang, context))
    return entries
