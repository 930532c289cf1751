"""The fictional organisation behind the demo data: teams, people, workflows, outcomes.

Everything here is static; randomness lives in the modules that draw tasks and timelines. The shapes
follow what the warehouse expects from real exports (docs/input-contract.md): six teams on two
trackers, each with its own workflow and time zone, work tied to outcomes through workstreams and
rules.
"""

from __future__ import annotations

from dataclasses import dataclass

JIRA = "jira"
LINEAR = "linear"

# Status categories, the same vocabulary as the dbt `status_categories` seed. The generator uses
# them only to know what it produced (ground truth); the warehouse maps statuses on its own.
TODO, IN_PROGRESS, WAITING, DONE, CANCELLED = "todo", "in_progress", "waiting", "done", "cancelled"

STATUS_CATEGORIES: dict[str, str] = {
    "Backlog": TODO,
    "Selected for Development": TODO,
    "To Do": TODO,
    "Todo": TODO,
    "Open": TODO,
    "In Progress": IN_PROGRESS,
    "QA": IN_PROGRESS,
    "Code Review": WAITING,
    "In Review": WAITING,
    "Blocked": WAITING,
    "Done": DONE,
    "Resolved": DONE,
    "Closed": DONE,
    "Won't Do": CANCELLED,
    "Cancelled": CANCELLED,
    "Canceled": CANCELLED,
}
STATUSES: tuple[str, ...] = tuple(STATUS_CATEGORIES)

# Jira's status ids and status-category keys, as a Jira Cloud site reports them in changelogs.
JIRA_STATUS_IDS: dict[str, str] = {
    "Open": "1",
    "In Progress": "3",
    "Resolved": "5",
    "Closed": "6",
    "Backlog": "10000",
    "Selected for Development": "10001",
    "Code Review": "10002",
    "QA": "10003",
    "Done": "10004",
    "To Do": "10005",
    "In Review": "10006",
    "Blocked": "10007",
    "Cancelled": "10008",
    "Won't Do": "10009",
}
JIRA_CATEGORY_KEYS: dict[str, str] = {
    TODO: "new",
    IN_PROGRESS: "indeterminate",
    WAITING: "indeterminate",
    DONE: "done",
    CANCELLED: "done",
}


@dataclass(frozen=True)
class Team:
    """A delivery team: one tracker project, one time zone, one workflow."""

    name: str
    source: str
    project: str
    time_zone: str
    workflow: str
    volume_weight: float  # share of all tasks before growth and seasonality
    growth: float  # relative volume change from the first to the last day of the history
    pace: float  # multiplier on every step duration: slower teams have longer cycle times
    free_labels: tuple[str, ...]  # labels that no workstream rule of this team matches


TEAMS: tuple[Team, ...] = (
    Team(
        "Payments",
        JIRA,
        "PAY",
        "Europe/London",
        "PAY",
        0.19,
        0.10,
        1.00,
        ("tech-debt", "security", "performance", "api"),
    ),
    Team(
        "Onboarding",
        JIRA,
        "ONB",
        "Asia/Kolkata",
        "ONB",
        0.15,
        0.30,
        1.30,
        ("tech-debt", "security", "performance", "ux"),
    ),
    Team(
        "Mobile",
        JIRA,
        "MOB",
        "America/New_York",
        "MOB",
        0.18,
        0.00,
        0.90,
        ("tech-debt", "security", "ios", "android", "ux"),
    ),
    Team(
        "Data Platform",
        LINEAR,
        "DATA",
        "Europe/Berlin",
        "LINEAR",
        0.14,
        -0.20,
        1.50,
        ("tech-debt", "security", "performance", "dbt"),
    ),
    Team(
        "Growth",
        LINEAR,
        "GRO",
        "America/Los_Angeles",
        "LINEAR",
        0.19,
        0.50,
        0.70,
        ("tech-debt", "security", "experiments", "ux"),
    ),
    Team(
        "Support Tools",
        LINEAR,
        "SUP",
        "Australia/Sydney",
        "LINEAR",
        0.15,
        0.00,
        0.80,
        ("tech-debt", "security", "performance", "integrations"),
    ),
)
TEAM_NAMES: tuple[str, ...] = tuple(t.name for t in TEAMS)


