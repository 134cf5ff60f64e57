"""The linking policy: every threshold, floor and edit limit the linker decides by, in one object.

The values live in a settings file (``config/linking.yml``, or the file ``LIENTHONG_LINKING_POLICY``
names), not in the modules that use them; a run may override any of them (``policy.replace``, or
``lienthong link run --set KEY=VALUE``). Each run stores the policy it used in ``identity.runs``, so
``explain`` reads a pair against the values that decided it.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from lienthong.config.organisations import deployed_provinces
from lienthong.text.addresses import DEFAULT_PROVINCES, national_provinces

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "config" / "linking.yml"
POLICY_FILE_ENV = "LIENTHONG_LINKING_POLICY"
ENGINES = ("duckdb", "spark")
PARTITION_KEYS = ("none", "province", "commune_group")  # ``partitions.by`` (lienthong.linking.partitions)


class PolicyError(ValueError):
    """A policy file or override that cannot be used (says which key and what is expected)."""


@dataclass(frozen=True)
class LinkingPolicy:
    """What each value means and why it has its default: see ``config/linking.yml``."""

    link_threshold: float
    review_floor: float
    evidence_floor: float
    max_id_edits: int
    agreeing_id_edits: int
    near_id_edits: int
    name_variant_min_share: float
    name_variant_min_count: int
    ambiguity_margin_bits: float
    m_floor: float
    prior_recall: float
    u_sample_pairs_per_record: int
    u_sample_min_pairs: int
    u_sample_max_pairs: int
    # Where Splink runs (``backends``, docs/scale.md): the same model and the same decisions on either.
    # Optional keys: a policy file written before them links on DuckDB.
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    spark_conf: dict = dataclasses.field(default_factory=dict)
    # Memory of a run (docs/linking.md, "Memory"); optional keys like the engine's.
    score_chunk_records: int = 250_000  # records per part when scoring the pairs (``engine.predict_chunks``)
    duckdb_memory_limit: str = "2GB"  # DuckDB's own buffers; past it DuckDB spills to a temporary folder
    duckdb_threads: int = 0  # DuckDB's threads; 0: one per core
    # Partitioned linking (``partitions``, docs/linking.md); optional: a policy file without it links
    # in one partition. ``{"by": "none"}``, ``{"by": "province"}`` or ``{"by": "commune_group", "count": N}``,
    # the last two with ``train_records`` (0: the model is trained on every record).
    partitions: dict = dataclasses.field(default_factory=lambda: {"by": "none"})
    # The new provinces whose communes the records' addresses resolve to (``lienthong.text.addresses``;
    # package keys). Not a key of the policy file: ``load_policy`` sets it from the organisation configs
    # (``deployed_provinces``), so the linker and dbt resolve in the same provinces.
    provinces: tuple = DEFAULT_PROVINCES
    # A source writes phones / full dates when at least this share of its records have one (``conflicts.
    # roll_habits``); optional: a policy file without it reads 0.5.
    roll_habit_share: float = 0.5

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if field.type not in ("int", "float"):
                continue
            value = getattr(self, field.name)
            kind = int if field.type == "int" else float
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
                raise PolicyError(f"linking policy: {field.name} must be a number ({field.type}), got {value!r}")
            object.__setattr__(self, field.name, kind(value))
        if not 0 < self.evidence_floor <= self.review_floor <= self.link_threshold < 1:
            raise PolicyError("linking policy: expected 0 < evidence_floor <= review_floor <= link_threshold < 1, "
                              f"got {self.evidence_floor}, {self.review_floor}, {self.link_threshold}")
        if not 0 <= self.agreeing_id_edits <= self.near_id_edits <= self.max_id_edits:
            raise PolicyError("linking policy: expected 0 <= agreeing_id_edits <= near_id_edits <= max_id_edits, "
                              f"got {self.agreeing_id_edits}, {self.near_id_edits}, {self.max_id_edits}")
        if not 0 < self.roll_habit_share < 1:
            raise PolicyError(f"linking policy: expected 0 < roll_habit_share < 1, got {self.roll_habit_share}")
        if not 0 < self.u_sample_min_pairs <= self.u_sample_max_pairs:
            raise PolicyError("linking policy: expected 0 < u_sample_min_pairs <= u_sample_max_pairs")
        if self.engine not in ENGINES:
            raise PolicyError(f"linking policy: engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if not isinstance(self.spark_master, str) or not self.spark_master:
            raise PolicyError("linking policy: spark_master must be a Spark master URL (local[*], spark://host:7077), "
                              f"got {self.spark_master!r}")
        if not isinstance(self.spark_conf, dict) or any(isinstance(v, (dict, list)) for v in self.spark_conf.values()):
            raise PolicyError("linking policy: spark_conf must map Spark settings to plain values "
                              f"(spark.driver.memory: 8g), got {self.spark_conf!r}")
        object.__setattr__(self, "spark_conf", {str(k): str(v) for k, v in self.spark_conf.items()})
        if self.score_chunk_records < 1 or self.duckdb_threads < 0:
            raise PolicyError("linking policy: expected score_chunk_records >= 1 and duckdb_threads >= 0 (0: one per "
                              f"core), got {self.score_chunk_records}, {self.duckdb_threads}")
        if not isinstance(self.duckdb_memory_limit, str) or not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B",
                                                                              self.duckdb_memory_limit.strip()):
            raise PolicyError("linking policy: duckdb_memory_limit must be a size such as 2GB or 512MB, "
                              f"got {self.duckdb_memory_limit!r}")
        object.__setattr__(self, "partitions", _partitions(self.partitions))
        if (isinstance(self.provinces, str) or not self.provinces
                or not set(self.provinces) <= set(national_provinces())):
            raise PolicyError(f"linking policy: provinces must be a list of {', '.join(national_provinces())}, "
                              f"got {self.provinces!r}")
        object.__setattr__(self, "provinces", tuple(self.provinces))

    @property
    def partitioned(self) -> bool:
        """Whether runs link partition by partition (``lienthong.linking.partitions``)."""
        return self.partitions["by"] != "none"

    @classmethod
    def from_dict(cls, values: dict, source: str = "the linking policy") -> LinkingPolicy:
        names = {f.name for f in dataclasses.fields(cls)}
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        unknown, missing = sorted(set(values) - names), sorted(required - set(values))
        if unknown or missing:
            raise PolicyError(f"{source}: " + "; ".join(
                part for part in (f"unknown keys {unknown}" if unknown else "",
                                  f"missing keys {missing}" if missing else "") if part)
                              + f" (the keys and their meaning: {DEFAULT_FILE})")
        return cls(**values)

    def replace(self, **overrides) -> LinkingPolicy:
        """This policy with some values changed (a run's overrides)."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise PolicyError(f"linking policy has no {', '.join(unknown)} (see {DEFAULT_FILE})")
        return dataclasses.replace(self, **overrides)

    def with_recorded(self, recorded: dict) -> LinkingPolicy:
        """The values an earlier run recorded over this policy's (keys added since keep this one's)."""
        names = {f.name for f in dataclasses.fields(self)}
        return self.replace(**{k: v for k, v in recorded.items() if k in names})

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def chunks_for(self, records: int) -> int:
        """Parts to score the pairs of ``records`` records in."""
        return max(1, -(-records // self.score_chunk_records))

    def u_sample_pairs(self, records: int) -> int:
        """Random pairs to draw for the u probabilities of ``records`` records."""
        return min(self.u_sample_max_pairs, max(self.u_sample_min_pairs, self.u_sample_pairs_per_record * records))


def _partitions(value) -> dict:
    """``partitions`` checked and in its full form: ``by``, ``count`` for commune groups, and
    ``train_records`` when partitioned (0: train on every record)."""
    expected = ("linking policy: partitions must be {by: none}, {by: province} or "
                "{by: commune_group, count: N} with N >= 1, either of the last two optionally with "
                f"train_records: M >= 0, got {value!r}")

    def number(key: str, least: int) -> int:
        n = value.get(key, least)
        if isinstance(n, bool) or not isinstance(n, int) or n < least:
            raise PolicyError(expected)
        return n

    if not isinstance(value, dict) or value.get("by") not in PARTITION_KEYS:
        raise PolicyError(expected)
    if value["by"] == "none":
        if set(value) != {"by"}:
            raise PolicyError(expected)
        return {"by": "none"}
    keys = {"by", "train_records"} | ({"count"} if value["by"] == "commune_group" else set())
    if not set(value) <= keys or (value["by"] == "commune_group" and "count" not in value):
        raise PolicyError(expected)
    return {"by": value["by"], **({"count": number("count", 1)} if "count" in keys else {}),
            "train_records": number("train_records", 0)}


def load_policy(path: str | Path | None = None) -> LinkingPolicy:
    """The policy in ``path``, else in ``$LIENTHONG_LINKING_POLICY``, else the project's default file,
    with the provinces the organisation configs deploy."""
    path = Path(path or os.environ.get(POLICY_FILE_ENV) or DEFAULT_FILE)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise PolicyError(f"cannot read the linking policy {path}: {err.strerror}; "
                          f"set {POLICY_FILE_ENV} to a readable copy of {DEFAULT_FILE}") from err
    except yaml.YAMLError as err:
        raise PolicyError(f"the linking policy {path} is not valid YAML: {err}") from err
    if not isinstance(values, dict):
        raise PolicyError(f"the linking policy {path} must be a mapping of keys to values")
    if "provinces" in values:
        raise PolicyError(f"the linking policy {path}: provinces is not set here but by the organisation "
                          "configs' province: (docs/onboarding.md); remove the key")
    return LinkingPolicy.from_dict({**values, "provinces": deployed_provinces()}, str(path))


def parse_overrides(assignments: tuple[str, ...] | list[str]) -> dict:
    """``["link_threshold=0.97"]`` -> ``{"link_threshold": 0.97}`` (values read as YAML scalars)."""
    overrides = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise PolicyError(f"expected KEY=VALUE, got {assignment!r}")
        overrides[key.strip()] = yaml.safe_load(text)
    return overrides
