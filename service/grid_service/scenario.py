"""A day of community work, generated deterministically from a seed.

A sampling site opens at seven with batches sealed every half hour, grid workers
make survey calls, a safety officer inspects a small eatery and finds a blocked
exit (re-inspected three days later), and a neighbours' dispute is mediated to a
signed agreement and a follow-up visit. Everything goes through
:class:`grid_events.GridApplication` at simulated times: :class:`DayPlan` lays
out the actions, :meth:`DayPlan.run` performs them in time order, moving the
application's clock. The same seed and size always give the same day.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal
from uuid import UUID

import attrs

from grid_events import (
    SMALL_VENUE_FIRE_SAFETY,
    Actor,
    Agreement,
    AgreementForm,
    CallOutcome,
    DisputeCategory,
    DisputeSource,
    EvidenceKind,
    EvidenceRef,
    GridApplication,
    GridCell,
    ItemResult,
    PartyDetails,
    PartyInput,
    PartyKind,
    PerformanceStatus,
    PersonalData,
    PersonKind,
    Place,
    ResidentRecord,
    ResidentTag,
    Role,
    SampledPerson,
    Severity,
    SignatureMethod,
    Site,
    SiteKind,
    TaskKind,
    Term,
)

__all__ = ["DAY_SIZES", "DayPlan", "DaySize", "DaySummary", "SimulatedClock"]

CHINA = timezone(timedelta(hours=8))
DAY_START = datetime(2026, 11, 2, 6, 30, tzinfo=CHINA)

SUB_DISTRICTS = ("西城", "江南", "东城", "经济开发区", "稠城", "北苑", "佛堂")
COMMUNITIES = ("西门", "飞凤", "金胜", "高镇", "金山", "平安", "望春", "宾王", "春华", "新马路")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = tuple("秀英 建国 丽娟 志强 桂兰 海燕 明 伟 芳 静 磊 敏 军 洋 勇 艳 杰 娟 涛 超".split())  # noqa: SIM905 (reads better)
LAB = "义乌市疾控中心实验室"
INITIAL_SUPPLIES = {"采样管": 100, "拭子": 300, "防护服": 20, "消毒液": 10}
LOW_SUPPLIES = {"采样管": 15, "拭子": 60, "防护服": 4, "消毒液": 2}
RESTOCK = {"采样管": 60, "拭子": 200, "防护服": 10, "消毒液": 5}


class SimulatedClock:
    """The application's clock during the demo: moved by the plan, never backwards."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        """Return the simulated time."""
        return self.now

    def move_to(self, moment: datetime) -> None:
        """Move the clock to *moment* (ignored if that is in the past)."""
        self.now = max(self.now, moment.astimezone(UTC))


@attrs.frozen
class DaySize:
    """How big a day to simulate."""

    communities: int
    sites_per_community: int
    residents_per_community: int
    callers_per_community: int
    calls_per_caller: int
    inspections_per_community: int
    disputes_per_community: int


DAY_SIZES: dict[str, DaySize] = {
    "community": DaySize(1, 1, 40, 2, 12, 1, 1),
    "district": DaySize(10, 3, 200, 4, 20, 2, 1),
    "city": DaySize(70, 5, 300, 6, 25, 3, 2),
}
"""``community``: one community, about a minute to watch; ``city``: 350 sites and 10,000 calls."""


@attrs.define
class DaySummary:
    """What happened during the day, counted."""

    counts: Counter[str] = attrs.field(factory=Counter)
    residents: list[UUID] = attrs.field(factory=list)
    tasks: list[UUID] = attrs.field(factory=list)
    inspections: list[UUID] = attrs.field(factory=list)
    disputes: list[UUID] = attrs.field(factory=list)
    shifts: list[UUID] = attrs.field(factory=list)


Action = Callable[[], None]
Phase = Literal["registry", "sites", "calls", "inspections", "mediation"]


@attrs.define
class _Community:
    grid: GridCell
    supervisor: Actor
    workers: list[Actor]
    safety_officer: Actor
    mediator: Actor
    residents: list[UUID] = attrs.field(factory=list)


