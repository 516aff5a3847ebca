"""The parts of scripts/benchmark.py, one job each.

plan       what is measured (the kinds of measurement, step counts, targets)
project    the project's flags, data and graph, as the workers build them
own_loop   the project's training loop, timed from inside (any --steps_per_run)
floor      the bare Session.run floor, data loading and evaluation
keras_peer tf.keras Model.fit on the same networks
layers_row a tf.layers network against a tf.Variable one, under mnist-tf1-run
worker     a worker process: runs the measurements it is told to
conductor  starts the worker processes, in interleaved rounds
summary    medians over the rounds, ratios taken within each round
table      the markdown table
"""
