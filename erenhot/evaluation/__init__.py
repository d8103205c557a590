"""The 双评价 math on numpy arrays (no I/O, no Prefect): 资源环境承载能力评价 (topic 2) and
国土空间开发适宜性评价 (topic 3), following the 2020 guideline structure with the 2019-draft
grading matrices (evaluation spec §1).

Modules: :mod:`~erenhot.evaluation.classify` (breaks, matrices, modifiers, code tables),
:mod:`~erenhot.evaluation.terrain`, :mod:`~erenhot.evaluation.climate`,
:mod:`~erenhot.evaluation.ecology`, :mod:`~erenhot.evaluation.integration`,
:mod:`~erenhot.evaluation.suitability`, :mod:`~erenhot.evaluation.accessibility`,
:mod:`~erenhot.evaluation.capacity_scale`, :mod:`~erenhot.evaluation.area`.
Every threshold comes from :func:`erenhot.config.load_config`; nothing is imported here so that
importing the package has no cost.
"""
