"""GPU check probe: what each Python process of a job saw, written from inside that process.

run.sh puts this folder on the jobs' PYTHONPATH and sets ``GPU_CHECK_PROBE_DIR``; without that
variable it does nothing. Each process writes ``$GPU_CHECK_PROBE_DIR/<step>-<pid>.json``:

- at start: pid, parent pid, the command's first words, ``CUDA_VISIBLE_DEVICES``, ``GPU_DAG_STEP``;
- once CUDA is initialised (a watcher thread looks every 0.5 s, so a server killed by a signal is
  recorded too): ``torch.cuda.get_device_name()`` of each visible device and the peak of
  ``torch.cuda.max_memory_allocated()``, refreshed every 2 s;
- at exit: the same, or ``device_names: ["cpu"]`` when the process used torch without CUDA.

It imports nothing heavy itself (torch only when the process already has), and never raises.
Being first on the path, it shadows any ``sitecustomize`` of the image: that one is run next.
"""
import atexit
import json
import os
import sys
import threading
import time

_DIR = os.environ.get("GPU_CHECK_PROBE_DIR")


def _start():
    record = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "step": os.environ.get("GPU_DAG_STEP"),
        "argv": [os.path.basename(a) for a in (getattr(sys, "orig_argv", None) or sys.argv)[:4]],
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "started_at": time.time(),
        "torch": False,
        "device_names": [],
        "cuda_max_memory_mib": 0.0,
        "exited": False,
    }
    path = os.path.join(_DIR, f"{record['step'] or 'none'}-{record['pid']}.json")
    lock = threading.Lock()

    def write():
        with lock:
            try:
                os.makedirs(_DIR, exist_ok=True)
                tmp = f"{path}.tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    json.dump(record, f)
                os.replace(tmp, path)
            except OSError:
                pass

    def cuda_state(final):
        torch = sys.modules.get("torch")
        cuda = getattr(torch, "cuda", None) if torch is not None else None
        if cuda is None or not hasattr(cuda, "is_initialized"):
            return
        record["torch"] = True
        record["torch_version"] = str(getattr(torch, "__version__", ""))
        if cuda.is_initialized():
            count = cuda.device_count()
            record["device_names"] = [cuda.get_device_name(i) for i in range(count)]
            peak = max((cuda.max_memory_allocated(i) for i in range(count)), default=0)
            record["cuda_max_memory_mib"] = max(record["cuda_max_memory_mib"], round(peak / 2**20, 1))
        elif final and not record["device_names"]:
            record["device_names"] = ["cpu"]

    def watch():
        seen_cuda = False
        while True:
            time.sleep(0.5 if not seen_cuda else 2.0)
            try:
                torch = sys.modules.get("torch")
                cuda = getattr(torch, "cuda", None) if torch is not None else None
                if cuda is not None and hasattr(cuda, "is_initialized") and cuda.is_initialized():
                    seen_cuda = True
                    cuda_state(False)
                    write()
            except Exception:  # noqa: BLE001 - a probe must never break the job
                pass

    def finish():
        try:
            cuda_state(True)
        except Exception:  # noqa: BLE001
            pass
        record["exited"] = True
        record["ended_at"] = time.time()
        write()

    write()
    atexit.register(finish)
    threading.Thread(target=watch, name="gpu-check-probe", daemon=True).start()


def _chain():
    """Runs the next ``sitecustomize.py`` on the path (the image's own, if any), as Python would have."""
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        if os.path.abspath(entry or ".") == here:
            continue
        candidate = os.path.join(entry or ".", "sitecustomize.py")
        if os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_gpu_check_shadowed_sitecustomize", candidate)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return


if _DIR:
    try:
        _start()
    except Exception:  # noqa: BLE001
        pass
try:
    _chain()
except Exception as error:  # noqa: BLE001 - Python reports a failing sitecustomize the same way
    print(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{type(error).__name__}: {error}", file=sys.stderr)