@dataclass(frozen=True)
class Person:
    """Someone who works on tasks or answers surveys.

    ``linear_spelling``: the Linear export writes this person's e-mail with different case and a
    trailing space, as exports by hand-maintained user directories do. The warehouse must still see
    one person (pseudonyms are taken from the normalised address).
    """

    display_name: str
    email: str
    teams: tuple[str, ...]
    linear_spelling: bool = False

    @property
    def linear_email(self) -> str:
        if not self.linear_spelling:
            return self.email
        local, domain = self.email.split("@")
        local = ".".join(part.capitalize() for part in local.split("."))
        return f"{local}@{domain.capitalize()} "


PEOPLE: tuple[Person, ...] = (
    # Three people work in a Jira team and a Linear team: the same person in two trackers.
    Person("Ann Lee", "ann.lee@example.com", ("Payments", "Data Platform"), True),
    Person("Oliver Hughes", "oliver.hughes@example.com", ("Payments",)),
    Person("Priya Shah", "priya.shah@example.com", ("Payments",)),
    Person("Tom Becker", "tom.becker@example.com", ("Payments",)),
    Person("Grace O'Neill", "grace.oneill@example.com", ("Payments",)),
    Person("Samuel Okafor", "samuel.okafor@example.com", ("Payments",)),
    Person("Arjun Mehta", "arjun.mehta@example.com", ("Onboarding", "Support Tools"), True),
    Person("Kavya Iyer", "kavya.iyer@example.com", ("Onboarding",)),
    Person("Rohan Gupta", "rohan.gupta@example.com", ("Onboarding",)),
    Person("Sneha Rao", "sneha.rao@example.com", ("Onboarding",)),
    Person("Vikram Nair", "vikram.nair@example.com", ("Onboarding",)),
    Person("Jasmine Carter", "jasmine.carter@example.com", ("Mobile",)),
    Person("Luis Ortega", "luis.ortega@example.com", ("Mobile",)),
    Person("Emily Chen", "emily.chen@example.com", ("Mobile", "Growth"), True),
    Person("Marcus Reed", "marcus.reed@example.com", ("Mobile",)),
    Person("Hannah Kim", "hannah.kim@example.com", ("Mobile",)),
    Person("Daniel Brooks", "daniel.brooks@example.com", ("Mobile",)),
    Person("Lena Fischer", "lena.fischer@example.com", ("Data Platform",), True),
    Person("Jonas Weber", "jonas.weber@example.com", ("Data Platform",)),
    Person("Zoë Müller", "zoe.mueller@example.com", ("Data Platform",)),
    Person("Felix Wagner", "felix.wagner@example.com", ("Data Platform",)),
    Person("Sofia Alvarez", "sofia.alvarez@example.com", ("Growth",)),
    Person("Ethan Park", "ethan.park@example.com", ("Growth",), True),
    Person("Chloe Nguyen", "chloe.nguyen@example.com", ("Growth",)),
    Person("Noah Patel", "noah.patel@example.com", ("Growth",)),
    Person("Maya Johnson", "maya.johnson@example.com", ("Growth",)),
    Person("Olivia Wright", "olivia.wright@example.com", ("Support Tools",)),
    Person("Jack Thompson", "jack.thompson@example.com", ("Support Tools",), True),
    Person("Ruby Mitchell", "ruby.mitchell@example.com", ("Support Tools",)),
    Person("Liam Murphy", "liam.murphy@example.com", ("Support Tools",)),
    Person("Isla Campbell", "isla.campbell@example.com", ("Support Tools",)),
    # Outcome owners' delegates who answer the monthly confidence pulse.
    Person("Nadia Haddad", "nadia.haddad@example.com", ()),
    Person("Peter Lindqvist", "peter.lindqvist@example.com", ()),
    Person("Carmen Ruiz", "carmen.ruiz@example.com", ()),
    Person("Hiroshi Tanaka", "hiroshi.tanaka@example.com", ()),
)


def team_members(team: str) -> tuple[int, ...]:
    """Indexes into PEOPLE of the members of a team."""
    return tuple(i for i, person in enumerate(PEOPLE) if team in person.teams)


STAKEHOLDERS: tuple[int, ...] = tuple(i for i, person in enumerate(PEOPLE) if not person.teams)


