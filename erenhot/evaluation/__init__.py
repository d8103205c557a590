"""The 双评价 math on numpy arrays (no I/O, no Prefect): 资源环境承载能力评价 (topic 2) and
国土空间开发适宜性评价 (topic 3), following the 2020 guideline structure with the 2019-draft
grading matrices (evaluation spec §1).

Modules: :mod:`~erenhot.evaluation.classify` (breaks, matrices, modifiers, code tables),
:mod:`~erenhot.evaluation.terrain`, :mod:`~erenhot.evaluation.climate`,
:mod:`~erenhot.evaluation.ecology`, :mod:`~erenhot.evaluation.integration`,
:mod:`~erenhot.evaluation.suitability`, :mod:`~erenhot.evaluation.accessibility`,
:mod:`~erenhot.evaluation.capacity_scale`, :mod:`~erenhot.evaluation.area`; and for the research
topics beyond the 双评价: :mod:`~erenhot.evaluation.water` (topic 12 水资源承载力: balance, 三条红线 carrying
status, precipitation trend, demand, 以水定人/城/地), :mod:`~erenhot.evaluation.grassland` (topics 9 and 13:
NY/T 635 合理载畜量, 羊单位, 草畜平衡) and :mod:`~erenhot.evaluation.corridors` (topic 11: ecological sources,
resistance, MCR corridors and strategic nodes), :mod:`~erenhot.evaluation.forest_grass_wetland` (topic 9),
:mod:`~erenhot.evaluation.restoration` (topic 7), :mod:`~erenhot.evaluation.transport` (topic 14: network
graph, density by grade, travel-time surfaces, isochrones, coverage), :mod:`~erenhot.evaluation.projection`
(series projections of topics 5, 6 and 10), :mod:`~erenhot.evaluation.urbanisation` (topic 5: urbanisation
rates, GB 50137 land demand, 城镇开发边界 growth) and :mod:`~erenhot.evaluation.villages` (topic 6: the 嘎查
rule table and 宅基地 arithmetic).
Every threshold comes from :func:`erenhot.config.load_config`; nothing is imported here so that
importing the package has no cost.
"""
