"""MNIST's files and a user's image files: download, verify, parse.

The tutorial's own `input_data.py` (DataSet, read_data_sets) stays at the
top of the package, where a Mechanics 101 reader looks for it.
"""