@dataclass(frozen=True)
class Workflow:
    """The statuses a team's tracker walks through.

    ``opening`` lists the ways into In Progress: (initial status, steps, weight), a step being
    (status entered, duration kind). ``delivery`` is built from In Progress to the first done
    status; ``reopen`` from done back to done; ``cancel`` is the cancelled status (None: the
    workflow cannot cancel).
    """

    name: str
    opening: tuple[tuple[str, tuple[tuple[str, str], ...], float], ...]
    review: str
    qa: str | None
    blocked: str | None
    done: tuple[str, ...]  # entered in order on delivery (MOB: Resolved, then Closed)
    cancel: str | None
    straight_done: str  # done status a never-started task jumps to


WORKFLOWS: dict[str, Workflow] = {
    "PAY": Workflow(
        "PAY",
        opening=(
            (
                "Backlog",
                (("Selected for Development", "queue"), ("In Progress", "select")),
                0.75,
            ),
            ("Backlog", (("In Progress", "queue"),), 0.25),
        ),
        review="Code Review",
        qa="QA",
        blocked=None,
        done=("Done",),
        cancel="Won't Do",
        straight_done="Done",
    ),
    "ONB": Workflow(
        "ONB",
        opening=(("To Do", (("In Progress", "queue"),), 1.0),),
        review="In Review",
        qa=None,
        blocked="Blocked",
        done=("Done",),
        cancel="Cancelled",
        straight_done="Done",
    ),
    "MOB": Workflow(
        "MOB",
        opening=(("Open", (("In Progress", "queue"),), 1.0),),
        review="In Review",
        qa="QA",
        blocked=None,
        done=("Resolved", "Closed"),
        cancel=None,
        straight_done="Closed",
    ),
    "LINEAR": Workflow(
        "LINEAR",
        opening=(
            ("Backlog", (("Todo", "queue"), ("In Progress", "select")), 0.55),
            # Dragged from Backlog straight into In Progress: Linear logs both moves at once.
            ("Backlog", (("Todo", "queue"), ("In Progress", "instant")), 0.15),
            ("Todo", (("In Progress", "queue"),), 0.30),
        ),
        review="In Review",
        qa=None,
        blocked=None,
        done=("Done",),
        cancel="Canceled",
        straight_done="Done",
    ),
}

# Duration of one step by kind, in working hours: (median, log-normal sigma, share that is zero).
# A zero duration gives two transitions with the same timestamp (the sequence decides the order).
STEP_DURATIONS: dict[str, tuple[float, float, float]] = {
    "queue": (45.0, 1.1, 0.0),
    "select": (16.0, 0.9, 0.03),
    "active": (16.0, 0.8, 0.0),
    "review": (5.0, 0.9, 0.02),
    "rework": (6.0, 0.8, 0.0),
    "qa": (7.0, 0.8, 0.0),
    "blocked": (18.0, 0.9, 0.0),
    "close": (20.0, 1.0, 0.3),
    "reopen": (35.0, 1.0, 0.0),
    "cancel": (60.0, 1.1, 0.0),
    "instant": (0.0, 0.0, 1.0),
}
STEP_KINDS: tuple[str, ...] = tuple(STEP_DURATIONS)

TASK_TYPES: tuple[str, ...] = ("story", "task", "bug", "spike", "epic")
JIRA_TASK_TYPES: dict[str, str] = {
    "story": "Story",
    "task": "Task",
    "bug": "Bug",
    "spike": "Spike",
    "epic": "Epic",
}
TASK_TYPE_SHARES: dict[str, float] = {"story": 0.46, "task": 0.28, "bug": 0.20, "spike": 0.06}
PRODUCTION_BUG_SHARE = 0.35


@dataclass(frozen=True)
class Kpi:
    kpi_id: str
    name: str
    unit: str
    area: str
    aggregation: str
    direction: str
    cadence_days: int


@dataclass(frozen=True)
class Outcome:
    """An outcome and how its KPI behaves in the demo.

    ``trajectory``: ``work`` moves the KPI in proportion to the linked work completed (lagged),
    ``time`` moves it with elapsed time, ``flat`` keeps it at the baseline whatever the work does.
    ``final_progress`` is the progress reached at the end of the history.
    """

    outcome_id: str
    statement: str
    kpi: Kpi
    baseline_value: float
    target_value: float
    baseline_months_before_end: int
    target_months_after_end: int  # negative: the target date has passed
    owner: str
    trajectory: str
    final_progress: float
    decimals: int
    noise: float  # daily noise, as a share of |target - baseline|


