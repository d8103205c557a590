"""Tile work as Prefect task runs: one ``tile-step`` task run per (step function, tile).

The evaluation engine of the library runs its steps through an injectable *mapper*
(``mapper(fn, items) -> [fn(item) for item in items]``, order kept). :func:`prefect_map` is that
mapper inside a flow: it hands every item to the flow's task runner, so the same flow runs its
tiles in threads (Prefect's default ``ThreadPoolTaskRunner``) or on a Dask cluster
(``@flow(task_runner=dask_task_runner(...))``, see :func:`dask_task_runner`).

What has to hold for Dask: ``fn`` is a module-level function of an importable module (it is
pickled by reference, so every worker imports it: the project must be installed where the workers
run), items and results are small picklable objects, and the tile functions read and write their
data through paths or ``s3://`` URIs that the workers can reach. Task runs report to the Prefect
API of the flow (its settings travel with every submitted task), not to the API the worker
processes were started with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prefect import task
from prefect.cache_policies import NONE
from prefect.client.orchestration import get_client
from prefect.futures import PrefectFuture
from prefect.logging import get_logger
from prefect.states import Crashed
from prefect_dask import DaskTaskRunner

logger = get_logger(__name__)

# Longest item repr quoted in a TileStepError line; tile items are dataclasses of URIs and ints.
_ITEM_REPR_LIMIT = 200


def _callable_name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return f"{module}.{name}" if module else name


def _tile_step_run_name(parameters: dict[str, Any]) -> str:
    """Task-run name shown in the UI: ``tile-step <fn name> #<tile index>``."""
    fn = parameters["fn"]
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return f"tile-step {name} #{parameters.get('index', 0)}"


@task(name="tile-step", task_run_name=_tile_step_run_name, cache_policy=NONE, persist_result=False)
def run_tile_step(fn: Callable[[Any], Any], item: Any, index: int = 0) -> Any:
    """Run one step of tile work: ``fn(item)``.

    Never cached and never persisted: the items carry URIs whose contents may change between runs,
    so a cache keyed on the inputs would return stale tiles, and the results (URIs, checksums, small
    arrays) travel back in memory.

    Args:
        fn: A module-level function (picklable by reference) taking one item.
        item: One tile description (a small picklable object).
        index: The item's position in the mapped list; only used in the task-run name.

    Returns:
        Whatever ``fn(item)`` returns. Exceptions of ``fn`` propagate and fail the task run.
    """
    return fn(item)


class TileStepError(RuntimeError):
    """One or more tile-step task runs of :func:`prefect_map` did not complete.

    Attributes:
        fn_name: Qualified name of the mapped function.
        failures: ``(index, item, exception)`` for each failed item, in item order.
        total: Number of items that were mapped.
    """

    def __init__(self, fn_name: str, failures: list[tuple[int, Any, BaseException]], total: int):
        self.fn_name = fn_name
        self.failures = failures
        self.total = total
        lines = []
        for index, item, exc in failures:
            text = repr(item)
            if len(text) > _ITEM_REPR_LIMIT:
                text = text[:_ITEM_REPR_LIMIT - 3] + "..."
            lines.append(f"  #{index} {text}: {type(exc).__name__}: {exc}")
        super().__init__(f"tile step {fn_name} failed on {len(failures)} of {total} items:\n" + "\n".join(lines))


def prefect_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """The engine's mapper inside a flow: ``[fn(item) for item in items]`` as ``tile-step`` task runs.

    Every item is submitted at once to the flow's task runner (threads, or Dask workers with
    :func:`dask_task_runner`); the call returns when all of them have finished.

    Args:
        fn: A module-level function of one item (pickled by reference on Dask: its module must be
            importable in the workers).
        items: Small picklable tile descriptions; their order is the order of the results.

    Returns:
        ``fn(item)`` for every item, in the order of ``items`` (``[]`` for no items).

    Raises:
        TileStepError: One or more items failed (their ``fn`` raised, or a Dask worker running them
            died); it is raised after every item has finished, names each failed item's index,
            repr and error, and chains the first error. The task runs of the other tiles stay
            Completed; those whose ``fn`` raised are Failed, those whose worker died are set Crashed.
    """
    items = list(items)
    futures = [run_tile_step.submit(fn, item, index) for index, item in enumerate(items)]
    results: list[Any] = []
    failures: list[tuple[int, Any, BaseException]] = []
    for index, (item, future) in enumerate(zip(items, futures)):
        try:
            results.append(future.result())
        except Exception as exc:  # noqa: BLE001 - collected and re-raised below as one TileStepError
            failures.append((index, item, exc))
            if _lost_with_its_worker(exc):
                _record_crash(future, exc)
    if failures:
        raise TileStepError(_callable_name(fn), failures, len(items)) from failures[0][2]
    return results


