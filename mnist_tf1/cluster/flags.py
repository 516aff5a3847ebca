"""The cluster's flags, defined by the training command that imports this.

Only define() defines them (importing this module changes nothing), and only
the command reads them: spec.Cluster.from_flags(FLAGS) turns them into a
Cluster for the modules below it.
"""

from absl import flags


def define(flag_values=flags.FLAGS):
    """Defines --ps_hosts, --worker_hosts, --job_name, ... on flag_values."""
    flags.DEFINE_string('ps_hosts', None,
                        'Cluster: comma-separated host:port of the parameter '
                        'servers.', flag_values=flag_values)
    flags.DEFINE_string('worker_hosts', None,
                        'Cluster: comma-separated host:port of the workers; '
                        'the first is the chief.', flag_values=flag_values)
    flags.DEFINE_enum('job_name', None, ['ps', 'worker'],
                      "Cluster: this task's job. Without it (and without "
                      'TF_CONFIG) training runs on this machine alone.',
                      flag_values=flag_values)
    flags.DEFINE_integer('task_index', 0,
                         "Cluster: this task's index in its job.",
                         flag_values=flag_values)
    flags.DEFINE_boolean('sync_replicas', False,
                         'Cluster: synchronous training; each update averages '
                         'the gradients of --replicas_to_aggregate batches '
                         '(SyncReplicasOptimizer).', flag_values=flag_values)
    flags.DEFINE_integer('replicas_to_aggregate', None,
                         'Cluster, with --sync_replicas: batches averaged per '
                         'update (default: the number of workers).',
                         flag_values=flag_values)
    flags.DEFINE_float('cluster_timeout', 120.0,
                       'Cluster: seconds a task waits for another before '
                       "giving up: a worker for the parameter servers and the "
                       "chief's initialization, a parameter server for the "
                       'other workers once the chief is done.',
                       flag_values=flag_values)
    flags.DEFINE_boolean('cluster_ports_closed', False,
                         "Cluster: this task's port is closed to all but the "
                         "cluster's own hosts (docs/cluster.md, Security): "
                         'leaves out the start-up line that says it is open.',
                         flag_values=flag_values)