def _kpi(kpi_id, name, unit, area, aggregation, direction, cadence_days=1) -> Kpi:
    return Kpi(kpi_id, name, unit, area, aggregation, direction, cadence_days)


OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "O-01",
        "Reduce invoice processing time from 5 to 2 days",
        _kpi("KPI-INVOICE-DAYS", "Invoice processing time", "days", "business", "avg", "decrease"),
        5.0,
        2.0,
        15,
        6,
        "Head of Finance Operations",
        "work",
        0.80,
        2,
        0.06,
    ),
    Outcome(
        "O-02",
        "Raise checkout conversion from 3.1% to 3.8%",
        _kpi("KPI-CHECKOUT-CONV", "Checkout conversion", "%", "business", "avg", "increase"),
        3.1,
        3.8,
        14,
        4,
        "Director of E-commerce",
        "work",
        0.45,
        2,
        0.10,
    ),
    Outcome(
        "O-03",
        "Raise 7-day activation of new accounts from 42% to 55%",
        _kpi("KPI-ACTIVATION-7D", "7-day activation rate", "%", "adoption", "avg", "increase"),
        42.0,
        55.0,
        16,
        8,
        "VP Product",
        "work",
        0.70,
        1,
        0.06,
    ),
    Outcome(
        "O-04",
        "Cut KYC drop-off during onboarding from 18% to 10%",
        _kpi("KPI-KYC-DROPOFF", "KYC drop-off rate", "%", "business", "avg", "decrease"),
        18.0,
        10.0,
        18,
        -2,
        "Head of Compliance",
        "time",
        1.08,
        1,
        0.04,
    ),
    Outcome(
        "O-05",
        "Grow mobile weekly active users from 120,000 to 150,000",
        _kpi(
            "KPI-MOBILE-WAU", "Mobile weekly active users", "users", "adoption", "last", "increase"
        ),
        120_000.0,
        150_000.0,
        13,
        5,
        "Head of Mobile",
        "work",
        0.55,
        0,
        0.05,
    ),
    Outcome(
        "O-06",
        "Cut the mobile crash rate from 1.2% to 0.5% of sessions",
        _kpi("KPI-CRASH-RATE", "Crash rate", "% of sessions", "quality", "avg", "decrease"),
        1.2,
        0.5,
        12,
        3,
        "Head of Mobile",
        "work",
        0.30,
        3,
        0.08,
    ),
    Outcome(
        "O-07",
        "Publish the daily revenue report by 07:00 on 95% of days (from 70%)",
        _kpi("KPI-REPORT-ON-TIME", "Revenue report on time", "%", "adoption", "avg", "increase"),
        70.0,
        95.0,
        15,
        6,
        "Chief Financial Officer",
        "work",
        0.78,
        1,
        0.08,
    ),
    Outcome(
        "O-08",
        "Reduce average ticket handling time from 14 to 9 minutes",
        _kpi("KPI-HANDLING-TIME", "Ticket handling time", "minutes", "business", "avg", "decrease"),
        14.0,
        9.0,
        12,
        9,
        "Head of Customer Support",
        "work",
        0.42,
        1,
        0.08,
    ),
    Outcome(
        "O-09",
        "Raise the self-service resolution rate from 22% to 35%",
        _kpi(
            "KPI-SELF-SERVICE", "Self-service resolution rate", "%", "adoption", "avg", "increase"
        ),
        22.0,
        35.0,
        14,
        4,
        "Head of Customer Support",
        "flat",
        0.0,
        1,
        0.05,
    ),
    Outcome(
        "O-10",
        "Increase weekly referral sign-ups from 180 to 320",
        _kpi(
            "KPI-REFERRALS",
            "Referral sign-ups, trailing 7 days",
            "sign-ups",
            "business",
            "last",
            "increase",
        ),
        180.0,
        320.0,
        13,
        7,
        "Head of Growth",
        "work",
        0.88,
        0,
        0.05,
    ),
)

# KPIs that no outcome targets: flow and quality signals the scorecard can show beside outcomes.
SECONDARY_KPIS: tuple[Kpi, ...] = (
    _kpi("KPI-DEPLOYS", "Production deployments", "deployments", "flow", "sum", "increase"),
    _kpi(
        "KPI-INCIDENTS", "Customer-facing incidents", "incidents", "quality", "sum", "decrease", 7
    ),
)