class DayPlan:
    """Lays out one day of work in *size* and runs it against *app*.

    *app* must have been created with *clock* (``GridApplication(config,
    clock=clock)``) so that events carry the simulated times.
    """

    def __init__(self, app: GridApplication, clock: SimulatedClock, *, size: DaySize, seed: int = 2026) -> None:
        self.app = app
        self.clock = clock
        self.size = size
        self.random = random.Random(seed)  # noqa: S311 (a reproducible scenario, not secrets)
        self.summary = DaySummary()
        self._queue: list[tuple[datetime, int, Phase, Action]] = []
        self._supplies: dict[UUID, dict[str, int]] = {}
        self._laid_out = False
        self._order = itertools.count()
        self._communities = [self._community(index) for index in range(size.communities)]

    # -- running -------------------------------------------------------------------------

    def lay_out(self) -> None:
        """Queue the day's actions (done by :meth:`run` if not before; idempotent)."""
        if self._laid_out:
            return
        self._laid_out = True
        for community in self._communities:
            self._plan_community(community)

    def planned_phases(self) -> list[Phase]:
        """Return the phase of every queued action (after :meth:`lay_out`), for progress bars."""
        return [phase for _, _, phase, _ in self._queue]

    def run(self, progress: Callable[[Phase, DaySummary], None] | None = None) -> DaySummary:
        """Perform every action in time order; call *progress* after each one."""
        self.lay_out()
        for moment, phase, action in self._drain():
            self.clock.move_to(moment)
            action()
            if progress is not None:
                progress(phase, self.summary)
        return self.summary

    @property
    def planned_actions(self) -> int:
        """How many actions are queued (before :meth:`run`, after laying out the day)."""
        return len(self._queue)

    def _at(self, moment: datetime, phase: Phase, action: Action) -> None:
        heapq.heappush(self._queue, (moment, next(self._order), phase, action))

    def _drain(self) -> Iterator[tuple[datetime, Phase, Action]]:
        while self._queue:
            moment, _, phase, action = heapq.heappop(self._queue)
            yield moment, phase, action

    def _count(self, what: str, number: int = 1) -> None:
        self.summary.counts[what] += number

    # -- people and places ------------------------------------------------------------------

    def _community(self, index: int) -> _Community:
        sub_district = SUB_DISTRICTS[index % len(SUB_DISTRICTS)]
        name = COMMUNITIES[index % len(COMMUNITIES)] + ("" if index < len(COMMUNITIES) else str(index // 10))
        code = f"c{index:03d}"
        return _Community(
            grid=GridCell(sub_district, name, "01"),
            supervisor=Actor(f"{code}-secretary", Role.SUPERVISOR),
            workers=[Actor(f"{code}-worker{n}", Role.GRID_WORKER) for n in range(self.size.callers_per_community)],
            safety_officer=Actor(f"{code}-safety", Role.SAFETY_OFFICER),
            mediator=Actor(f"{code}-mediator", Role.MEDIATOR),
        )

    def _name(self) -> str:
        return self.random.choice(SURNAMES) + self.random.choice(GIVEN_NAMES)

    def _id_number(self) -> str:
        birth = date(1940, 1, 1) + timedelta(days=self.random.randrange(365 * 70))
        body = f"330782{birth:%Y%m%d}{self.random.randrange(1000):03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
        return body + check

    def _phone(self) -> str:
        return f"1{self.random.choice('3589')}{self.random.randrange(10**9):09d}"

    def _person(self) -> PersonalData:
        return PersonalData(
            name=self._name(),
            id_number=self._id_number(),
            phone=self._phone(),
            address=(
                f"{self.random.randrange(1, 30)}幢{self.random.randrange(1, 6)}单元{self.random.randrange(101, 1801)}"
            ),
        )

    # -- the day --------------------------------------------------------------------------------

    def _plan_community(self, community: _Community) -> None:
        self._at(DAY_START, "registry", lambda: self._register(community))
        for site_index in range(self.size.sites_per_community):
            self._plan_site(community, site_index)
        for worker in community.workers:
            self._plan_calls(community, worker)
        for inspection_index in range(self.size.inspections_per_community):
            self._plan_inspection(community, inspection_index)
        for dispute_index in range(self.size.disputes_per_community):
            self._plan_dispute(community, dispute_index)

    def _register(self, community: _Community) -> None:
        records = []
        for _ in range(self.size.residents_per_community):
            tags = frozenset({ResidentTag.ELDERLY_LIVING_ALONE}) if self.random.random() < 0.08 else frozenset()  # noqa: PLR2004
            records.append(ResidentRecord(self._person(), community.grid, tags))
        ids = self.app.import_residents(records, actor=community.workers[0])
        community.residents.extend(ids)
        self.summary.residents.extend(ids)
        self._count("residents registered", len(ids))

    # -- a sampling site ------------------------------------------------------------------------

    def _plan_site(self, community: _Community, index: int) -> None:
        grid = community.grid
        lead = Actor(f"{community.supervisor.worker_id[:4]}-lead{index}", Role.GRID_WORKER)
        site = Site(
            site_id=f"{grid.sub_district}-{grid.community}-采样点{index + 1}",
            name=f"{grid.community}社区核酸采样点{index + 1}",
            kind=SiteKind.SAMPLING_POINT,
            grid=grid,
            address=f"{grid.community}社区文化广场{index + 1}号",
        )
        opens = DAY_START + timedelta(minutes=30 + 5 * index)
        batches = self.random.randrange(8, 13)
        state: dict[str, UUID] = {}
        volunteers = [Actor(f"{lead.worker_id}-v{n}", Role.VOLUNTEER) for n in range(3)]
        tally = 0

        def plan() -> None:
            state["shift"] = self.app.plan_shift(
                site, opens, opens + timedelta(hours=12), lead.worker_id, actor=community.supervisor
            )
            self.summary.shifts.append(state["shift"])

        def open_site() -> None:
            self.app.open_shift(
                state["shift"],
                actor=lead,
                cordon_set_up=True,
                disinfected=True,
                supplies=INITIAL_SUPPLIES,
                low_thresholds=LOW_SUPPLIES,
            )
            self.app.check_in(state["shift"], lead.worker_id, PersonKind.WORKER, Role.GRID_WORKER, actor=lead)
            for volunteer in volunteers:
                self.app.check_in(
                    state["shift"], volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=volunteer
                )
            self._count("sites opened")

        self._at(opens - timedelta(minutes=20), "sites", plan)
        self._at(opens, "sites", open_site)
        for batch in range(batches):
            sealed = opens + timedelta(minutes=30 * (batch + 1))
            people = self.random.randrange(20, 60)
            tally += people
            self._at(sealed - timedelta(minutes=5), "sites", self._sample(state, lead, people, community))
            self._at(sealed, "sites", self._seal(state, lead, batch, people))
            self._at(
                sealed + timedelta(minutes=self.random.randrange(5, 20)), "sites", self._dispatch(state, lead, batch)
            )
            self._at(
                sealed + timedelta(minutes=self.random.randrange(50, 90)),
                "sites",
                self._receive(state, lead, batch, people),
            )
        closes = opens + timedelta(minutes=30 * batches + 25)
        final_tally = tally

        def close() -> None:
            for volunteer in volunteers:
                self.app.check_out(state["shift"], volunteer.worker_id, actor=volunteer)
            self.app.check_out(state["shift"], lead.worker_id, actor=lead)
            self.app.close_shift(state["shift"], final_tally, actor=lead)
            self._count("sites closed")

        self._at(closes, "sites", close)

    def _sample(self, state: dict[str, UUID], lead: Actor, people: int, community: _Community) -> Action:
        def sample() -> None:
            self._use(state, lead, "采样管", max(1, people // 10))
            self._use(state, lead, "拭子", people)
            self.app.tally_sampled(state["shift"], people, actor=lead)
            # Ten-in-one pooling: record the first person of the tube individually.
            resident = self.random.choice(community.residents) if community.residents else None
            person = SampledPerson(name=self._name(), id_number=self._id_number(), phone=self._phone())
            self.app.record_sample(
                state["shift"], f"T{self.random.randrange(10**8):08d}", person, actor=lead, resident_id=resident
            )
            self._count("people sampled", people)

        return sample

    def _use(self, state: dict[str, UUID], lead: Actor, item: str, quantity: int) -> None:
        """Use *quantity* of *item*, restocking first when the site would run short."""
        left = self._supplies.setdefault(state["shift"], dict(INITIAL_SUPPLIES))
        if left[item] - quantity < LOW_SUPPLIES[item]:
            self.app.restock_supplies(state["shift"], item, RESTOCK[item], actor=lead)
            left[item] += RESTOCK[item]
            self._count("restocks")
        self.app.use_supplies(state["shift"], item, quantity, actor=lead)
        left[item] -= quantity

    def _seal(self, state: dict[str, UUID], lead: Actor, batch: int, people: int) -> Action:
        def seal() -> None:
            self.app.seal_batch(state["shift"], f"B{batch + 1:02d}", max(1, people // 10), actor=lead)
            self._count("batches sealed")

        return seal

    def _dispatch(self, state: dict[str, UUID], lead: Actor, batch: int) -> Action:
        def dispatch() -> None:
            self.app.dispatch_batch(state["shift"], f"B{batch + 1:02d}", "转运车 浙G·7K312", actor=lead)

        return dispatch

    def _receive(self, state: dict[str, UUID], lead: Actor, batch: int, people: int) -> Action:
        def receive() -> None:
            self.app.receive_batch(state["shift"], f"B{batch + 1:02d}", LAB, max(1, people // 10), actor=lead)
            self._count("batches received")

        return receive

    # -- survey calls --------------------------------------------------------------------------

    def _plan_calls(self, community: _Community, worker: Actor) -> None:
        start = DAY_START + timedelta(hours=2, minutes=self.random.randrange(30))
        state: dict[str, UUID] = {}

        def create() -> None:
            state["task"] = self.app.create_task(
                TaskKind.SURVEY_CALL,
                "流调电话：密接人员核实",
                community.grid,
                actor=community.supervisor,
                due_at=self.clock() + timedelta(hours=8),
            )
            self.app.assign_task(state["task"], worker.worker_id, actor=community.supervisor)
            self.app.accept_task(state["task"], actor=worker)
            self.app.start_task(state["task"], actor=worker)
            self.summary.tasks.append(state["task"])

        self._at(start, "calls", create)
        moment = start
        for _ in range(self.size.calls_per_caller):
            moment += timedelta(minutes=self.random.randrange(4, 15))
            outcome = self.random.choices(list(CallOutcome), weights=(6, 2, 3))[0]
            self._at(moment, "calls", self._call(state, worker, outcome))

        def finish() -> None:
            self.app.submit_task(state["task"], "当日流调电话已全部拨打，未接通的已登记待回拨", actor=worker)
            self.app.verify_task(state["task"], actor=community.supervisor, note="抽查通话记录无误")
            self.app.close_task(state["task"], actor=community.supervisor)
            self._count("call tasks closed")

        self._at(moment + timedelta(minutes=30), "calls", finish)

    def _call(self, state: dict[str, UUID], worker: Actor, outcome: CallOutcome) -> Action:
        def call() -> None:
            self.app.record_call(state["task"], outcome, actor=worker)
            self._count("calls made")
            if outcome is not CallOutcome.NOT_REACHED:
                self._count("residents notified")

        return call

    # -- a fire inspection ----------------------------------------------------------------------

    def _plan_inspection(self, community: _Community, index: int) -> None:
        officer = community.safety_officer
        place = Place(
            f"{community.grid.community}小吃店{index + 1}",
            f"{community.grid.community}路{index + 10}号",
            community.grid,
        )
        start = DAY_START + timedelta(hours=3, minutes=20 * index)
        finds_blocked_exit = index == 0 or self.random.random() < 0.4  # noqa: PLR2004
        state: dict[str, UUID] = {}
        finding: dict[str, str] = {}
        day = start.date()
        photo = EvidenceRef(EvidenceKind.PHOTO, f"evidence://inspections/{community.grid.community}/{index}/exit.jpg")

        def visit() -> None:
            task_id = self.app.create_inspection(
                f"{place.name} 消防安全隐患排查", place, SMALL_VENUE_FIRE_SAFETY, actor=community.supervisor
            )
            state["task"] = task_id
            self.summary.inspections.append(task_id)
            self.app.assign_task(task_id, officer.worker_id, actor=community.supervisor)
            self.app.accept_task(task_id, actor=officer)
            self.app.start_task(task_id, actor=officer)
            for item in SMALL_VENUE_FIRE_SAFETY.items:
                failed = finds_blocked_exit and item.code == "exits_clear"
                self.app.check_item(task_id, item.code, ItemResult.FAIL if failed else ItemResult.PASS, actor=officer)
            if finds_blocked_exit:
                finding["id"] = self.app.record_finding(
                    task_id,
                    "exits_clear",
                    "后门安全出口被纸箱和液化气钢瓶堵塞",
                    severity=Severity.MAJOR,
                    location="后厨后门",
                    found_on=day,
                    actor=officer,
                    evidence=(photo,),
                )
                self.app.order_rectification(task_id, finding["id"], day + timedelta(days=3), day, actor=officer)
                self._count("hazards found")

        def reinspect() -> None:
            self.app.record_owner_report(
                task_id := state["task"], finding["id"], day + timedelta(days=2), actor=officer, note="店主来电称已清理"
            )
            self.app.reinspect(
                task_id,
                finding["id"],
                day + timedelta(days=3),
                passed=True,
                actor=officer,
                note="出口已清空",
                evidence=(photo,),
            )
            self._count("hazards rectified")

        def finish() -> None:
            self.app.submit_task(
                state["task"],
                "排查完毕，隐患已整改复查通过" if finds_blocked_exit else "排查完毕，未发现隐患",
                actor=officer,
            )
            self.app.verify_task(state["task"], actor=community.supervisor)
            self.app.close_task(state["task"], actor=community.supervisor)
            self._count("inspections closed")

        self._at(start, "inspections", visit)
        if finds_blocked_exit:
            later = start + timedelta(days=3)
            self._at(later, "inspections", reinspect)
            self._at(later + timedelta(hours=1), "inspections", finish)
        else:
            self._at(start + timedelta(hours=1), "inspections", finish)

    # -- a neighbours' dispute ------------------------------------------------------------------

    def _plan_dispute(self, community: _Community, index: int) -> None:
        mediator = community.mediator
        start = DAY_START + timedelta(hours=4, minutes=45 * index)
        state: dict[str, UUID] = {}
        day = start.date()

        def receive() -> None:
            residents = community.residents[:2] if len(community.residents) >= 2 else [None, None]  # noqa: PLR2004
            parties = [
                PartyInput(PartyKind.RESIDENT, PartyDetails(name=self._name(), phone=self._phone()), resident)
                if resident is not None
                else PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name=self._name(), phone=self._phone()))
                for resident in residents
            ]
            dispute_id = self.app.receive_dispute(
                DisputeSource.PARTY_APPLICATION,
                DisputeCategory.NEIGHBOUR,
                "楼上空调外机滴水、夜间噪音引发邻里纠纷",
                parties,
                community.grid,
                day,
                actor=mediator,
            )
            state["dispute"] = dispute_id
            self.summary.disputes.append(dispute_id)
            self.app.accept_dispute(dispute_id, day, actor=mediator)
            self.app.assign_mediator(dispute_id, mediator.worker_id, actor=community.supervisor)

        def session() -> None:
            self.app.record_session(
                state["dispute"],
                self.clock(),
                "社区调解室",
                (mediator.worker_id, "P1", "P2"),
                {
                    "P1": "楼上空调外机滴水到我家阳台，晚上还有拖动家具的声音。",
                    "P2": "愿意加装接水管，晚上十点后注意。",
                },
                "双方同意由楼上住户加装冷凝水管，晚十点后避免噪音",
                actor=mediator,
            )

        def agree() -> None:
            agreement = Agreement(
                form=AgreementForm.WRITTEN,
                facts="楼上空调冷凝水滴落至楼下阳台，夜间有噪音",
                issues="冷凝水处理及夜间噪音",
                terms=(
                    Term("P2 于一周内加装空调冷凝水管", "P2", day + timedelta(days=7)),
                    Term("P2 晚十点后避免拖动家具等噪音", "P2", None),
                ),
                performance="加装后由调解员回访确认",
                perform_by=day + timedelta(days=7),
            )
            self.app.draft_agreement(state["dispute"], agreement, actor=mediator)
            for signer in ("P1", "P2"):
                self.app.sign_agreement(state["dispute"], signer, day, SignatureMethod.SIGNATURE, actor=mediator)
            self.app.sign_agreement(
                state["dispute"], mediator.worker_id, day, SignatureMethod.SIGNATURE, actor=mediator
            )
            self._count("agreements signed")

        def follow_up() -> None:
            visit_day = day + timedelta(days=8)
            self.app.record_performance(state["dispute"], 0, performed=True, actor=mediator, note="冷凝水管已加装")
            self.app.record_follow_up(
                state["dispute"],
                visit_day,
                PerformanceStatus.FULLY,
                satisfied=True,
                escalation_signs=False,
                actor=mediator,
                note="双方满意",
            )
            self._count("follow-ups recorded")
            self.app.close_dispute(state["dispute"], "协议已履行，回访满意，结案", actor=community.supervisor)
            self._count("disputes resolved")

        self._at(start, "mediation", receive)
        self._at(start + timedelta(hours=2), "mediation", session)
        self._at(start + timedelta(hours=3), "mediation", agree)
        self._at(start + timedelta(days=8, hours=2), "mediation", follow_up)
