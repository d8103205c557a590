"""Topic configuration: every threshold, class break, matrix and coefficient with its source.

One YAML file per topic lives beside this module (``t02_carrying_capacity.yaml``,
``t03_suitability.yaml``). A file is a tree of nested mappings whose leaves are mappings with a
``value`` key::

    agri:
      land:
        slope_breaks_deg:
          value: [2, 6, 15, 25]
          unit: "°"
          source: "evaluation spec §1.5 [S5 AgriculturalLandResources.py]"
          confidence: H            # H | M | L, the spec's confidence marks (§0 of the spec)
          note: "..."              # optional

Every leaf must carry a non-empty ``source`` and a ``confidence`` in {H, M, L}; values marked
[M]/[L] in the evaluation spec (``/work/shared/domain/evaluation-spec.md``) keep that mark and say
in their ``note`` that they are uncertain and configurable. Code never repeats a value: the topic
composers read them here and pass them to the pure functions of :mod:`erenhot.evaluation`.

:func:`load_config` returns a frozen :class:`TopicConfig`; run-time overrides are dotted paths to
leaves (``{"grid.cell_size_m": 300}``) and change :attr:`TopicConfig.digest`, so a changed
parameter changes the run key of a topic.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

import yaml

__all__ = ["CONFIDENCE_LEVELS", "ConfigError", "TopicConfig", "load_config"]

CONFIDENCE_LEVELS = ("H", "M", "L")
"""Confidence marks of the evaluation spec: high, medium, low (low = check the official PDF)."""

_LEAF_KEYS = {"value", "source", "confidence", "unit", "note"}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration file or an override is malformed (unknown path, missing source, …)."""


def _is_leaf(node: Any) -> bool:
    return isinstance(node, Mapping) and "value" in node


def _walk(node: Mapping[str, Any], prefix: str = ""):
    """Yield ``(dotted_path, leaf_mapping)`` for every leaf below ``node`` in file order."""
    for key, child in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if _is_leaf(child):
            yield path, child
        elif isinstance(child, Mapping):
            if not child:
                raise ConfigError(f"{path}: empty mapping (neither a branch nor a leaf)")
            yield from _walk(child, path)
        else:
            raise ConfigError(f"{path}: bare value {child!r}; leaves must be {{value, source, confidence}}")


def _check_leaf(path: str, leaf: Mapping[str, Any]) -> None:
    extra = set(leaf) - _LEAF_KEYS
    if extra:
        raise ConfigError(f"{path}: unknown leaf keys {sorted(extra)}")
    source = leaf.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{path}: every value needs a non-empty 'source'")
    if leaf.get("confidence") not in CONFIDENCE_LEVELS:
        raise ConfigError(f"{path}: 'confidence' must be one of {CONFIDENCE_LEVELS}, got {leaf.get('confidence')!r}")


def _values(node: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(key): copy.deepcopy(child["value"]) if _is_leaf(child) else _values(child)
        for key, child in node.items()
    }


def _canonical(obj: Any) -> Any:
    """JSON-ready form with string keys (YAML allows int keys, e.g. modifier tables); a whole-number
    float is written as an int, so ``30`` and ``30.0`` (``--cell-size 30``) are the same configuration."""
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_canonical(v) for v in obj]
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    return obj


