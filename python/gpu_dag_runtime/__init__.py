"""gpu-dag job-side runtime: runners for llm-compressor, lm-eval and served generation.

Each runner is a module run as ``python -m gpu_dag_runtime.<runner>`` (``compress``, ``evaluate``,
``generate``) and reports what it produced in ``$GPU_DAG_OUTPUT_DIR/outputs.json`` (see
:mod:`gpu_dag_runtime.manifest`).

Exit codes shared by every runner:

====  =====================================================================
0     success
1     the tool itself failed (a traceback is printed above the last line)
2     bad arguments or input: model path not found, bad recipe YAML, bad prompt config, unknown key
3     a Python package the runner needs is missing (run ``gpu-dag setup-python``)
4     the model server did not become ready, or its port is taken
====  =====================================================================
"""

__version__ = "0.1.0"
