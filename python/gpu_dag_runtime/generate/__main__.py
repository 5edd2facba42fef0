"""``python -m gpu_dag_runtime.generate``: see the package docstring."""
from .._common import run_main
from .cli import main

run_main(main)
