"""Thread-level parallelism for chunked numpy work."""

from concurrent.futures import ThreadPoolExecutor

from joblib import effective_n_jobs
from threadpoolctl import threadpool_limits

__all__ = ["run_in_threads"]


def run_in_threads(work, tasks, n_jobs, user_api=None):
    """Call ``work(task)`` for every task, in up to ``n_jobs`` threads.

    Native libraries are limited to one thread each meanwhile (``threadpoolctl``),
    so that the threads here do not oversubscribe the cores with BLAS threads.
    ``work`` writes its results into preallocated arrays; numpy releases the GIL
    in the heavy calls, so the threads run in parallel.

    Parameters
    ----------
    work : callable
        Called once per task; its return value is ignored.
    tasks : iterable
        Chunk descriptors (slices, start indices, ...).
    n_jobs : int or None
        joblib convention (``None`` = 1, ``-1`` = all cores); never more threads
        than tasks.
    user_api : {"blas", "openmp", None}
        Which native thread pools to limit (``None``: all).

    Examples
    --------
    >>> import numpy as np
    >>> out = np.zeros(6)
    >>> def fill(sl):
    ...     out[sl] = np.arange(sl.start, sl.stop)
    >>> run_in_threads(fill, [slice(0, 3), slice(3, 6)], n_jobs=2)
    >>> out.tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    tasks = list(tasks)
    n_workers = max(1, min(effective_n_jobs(n_jobs), len(tasks)))
    with threadpool_limits(limits=1, user_api=user_api):
        if n_workers == 1:
            for task in tasks:
                work(task)
        else:
            with ThreadPoolExecutor(n_workers) as ex:
                list(ex.map(work, tasks))