FLAT_OUTCOME_ID = "O-09"
STALE_OUTCOME_ID = "O-05"  # its KPI stops reporting STALE_DAYS before the end of the history
STALE_DAYS = 45
KPI_LAG_DAYS = 21  # completed work shows in a KPI about three weeks later


@dataclass(frozen=True)
class Workstream:
    """A workstream, its hypothesis, and how tasks reach it.

    ``label``: tasks of ``team`` carrying this label match its rule; ``via_epics``: tasks whose epic
    is one of the workstream's epics match (one rule per epic); ``whole_project``: every task of the
    team matches a low-priority rule; ``own_share``: share of its tasks (Linear only) that carry the
    workstream id themselves.
    """

    workstream_id: str
    name: str
    outcome_id: str
    hypothesis: str
    team: str
    label: str | None = None
    via_epics: bool = False
    whole_project: bool = False
    priority: int = 50
    own_share: float = 0.0
    theme: str = ""


WORKSTREAMS: tuple[Workstream, ...] = (
    Workstream(
        "WS-01",
        "Invoice auto-matching",
        "O-01",
        "If we auto-match invoices to purchase orders, invoice processing time falls by 2 days",
        "Payments",
        label="invoicing",
        theme="invoicing",
    ),
    Workstream(
        "WS-02",
        "One-click checkout",
        "O-02",
        "If returning customers can pay with one click, checkout conversion rises by 0.4 points",
        "Payments",
        label="checkout",
        theme="checkout",
    ),
    Workstream(
        "WS-03",
        "Wallet payments in the app",
        "O-02",
        "If the app accepts Apple Pay and Google Pay, checkout conversion rises by 0.3 points",
        "Mobile",
        label="checkout",
        theme="checkout",
    ),
    Workstream(
        "WS-04",
        "Guided first run",
        "O-03",
        "If new accounts get a guided setup checklist, 7-day activation rises by 8 points",
        "Onboarding",
        label="activation",
        theme="activation",
    ),
    Workstream(
        "WS-05",
        "KYC document capture",
        "O-04",
        "If customers can photograph ID documents in the app, KYC drop-off falls by 8 points",
        "Onboarding",
        via_epics=True,
        priority=80,
        theme="kyc",
    ),
    Workstream(
        "WS-06",
        "Push re-engagement",
        "O-05",
        "If we send personalised push reminders, mobile weekly active users grow by 20,000",
        "Mobile",
        label="engagement",
        theme="engagement",
    ),
    Workstream(
        "WS-07",
        "Crash-free sessions",
        "O-06",
        "If we fix the top 20 crash signatures, the crash rate falls to 0.5% of sessions",
        "Mobile",
        label="performance",
        priority=40,
        theme="performance",
    ),
    Workstream(
        "WS-08",
        "Pipeline SLA hardening",
        "O-07",
        "If ingestion jobs are retried and parallelised, the revenue report lands by 07:00 on "
        "95% of days",
        "Data Platform",
        label="reporting",
        own_share=0.6,
        theme="reporting",
    ),
    Workstream(
        "WS-09",
        "Growth experiments",
        "O-03",
        "If we run two onboarding experiments a month, 7-day activation rises by 5 points",
        "Growth",
        whole_project=True,
        priority=5,
        theme="growth",
    ),
    Workstream(
        "WS-10",
        "Referral programme",
        "O-10",
        "If referrers earn account credit, weekly referral sign-ups rise by 140",
        "Growth",
        label="referrals",
        own_share=0.3,
        theme="referrals",
    ),
    Workstream(
        "WS-11",
        "Help-centre search",
        "O-09",
        "If help-centre search understands plain-language questions, self-service resolution "
        "rises by 13 points",
        "Support Tools",
        via_epics=True,
        priority=90,
        theme="help-search",
    ),
    Workstream(
        "WS-12",
        "Agent macros",
        "O-08",
        "If agents get one-click macros for the top 30 ticket types, handling time falls by "
        "5 minutes",
        "Support Tools",
        label="macros",
        own_share=0.5,
        theme="macros",
    ),
)

