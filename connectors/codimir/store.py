"""In-memory state of the Codimir simulator and its deterministic seed data."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SEED_ANCHOR = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)  # "now" of the seeded history
SESSION_USER_ID = "user_101"
WORKSPACE = {"id": "workspace_789", "name": "Acme Engineering", "slug": "acme-engineering"}

STATUSES = ("backlog", "todo", "in_progress", "in_review", "done", "cancelled")
PRIORITIES = ("lowest", "low", "medium", "high", "highest")
TYPES = ("TASK", "BUG", "FEATURE", "IMPROVEMENT", "EPIC")
STAGES = ("PLANNING", "DEVELOPMENT", "TESTING", "DEPLOYMENT", "COMPLETED")
STAGE_OF = {"backlog": "PLANNING", "todo": "PLANNING", "in_progress": "DEVELOPMENT",
            "in_review": "TESTING", "done": "COMPLETED", "cancelled": "PLANNING"}

USERS = ["Jane Smith", "John Doe", "Priya Raman", "Marcus Chen", "Sofia Alvarez", "Tomasz Nowak",
         "Amara Okafor", "Liam O'Brien", "Yuki Tanaka", "Fatima Zahra", "Noah Williams", "Elena Petrova"]
# id, name, key, description, status, visibility, owner, {user number: role}, ticket count (None: ticket_count)
PROJECTS: list[tuple[str, str, str, str, str, str, int, dict[int, str], int | None]] = [
    ("project_456", "Web Application", "WEB", "Main customer-facing web application", "active", "private",
     101, {101: "OWNER", 102: "ADMIN", 103: "MEMBER", 104: "MEMBER", 105: "MEMBER", 106: "MEMBER",
           107: "MEMBER", 108: "MEMBER", 109: "MEMBER", 110: "VIEWER"}, None),
    ("project_457", "Mobile App", "MOB", "iOS and Android mobile application", "active", "public",
     102, {102: "OWNER", 101: "MEMBER", 104: "MEMBER", 105: "MEMBER", 111: "MEMBER"}, 8),
    ("project_458", "Platform Infrastructure", "OPS", "Clusters, CI/CD and observability", "active",
     "private", 106, {106: "OWNER", 101: "ADMIN", 107: "MEMBER", 112: "MEMBER"}, 6),
    ("project_459", "Legacy Billing", "BILL", "Old invoicing service, read-mostly", "archived", "private",
     108, {108: "OWNER", 101: "MEMBER", 109: "MEMBER"}, 5),
    ("project_460", "Security Audit", "SEC", "Findings of the 2025 penetration test", "active", "private",
     112, {112: "OWNER", 110: "MEMBER"}, 4),
]
GROUPS = [("group_103", "Frontend"), ("group_104", "Backend"), ("group_105", "Quality Assurance")]
LABELS = [("frontend", "#3b82f6"), ("backend", "#10b981"), ("performance", "#f59e0b"), ("security", "#ef4444"),
          ("ux", "#8b5cf6"), ("tech-debt", "#6b7280"), ("customer-reported", "#ec4899"), ("accessibility", "#14b8a6")]
SUBJECTS = ["login form", "password reset email", "dashboard charts", "CSV export", "notification settings",
            "search results page", "invoice PDF", "avatar upload", "dark mode toggle", "session timeout handling",
            "API rate limiter", "onboarding checklist", "team invite flow", "audit log view", "webhook retries",
            "markdown editor", "file attachments", "mobile navigation menu", "SSO configuration",
            "project settings page", "billing page", "activity feed", "keyboard shortcuts", "email digest"]
TITLES = {
    "BUG": ["Fix broken {s}", "{S} fails on Safari", "{S} shows stale data after refresh", "Crash when saving {s}"],
    "FEATURE": ["Add filters to {s}", "Support bulk actions in {s}", "Implement new {s}"],
    "IMPROVEMENT": ["Improve performance of {s}", "Refactor {s} state management", "Clearer errors in {s}"],
    "TASK": ["Write tests for {s}", "Update documentation for {s}", "Migrate {s} to the v2 API"],
    "EPIC": ["{S} overhaul", "Q3 initiative: {s}"],
}
SENTENCES = ["Reported by several customers on the Enterprise plan.", "Steps to reproduce are in the linked thread.",
             "Happens roughly one time in five, mostly on slow networks.", "Design mockups are attached in Figma.",
             "Should be behind a feature flag until QA signs off.", "Blocked on the backend schema change.",
             "Acceptance criteria: works on the latest two browser versions.", "Keep the public API unchanged."]
COMMENTS = ["Can reproduce on staging.", "I'll take this one after the release.",
            "Fixed in the latest build, please verify.", "Added a regression test.",
            "This needs a product decision first.", "PR is up for review.", "Deployed to staging, looks good so far.",
            "Lowering priority, workaround exists.", "Pairing on this tomorrow."]


def iso(dt: datetime) -> str:
    """JavaScript ``Date.toJSON()`` form, as Prisma/Next.js emit it: always milliseconds and ``Z``."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def number(record_id: str) -> int:
    return int(record_id.rsplit("_", 1)[1])


