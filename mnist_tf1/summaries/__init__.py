"""What TensorBoard shows of a run: summary ops, evaluation curves, HParams,
the projector, the confusion matrix and its pictures, and keeping a resumed
run's event files in order."""