def _frozen(obj: Any) -> Any:
    """Lists → tuples (recursively) so values can sit in frozen dataclasses."""
    if isinstance(obj, Mapping):
        return {k: _frozen(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return tuple(_frozen(v) for v in obj)
    return obj


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "mapping"
    return type(value).__name__


@dataclass(frozen=True)
class TopicConfig:
    """The configuration of one topic, after overrides.

    Attributes:
        name: file stem, e.g. ``"t02_carrying_capacity"``.
        tree: the full tree with leaf mappings (value, source, confidence, unit, note).
        overridden: dotted paths whose value was replaced by an override.
        values: the same tree with every leaf replaced by its value (plain dicts/lists).
        digest: sha256 hex of the canonical JSON of ``values`` (sorted keys, UTF-8).
    """

    name: str
    tree: dict[str, Any] = field(repr=False)
    overridden: tuple[str, ...] = ()
    values: dict[str, Any] = field(init=False, repr=False)
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        values = _values(self.tree)
        text = json.dumps(_canonical(values), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "digest", hashlib.sha256(text.encode("utf-8")).hexdigest())

    def _node(self, path: str) -> Any:
        node: Any = self.tree
        for part in path.split("."):
            if _is_leaf(node) or not isinstance(node, Mapping) or part not in node:
                raise ConfigError(f"{self.name}: unknown configuration path {path!r}")
            node = node[part]
        return node

    def get(self, path: str) -> Any:
        """The value at a dotted path (a leaf's value, or a plain dict for a branch).

        Raises:
            ConfigError: the path does not exist.
        """
        node = self._node(path)
        return copy.deepcopy(node["value"]) if _is_leaf(node) else _values(node)

    def leaf(self, path: str) -> dict[str, Any]:
        """The full leaf mapping (value, source, confidence, unit, note) at ``path``."""
        node = self._node(path)
        if not _is_leaf(node):
            raise ConfigError(f"{self.name}: {path!r} is a branch, not a value")
        return copy.deepcopy(dict(node))

    def entries(self) -> list[dict[str, Any]]:
        """One dict per leaf for the report: path, value, unit, source, confidence, note, overridden."""
        return [
            {
                "path": path,
                "value": copy.deepcopy(leaf["value"]),
                "unit": leaf.get("unit", ""),
                "source": leaf["source"],
                "confidence": leaf["confidence"],
                "note": leaf.get("note", ""),
                "overridden": path in self.overridden,
            }
            for path, leaf in _walk(self.tree)
        ]

    def params(self, cls: type[T], path: str, **extra: Any) -> T:
        """Build the frozen parameter dataclass ``cls`` from the branch at ``path``.

        Every field of ``cls`` without a default must be a key of the branch (or be given in
        ``extra``); other keys of the branch are ignored. Lists become tuples.

        Raises:
            ConfigError: the path is unknown or a required field is missing.
        """
        section = self.get(path)
        if not isinstance(section, Mapping):
            raise ConfigError(f"{self.name}: {path!r} is a value, not a branch")
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in extra:
                kwargs[f.name] = extra[f.name]
            elif f.name in section:
                kwargs[f.name] = _frozen(section[f.name])
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{self.name}: {path}.{f.name} is missing (needed by {cls.__name__})")
        return cls(**kwargs)


def _apply_override(name: str, tree: dict[str, Any], path: str, value: Any) -> None:
    node: Any = tree
    parts = path.split(".")
    for part in parts[:-1]:
        if not isinstance(node, Mapping) or _is_leaf(node) or part not in node:
            raise ConfigError(f"{name}: unknown override path {path!r}")
        node = node[part]
    last = parts[-1]
    if not isinstance(node, Mapping) or _is_leaf(node) or last not in node or not _is_leaf(node[last]):
        raise ConfigError(f"{name}: unknown override path {path!r} (overrides must name a value)")
    old = node[last]["value"]
    if old is not None and _kind(old) != _kind(value):
        raise ConfigError(f"{name}: override {path!r} must be a {_kind(old)}, got {value!r}")
    node[last]["value"] = copy.deepcopy(value)


def load_config(name: str, overrides: Mapping[str, Any] | None = None) -> TopicConfig:
    """Load ``erenhot/config/<name>.yaml`` (via importlib.resources) and apply overrides.

    Args:
        name: file stem, e.g. ``"t02_carrying_capacity"`` or ``"t03_suitability"``.
        overrides: dotted leaf path → new value (JSON-compatible; numbers may replace numbers,
            lists replace lists, …; a null default accepts anything).

    Raises:
        ConfigError: unknown file, malformed YAML tree (bare values, missing source or
            confidence, unknown leaf keys), unknown override path or an override of another kind.
    """
    if not _NAME_RE.match(name):
        raise ConfigError(f"invalid configuration name {name!r}")
    resource = resources.files(__name__).joinpath(f"{name}.yaml")
    if not resource.is_file():
        raise ConfigError(f"no configuration named {name!r}")
    try:
        tree = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: invalid YAML: {exc}") from exc
    if not isinstance(tree, dict) or not tree:
        raise ConfigError(f"{name}: the file must be a non-empty mapping")
    for path, leaf in _walk(tree):
        _check_leaf(path, leaf)
    for path, value in (overrides or {}).items():
        _apply_override(name, tree, path, value)
    return TopicConfig(name=name, tree=tree, overridden=tuple(sorted(overrides or {})))