@dataclass
class Store:
    """Everything the simulator knows; records are the JSON-ready dicts the API returns."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # project id -> memberships
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    ticket_labels: dict[str, list[str]] = field(default_factory=dict)
    ticket_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # attachments, timeLogs
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> str:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return f"{kind}_{self.counters[kind]}"

    def next_key(self, project_id: str) -> str:
        """Ticket keys are per-project sequences and are never reused after a delete."""
        counter = f"key:{project_id}"
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return f"{self.projects[project_id]['key']}-{self.counters[counter]}"

    def role(self, project_id: str | None, user_id: str) -> str | None:
        return next((m["role"] for m in self.members.get(project_id or "", []) if m["userId"] == user_id), None)

    def can_see(self, project_id: str | None) -> bool:
        """Private projects are visible to their members only; tickets without a project to everyone."""
        if project_id is None:
            return True
        project = self.projects[project_id]
        return project["visibility"] == "public" or self.role(project_id, SESSION_USER_ID) is not None

    def comments_of(self, ticket_id: str) -> list[dict[str, Any]]:
        return sorted((c for c in self.comments.values() if c["ticketId"] == ticket_id),
                      key=lambda c: (c["createdAt"], number(c["id"])))


def seed_store(seed: int, ticket_count: int) -> Store:
    rng = random.Random(seed)
    store = Store()
    for n, name in enumerate(USERS, start=101):
        first, last = name.lower().replace("'", "").split()
        store.users[f"user_{n}"] = {
            "id": f"user_{n}", "name": name, "email": f"{first}.{last}@acme.dev",
            "image": None if n % 4 == 0 else f"https://avatars.codimir.com/user_{n}.png",
        }
    store.groups = {gid: {"id": gid, "name": name, "workspaceId": WORKSPACE["id"]} for gid, name in GROUPS}
    plans: list[tuple[datetime, str]] = []
    for pid, name, key, desc, status, visibility, owner, roles, count in PROJECTS:
        created = SEED_ANCHOR - timedelta(days=400 - 10 * len(store.projects))
        store.projects[pid] = {
            "id": pid, "name": name, "description": desc, "key": key, "status": status,
            "visibility": visibility, "workspaceId": WORKSPACE["id"], "ownerId": f"user_{owner}",
            "createdAt": iso(created), "updatedAt": iso(created + timedelta(days=30)),
        }
        store.members[pid] = [
            {"id": store.next_id("member"), "projectId": pid, "userId": f"user_{u}", "role": role,
             "joinedAt": iso(created + timedelta(days=i))}
            for i, (u, role) in enumerate(roles.items())
        ]
        for label, color in LABELS[: 8 if count is None else 3]:
            lid = store.next_id("label")
            store.labels[lid] = {"id": lid, "name": label, "color": color, "projectId": pid}
        span = int((SEED_ANCHOR - created).total_seconds())
        plans += [(created + timedelta(seconds=rng.randrange(span)), pid) for _ in range(count or ticket_count)]
    for created, pid in sorted(plans):
        _seed_ticket(store, rng, pid, created)
    return store


def _seed_ticket(store: Store, rng: random.Random, pid: str, created: datetime) -> None:
    created += timedelta(milliseconds=rng.randrange(1000))
    people = [m["userId"] for m in store.members[pid]]
    workers = [m["userId"] for m in store.members[pid] if m["role"] != "VIEWER"]
    kind = rng.choices(TYPES, weights=(30, 30, 20, 15, 5))[0]
    subject = rng.choice(SUBJECTS)
    status = rng.choices(STATUSES, weights=(15, 20, 15, 10, 33, 7))[0]
    window = min(60 * 86400.0, (SEED_ANCHOR - created).total_seconds())
    updated = created + timedelta(seconds=rng.uniform(0.001, window))
    tid = store.next_id("ticket")
    store.tickets[tid] = {
        "id": tid, "title": rng.choice(TITLES[kind]).format(s=subject, S=subject[0].upper() + subject[1:]),
        "description": None if rng.random() < 0.1 else " ".join(rng.sample(SENTENCES, 2)),
        "key": store.next_key(pid), "type": kind, "status": status,
        "priority": rng.choices(PRIORITIES, weights=(5, 20, 40, 25, 10))[0], "stage": STAGE_OF[status],
        "projectId": pid, "workspaceId": WORKSPACE["id"],
        "assigneeId": rng.choice(workers) if rng.random() < 0.8 else None, "reporterId": rng.choice(people),
        "groupId": rng.choice([None, *store.groups]),
        "dueDate": iso((created + timedelta(days=rng.randint(7, 45))).replace(hour=0, minute=0, second=0,
                                                                           microsecond=0))
        if rng.random() < 0.5 else None,
        "createdAt": iso(created), "updatedAt": iso(updated),
    }
    project_labels = [lid for lid, label in store.labels.items() if label["projectId"] == pid]
    store.ticket_labels[tid] = sorted(rng.sample(project_labels, rng.randint(0, 2)), key=number)
    store.ticket_counts[tid] = {"attachments": rng.randint(0, 3), "timeLogs": rng.randint(0, 5)}
    if rng.random() < 0.4:
        stamps = sorted(rng.uniform(created.timestamp(), updated.timestamp()) for _ in range(rng.randint(1, 4)))
        for stamp in stamps:
            cid = store.next_id("comment")
            at = iso(datetime.fromtimestamp(stamp, UTC))
            store.comments[cid] = {"id": cid, "content": rng.choice(COMMENTS), "ticketId": tid,
                                   "authorId": rng.choice(people), "createdAt": at, "updatedAt": at}
