"""Topic composers: each implemented research topic as a function of its resolved inputs.

``TOPIC_RUNNERS`` maps the catalog topic code to its composer; ``run_topic`` dispatches. A topic
that is not implemented has no entry (it is absent, not faked).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from erenhot.catalog import Catalog
from erenhot.storage import Storage
from erenhot.topics import (
    t01_plan_integration,
    t02_carrying_capacity,
    t03_suitability,
    t04_strategy_layout,
    t05_urbanisation,
    t06_village_layout,
    t07_consolidation_restoration,
    t08_charm_quality_life,
    t09_forest_grass_wetland,
    t10_economic_strategy,
    t11_eco_environment,
    t12_water_carrying_capacity,
    t13_agri_modernisation,
    t14_transport,
    t15_culture_tourism,
)
from erenhot.topics.common import Progress, no_progress

TOPIC_RUNNERS: dict[str, Callable[..., dict[str, Any]]] = {
    t01_plan_integration.CODE: t01_plan_integration.run,
    t02_carrying_capacity.CODE: t02_carrying_capacity.run,
    t03_suitability.CODE: t03_suitability.run,
    t04_strategy_layout.CODE: t04_strategy_layout.run,
    t05_urbanisation.CODE: t05_urbanisation.run,
    t06_village_layout.CODE: t06_village_layout.run,
    t07_consolidation_restoration.CODE: t07_consolidation_restoration.run,
    t08_charm_quality_life.CODE: t08_charm_quality_life.run,
    t09_forest_grass_wetland.CODE: t09_forest_grass_wetland.run,
    t10_economic_strategy.CODE: t10_economic_strategy.run,
    t11_eco_environment.CODE: t11_eco_environment.run,
    t12_water_carrying_capacity.CODE: t12_water_carrying_capacity.run,
    t13_agri_modernisation.CODE: t13_agri_modernisation.run,
    t14_transport.CODE: t14_transport.run,
    t15_culture_tourism.CODE: t15_culture_tourism.run,
}


def run_topic(storage: Storage, catalog: Catalog, topic_code: str, readiness: dict[str, Any],
              overrides: dict[str, Any] | None = None, progress: Progress = no_progress) -> dict[str, Any]:
    """Run one implemented topic; raises KeyError for a topic without a composer."""
    if topic_code not in TOPIC_RUNNERS:
        raise KeyError(f"topic {topic_code} is not implemented (implemented: {sorted(TOPIC_RUNNERS)})")
    return TOPIC_RUNNERS[topic_code](storage, catalog, readiness, overrides or {}, progress)
