"""Sample-kit parts: the deliveries of the research topics beyond the 双评价, one module per topic group.

Each module defines ``DATASETS`` (the catalog ids it writes) and ``build(kit)``; :mod:`erenhot.samplekit`
loads every module here (by name), calls ``build`` after its own datasets are written — so a part can
use the kit's city, townships, grid, DLTB classes and climate — and checks that each id got files.
Data is synthetic unless the part says otherwise in its provenance, and deterministic from the kit seed.
"""
