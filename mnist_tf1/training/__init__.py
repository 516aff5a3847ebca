"""The training program's parts below its flags: the input placeholders and
the evaluation over a whole set, shared with mnist-tf1-eval, -predict and
-export."""