def _lost_with_its_worker(exc: BaseException) -> bool:
    """Whether the task run ended because the Dask worker running it died (``KilledWorker``, a closed
    connection, a cancelled future), not because ``fn`` raised: only then does nothing report its end.

    When ``fn`` raises, the worker's task engine sets the run Failed itself; that state reaches the API
    as an event a moment later, so reading the run here could still show Running — it must not be
    overwritten with Crashed.
    """
    from concurrent.futures import CancelledError

    try:
        from distributed import KilledWorker
        from distributed.comm.core import CommClosedError
    except ImportError:  # no Dask: threads never lose a task this way
        return isinstance(exc, CancelledError)
    return isinstance(exc, KilledWorker | CommClosedError | CancelledError)


def _record_crash(future: PrefectFuture[Any], exc: Exception) -> None:
    """Set a task run that failed outside Prefect's engine to Crashed.

    When ``fn`` raises, the task run is already Failed. When the Dask worker running it dies (Dask
    retries it on other workers, then raises ``KilledWorker``), nothing ever reports the end of the
    run and the API would show it Running forever; this sets it Crashed with the error. Failures to
    reach the API are logged, never raised (the TileStepError being built matters more).
    """
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            try:
                run = client.read_task_run(future.task_run_id)
            except ObjectNotFound:  # queued on the lost worker, never started: no run to mark (the error names it)
                return
            if run.state is not None and run.state.is_final():
                return
            client.set_task_run_state(future.task_run_id, Crashed(message=f"{type(exc).__name__}: {exc}"), force=True)
    except Exception:  # noqa: BLE001 - best effort, see docstring
        logger.warning("could not mark task run %s as Crashed", future.task_run_id, exc_info=True)


def dask_task_runner(address: str | None = None, n_workers: int | None = None) -> DaskTaskRunner:
    """A Dask task runner for a flow that maps tiles with :func:`prefect_map`.

    Args:
        address: Scheduler address of a running cluster (e.g. ``tcp://10.0.0.5:8786``) whose
            workers run the same project version in an environment like this one and reach the
            same storage (S3). When given, nothing is started or stopped by the flow.
        n_workers: Without ``address``: the number of worker *processes* of a temporary
            ``distributed.LocalCluster`` (one thread each, no dashboard; the scheduler's small HTTP
            server of health/metrics routes listens on a free loopback port) started when the flow
            first submits a task and closed when the flow ends; ``None`` lets Dask choose from the
            CPU count. A script whose flow starts such a cluster needs the
            ``if __name__ == "__main__":`` guard (the workers are spawned processes).

    Returns:
        A ``prefect_dask.DaskTaskRunner`` (pass it as ``@flow(task_runner=...)`` or via
        ``flow.with_options(task_runner=...)``).

    Raises:
        ValueError: Both ``address`` and ``n_workers`` are given, or ``n_workers`` < 1.
    """
    if address:
        if n_workers is not None:
            raise ValueError("give either the address of a running Dask scheduler or n_workers for a local cluster, not both")
        return DaskTaskRunner(address=address)
    if n_workers is not None and n_workers < 1:
        raise ValueError(f"n_workers must be at least 1, got {n_workers}")
    # dashboard_address=None alone still binds the scheduler's HTTP routes to port 8787 (distributed
    # 2026.8 Scheduler default), which clashes with a second cluster; a free loopback port does not.
    cluster_kwargs: dict[str, Any] = {"processes": True, "threads_per_worker": 1, "dashboard_address": None,
                                      "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}
    if n_workers is not None:
        cluster_kwargs["n_workers"] = n_workers
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster_kwargs)
