"""What the chief does that the other workers do not.

Worker 0 is the chief: it alone writes checkpoints, summaries and the run's
flags. On one machine (no cluster) the one process is the chief.
"""


def is_chief(cluster):
    """True for the chief, and for a run on this machine alone."""
    return cluster is None or cluster.is_chief


def worker_seed(cluster, seed):
    """The batch-order seed for this worker: each draws its own batches."""
    if cluster is None or seed is None:
        return seed
    return seed + cluster.task_index


class NoSummaries(object):
    """A summary writer for workers other than the chief: writes nothing."""

    def add_summary(self, *unused_args, **unused_kwargs):
        pass

    def add_run_metadata(self, *unused_args, **unused_kwargs):
        pass

    def add_graph(self, *unused_args, **unused_kwargs):
        pass

    def flush(self):
        pass

    def close(self):
        pass