# What each team's non-epic tasks are for: a workstream id, or None for work tied to no outcome.
# Growth has no unlinked work: a project-wide rule catches everything its labels do not.
TASK_PURPOSES: dict[str, tuple[tuple[str | None, float], ...]] = {
    "Payments": (("WS-01", 0.40), ("WS-02", 0.38), (None, 0.22)),
    "Onboarding": (("WS-04", 0.40), ("WS-05", 0.34), (None, 0.26)),
    "Mobile": (("WS-03", 0.28), ("WS-06", 0.27), ("WS-07", 0.27), (None, 0.18)),
    "Data Platform": (("WS-08", 0.74), (None, 0.26)),
    "Growth": (("WS-10", 0.40), ("WS-09", 0.60)),
    "Support Tools": (("WS-11", 0.14), ("WS-12", 0.56), (None, 0.30)),
}

# Tasks of the first workstream that also carry the second one's label: they resolve by rule
# precedence (higher priority, then the lowest workstream id), as the warehouse must.
CROSS_LABELS: tuple[tuple[str, str, float], ...] = (
    ("WS-03", "performance", 0.10),  # checkout (priority 50) beats performance (40)
    ("WS-02", "invoicing", 0.05),  # same priority: WS-01 wins on the lower id
)

LABELS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [ws.label for ws in WORKSTREAMS if ws.label] + [lab for t in TEAMS for lab in t.free_labels]
    )
)

# Title vocabulary by theme (a workstream's theme, a free label, or "general").
TITLE_OBJECTS: dict[str, tuple[str, ...]] = {
    "invoicing": (
        "invoice matching",
        "supplier invoice import",
        "VAT rounding",
        "purchase-order lookup",
        "invoice approval flow",
        "credit-note handling",
        "e-invoicing export",
    ),
    "checkout": (
        "one-click checkout",
        "saved cards",
        "checkout address form",
        "3-D Secure challenge",
        "payment retries",
        "basket summary",
        "wallet payments",
    ),
    "activation": (
        "setup checklist",
        "welcome tour",
        "first-project template",
        "invite-teammates step",
        "activation e-mails",
        "empty-state hints",
    ),
    "kyc": (
        "ID document capture",
        "liveness check",
        "address verification",
        "KYC review queue",
        "document upload retries",
    ),
    "engagement": (
        "push reminders",
        "notification preferences",
        "streaks widget",
        "re-engagement campaign",
        "in-app inbox",
    ),
    "performance": (
        "cold start time",
        "image caching",
        "list rendering",
        "memory use on older devices",
        "crash reporting",
    ),
    "reporting": (
        "revenue report job",
        "ingestion retries",
        "late-data alerts",
        "warehouse partitions",
        "model run times",
    ),
    "growth": (
        "pricing page experiment",
        "sign-up form variant",
        "onboarding e-mail test",
        "landing page copy",
        "trial length test",
    ),
    "referrals": (
        "referral links",
        "referral credit ledger",
        "invite rewards page",
        "referral fraud checks",
    ),
    "help-search": (
        "help-centre search ranking",
        "article suggestions",
        "search synonyms",
        "question intent model",
    ),
    "macros": ("ticket macros", "macro suggestions", "canned replies editor", "ticket routing"),
    "tech-debt": (
        "legacy API client",
        "flaky test suite",
        "build pipeline",
        "deprecated SDK",
        "logging format",
    ),
    "security": (
        "token rotation",
        "dependency upgrades",
        "access review",
        "rate limiting",
        "secrets scanning",
    ),
    "general": (
        "admin settings",
        "audit log",
        "feature flags",
        "error messages",
        "analytics events",
        "localisation",
    ),
}
TITLE_VERBS: tuple[str, ...] = (
    "Add",
    "Build",
    "Automate",
    "Improve",
    "Support",
    "Migrate",
    "Instrument",
    "Redesign",
)
TITLE_QUALIFIERS: tuple[str, ...] = (
    "",
    " for EU customers",
    " on Android",
    " on iOS",
    " in the admin console",
    " for enterprise accounts",
    " behind a feature flag",
    " for new sign-ups",
)
BUG_SYMPTOMS: tuple[str, ...] = (
    " fails for large files",
    " shows the wrong total",
    " times out under load",
    " duplicates entries",
    " is missing translations",
    " crashes on resume",
)
EPIC_SUFFIXES: tuple[str, ...] = (
    ": foundations",
    ": phase 2",
    ": rollout",
    ": polish",
    ": EU launch",
    ": mobile parity",
)
FLAG_REASONS: tuple[str, ...] = (
    "Waiting on another team",
    "Blocked by vendor",
    "Needs product decision",
    "Environment down",
    "Waiting for security review",
)
