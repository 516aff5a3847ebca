"""Between-graph training on a cluster, on TensorFlow's own runtime.

TensorFlow 1.x trained on many machines with a tf.train.ClusterSpec, one
tf.train.Server per task and tf.train.replica_device_setter (TensorFlow's
mnist_replica.py). The training loop in fully_connected_feed.py does the same
when it is given a cluster:

  ps tasks      hold the variables and serve them until every worker is done.
  worker tasks  each build the whole graph, with its variables placed on the
                ps tasks, and run the training loop on their own batches.
                Worker 0 is the chief: it initializes the model or restores it
                from the last checkpoint, and alone writes checkpoints and
                summaries. The others wait for it, and may stop and rejoin.

    mnist-tf1-train --ps_hosts=ps0:2222 --worker_hosts=w0:2222,w1:2222 \\
        --job_name=worker --task_index=1 [training flags]

or the cluster and the task from TF_CONFIG. scripts/local_cluster.sh starts
a cluster on this machine.

The modules, one job each:
  flags.py             the cluster's flags (defined by the training command)
  spec.py              Cluster: this task's place, from the flags or TF_CONFIG
  roles.py             what the chief does that the other workers do not
  config.py            gRPC options and deadlines: every remote call bounded
  peers.py             which peers answer a connection (to name a lost one)
  task.py              a task's life: start its server, serve or train, exit
  exposure.py          who can reach the task's server: its start-up line
  parameter_server.py  a parameter server's serving loop and how it ends
  placement.py         variables on the parameter servers
  optimizer.py         the network's minimize(), the cluster's way
  step_gate.py         asynchronous steps taken whole, counted once, to a limit
  sync_updates.py      synchronous steps (--sync_replicas) that outlast faults
  update_runner.py     the chief's synchronous updates: applied, closed, held
  update_marks.py      whether each update reached every parameter server
  run_info.py          what the chief tells the others: global step dtype,
                       --max_steps
  session.py           a worker's Session: faults waited out, signals honoured
  steps.py             which steps each worker takes, and the chief's part

What happens when a task or the network fails: docs/cluster.md.
"""
