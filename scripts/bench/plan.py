"""What the benchmark measures, for how many steps, and against what targets.

Each kind of measurement runs in its own process (see worker.py):

  own       the project's training loop at the network's default flags
  own10, own100
            the same with --steps_per_run=10 and 100 (STEPS_PER_RUN)
  bare      the floor: a bare Session.run loop fed by numpy slices
  keras     tf.keras Model.fit on the same network
  data      loading the four files, then evaluating the three sets
  run       the whole default run, process start to exit
  run10, run100
            the same with --steps_per_run=10 and 100
  bare1, keras1
            the floor and Keras with batches of one example
  estimator TF 1.x's tf.estimator on Mechanics 101 (estimator_row.py)
  layers    Mechanics 101 with tf.layers against tf.Variable (layers_row.py)
"""

# --steps_per_run values measured beside the tutorial's loop (K = 1).
STEPS_PER_RUN = (10, 100)

KINDS = (('own', 'bare', 'keras', 'data', 'run', 'bare1', 'keras1',
          'estimator', 'layers') +
         tuple('own%d' % k for k in STEPS_PER_RUN) +
         tuple('run%d' % k for k in STEPS_PER_RUN))
# What every training run starts with: the training program's import
# (TensorFlow, quietly, and the package). Importing mnist_tf1 alone no longer
# imports TensorFlow.
IMPORT_STATEMENT = 'import mnist_tf1.fully_connected_feed'
DEFAULT_STEP_CAP = 2000
SMOKE_STEPS = 20
# In --smoke, in-process measurements use the first examples of each set
# only, so that slow networks evaluate quickly; so does the whole run.
SMOKE_EXAMPLES = 500
EVAL_PASSES = 3

# Targets from issue 7 (ratios within one run, 2 CPU cores).
TARGET_OWN_VS_BARE = 1.10
TARGET_KERAS_VS_OWN = 5.0
TARGET_LOAD_S = 0.4
TARGET_EVAL_S = 0.3
TARGET_RUN_VS_FLOOR = 2.0
TARGET_RSS_MB = 900
# Issue 15: at the best --steps_per_run, the own loop (evaluations,
# summaries, checkpoints included) at most this many times the bare floor,
# and the whole run no slower than with K = 1.
TARGET_IN_GRAPH_VS_BARE = 0.8
TARGET_RUN_VS_K1 = 1.0


def steps_per_run(kind):
    """The --steps_per_run of a kind of measurement ('own10': 10; 'own': 1)."""
    digits = kind.lstrip('abcdefghijklmnopqrstuvwxyz')
    return int(digits) if kind.startswith(('own', 'run')) and digits else 1


def plan_steps(info, args):
    """Steps per network: its own max_steps, capped at --step_cap."""
    steps, capped = {}, {}
    for name, net in info['networks'].items():
        wanted = SMOKE_STEPS if args.smoke else min(net['max_steps'],
                                                     args.step_cap)
        steps[name] = wanted
        capped[name] = wanted != net['max_steps']
    return steps, capped
