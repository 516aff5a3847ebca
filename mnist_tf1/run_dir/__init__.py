"""A run's log dir: continuing or starting afresh, the flags it recorded,
its checkpoints."""
