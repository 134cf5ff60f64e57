"""Stable person ids: carry yesterday's ``person_id`` over to today's clusters.

Splink names a cluster after one of its records, which changes whenever that record moves; the
warehouse needs an id that survives nightly runs and backfills, so the mapping is done here:

1. count, for every (new cluster, previous person) pair, the records they share;
2. give each previous id to the cluster that holds most of its records (largest overlap first;
   ties to the part holding the records linked to it longest, then to the older, i.e. smaller,
   id), each id to one cluster and each cluster one id;
3. clusters left without an id get a new one (new records, or the smaller part of a split).

Events: ``created`` (a cluster with no previous record, or the new part of a split), ``merged``
(a previous person whose records all went to a cluster kept under another id) and ``split`` (a
previous person whose records are now in several clusters).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    event: str  # created | merged | split
    person_id: str
    other_person_id: str | None
    record_uids: tuple[str, ...]


def assign(clusters: dict[str, str], previous: dict[str, str], mint: Callable[[int], list[str]],
           since: dict[str, int] | None = None) -> tuple[dict[str, str], list[Event]]:
    """``clusters``: uid -> cluster key; ``previous``: uid -> person_id for already linked records;
    ``since``: uid -> the run since which it holds that id (ties between equal parts go to the oldest).

    Returns uid -> person_id for every uid of ``clusters``, and the events.
    """
    members: dict[str, list[str]] = defaultdict(list)
    for uid, key in clusters.items():
        members[key].append(uid)
    overlap = Counter((key, previous[uid]) for uid, key in clusters.items() if uid in previous)
    oldest: dict[tuple[str, str], int] = {}
    for uid, key in clusters.items():
        if uid in previous:
            pair = (key, previous[uid])
            oldest[pair] = min(oldest.get(pair, 1 << 62), (since or {}).get(uid, 0))
    chosen: dict[str, str] = {}
    used: set[str] = set()
    ranked = sorted(overlap.items(), key=lambda item: (-item[1], oldest[item[0]], item[0][1], item[0][0]))
    for (key, person), _ in ranked:
        if key not in chosen and person not in used:
            chosen[key] = person
            used.add(person)
    unnamed = sorted(key for key in members if key not in chosen)
    chosen.update(zip(unnamed, mint(len(unnamed))))

    events: list[Event] = []
    for key, uids in members.items():
        person = chosen[key]
        olds = sorted({previous[u] for u in uids if u in previous})
        if not olds:
            events.append(Event("created", person, None, tuple(sorted(uids))))
        for old in olds:
            if old != person:
                # Kept elsewhere: part of it split off to here; retired: all of it merged here.
                kind = "split" if old in used else "merged"
                events.append(Event(kind, person, old, tuple(sorted(u for u in uids if previous.get(u) == old))))
    assignment = {uid: chosen[key] for key, uids in members.items() for uid in uids}
    return assignment, events
