"""A case's history in plain words: one line per event, in Chinese (the default) or English.

Each :class:`TimelineEntry` says when the event was recorded (China time,
UTC+8), who recorded it and in which role (``调解员``, ``安全员``, ``社区书记``…),
what happened, why (the reason the record gives), and which evidence it cites.

Personal data stays sealed: the timeline never opens a
:class:`~grid_events.domain.values.SealedData`. Where an event holds one (a
party's details, a statement, an investigation note, a resident's record, a
sampled person) the line shows a placeholder such as ``[当事人陈述已加密]``, so
the auditor sees that it was recorded without seeing it.

Every event class of the four aggregates has its phrasing here (a test fails
for any that has none). :func:`describe_state` renders an aggregate as it
stood at some moment (see :func:`grid_events.audit.replay.replay`) in
the same words.

The modules: :mod:`~grid_events.audit.timeline.vocabulary` holds the words
(roles, enum values, field labels); :mod:`~grid_events.audit.timeline.words`
how one event is phrased; ``residents``, ``tasks``, ``disputes`` and
``site_shifts`` the phrasings of each aggregate's events;
:mod:`~grid_events.audit.timeline.entries` the lines of a timeline;
:mod:`~grid_events.audit.timeline.cases` what a case is; and
:mod:`~grid_events.audit.timeline.state` an aggregate as it stood.
"""

from __future__ import annotations

from grid_events.audit.timeline.cases import (
    AGGREGATE_CLASSES,
    CaseKind,
    CaseSummary,
    case_kind,
    describe_case,
    event_classes,
)
from grid_events.audit.timeline.entries import TimelineEntry, build_timeline, describe_event, has_phrasing
from grid_events.audit.timeline.state import describe_state
from grid_events.audit.timeline.vocabulary import (
    LANGUAGES,
    ROLE_NAMES,
    VOCABULARY,
    Language,
    check_language,
    evidence_text,
    role_name,
    term,
)
from grid_events.audit.timeline.words import Phrasing as Phrasing
from grid_events.audit.timeline.words import Said as Said
from grid_events.audit.timeline.words import Sealed as Sealed
from grid_events.audit.timeline.words import Words as Words
from grid_events.audit.timeline.words import event_type

__all__ = [
    "AGGREGATE_CLASSES",
    "LANGUAGES",
    "ROLE_NAMES",
    "VOCABULARY",
    "CaseKind",
    "CaseSummary",
    "Language",
    "TimelineEntry",
    "build_timeline",
    "case_kind",
    "check_language",
    "describe_case",
    "describe_event",
    "describe_state",
    "event_classes",
    "event_type",
    "evidence_text",
    "has_phrasing",
    "role_name",
    "term",
]
