/**
 * The program of the local backend's spawner (spawner.ts): a small long-lived Python process
 * that starts jobs with `posix_spawn` (vfork + exec: the cost does not grow with anyone's memory)
 * on the controller's behalf, so the Node controller, whose resident memory grows with the run,
 * never forks. Run as `python3 -c SPAWNER_PROGRAM`; it talks JSON lines on stdin / stdout.
 *
 * Requests (controller → spawner), one per line:
 * `{"op":"spawn","id":…,"cwd":…,"argv":[…],"env":{…},"stdout":…,"stderr":…,"locks":[…],"notify":bool,"jobFile":…,"devices":[…]}`:
 * open `stdout` / `stderr` (append) and the lease files `locks` (read-only) itself, start `argv` in
 * `cwd` as the leader of a new session (its own process group), stdin `/dev/null`, stdout and
 * stderr on fds 1 and 2, a pipe on fd 3 when `notify` (the wrapper writes a byte there once it
 * holds its GPU leases), the lease files on fds 4, 5, …; its environment is the spawner's own (the
 * controller's at the spawner's start) with `env` on top; every signal at its default, none
 * blocked (as libuv does for Node's children). Then it closes its own copies of those fds (a
 * lease lock lives in the job's tree only), writes `jobFile` (`job.json`: pid, start time from
 * /proc, devices) before anything else, and answers.
 *
 * Events (spawner → controller): `{"ev":"ready","pid":…}` first, before any request is read (a
 * spawner that dies before it started nothing); `{"ev":"started","id":…,"pid":…,"at":ms}`;
 * `{"ev":"error","id":…,"message":…}` (nothing runs); `{"ev":"leased","id":…}`;
 * `{"ev":"exit","id":…,"code":n|null,"signal":name|null}` once it reaped the job's wrapper.
 *
 * It never prints a request (requests carry secret values) and ignores SIGINT, SIGHUP and
 * SIGTERM: it ends when its stdin does (its controller closed it or died); jobs it started keep
 * running then, as jobs of a dead controller always did, and report through their marker files.
 *
 * @module
 */

/** The spawner's Python source (Python ≥ 3.8: `os.posix_spawn` with `setsid`). */
export const SPAWNER_PROGRAM = String.raw`
import fcntl, json, os, selectors, signal, time
if not hasattr(os, "posix_spawn"):
    raise SystemExit("gpu-dag spawner: Python 3.8 or newer is needed (os.posix_spawn)")
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_IGN)
DEFAULTS = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)]
DUPFD_CLOEXEC = getattr(fcntl, "F_DUPFD_CLOEXEC", 1030)
BASE_ENV = dict(os.environ)
out = os.fdopen(1, "wb", buffering=0)
def send(event):
    try:
        out.write((json.dumps(event) + "\n").encode())
    except BrokenPipeError:
        os._exit(0)
send({"ev": "ready", "pid": os.getpid()})
sel = selectors.DefaultSelector()
wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)
sel.register(wake_r, selectors.EVENT_READ, ("chld", None))
os.set_blocking(0, False)
sel.register(0, selectors.EVENT_READ, ("in", None))
children = {}
notifies = {}
pending = b""

def start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return None if rest[0] == "Z" else rest[19]
    except (OSError, IndexError):
        return None

def above(fd, floor):
    # A source fd below floor could be overwritten by an earlier dup2 of the file actions
    # (targets 0 .. floor-1): move it up (the lowest free fd at or above floor, within any limit).
    if fd >= floor:
        return fd
    moved = fcntl.fcntl(fd, DUPFD_CLOEXEC, floor)
    os.close(fd)
    return moved

def spawn(req):
    job = req["id"]
    fds = []
    notify_r = None
    floor = 4 + len(req.get("locks", []))
    try:
        fds.append(above(os.open("/dev/null", os.O_RDONLY), floor))
        mode = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        fds.append(above(os.open(req["stdout"], mode, 0o666), floor))
        fds.append(above(os.open(req["stderr"], mode, 0o666), floor))
        if req.get("notify"):
            r, w = os.pipe()
            notify_r = r
            fds.append(above(w, floor))
        locks = [above(os.open(p, os.O_RDONLY), floor) for p in req.get("locks", [])]
        fds.extend(locks)
        env = dict(BASE_ENV)
        env.update(req["env"])
        actions = [(os.POSIX_SPAWN_DUP2, fd, i) for i, fd in enumerate(fds)]
        if not req.get("notify") and locks:
            raise ValueError("lease files without the notify pipe")
        os.chdir(req["cwd"])
        argv = req["argv"]
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True, setsigdef=DEFAULTS, setsigmask=[])
    except Exception as e:
        if notify_r is not None:
            os.close(notify_r)
        send({"ev": "error", "id": job, "message": "%s: %s" % (type(e).__name__, e)})
        return
    finally:
        for fd in fds:
            os.close(fd)
    at = time.time() * 1000
    children[pid] = job
    record = {"pid": pid}
    st = start_time(pid)
    if st is not None:
        record["startTime"] = st
    record["devices"] = req.get("devices", [])
    try:
        with open(req["jobFile"], "w") as f:
            f.write(json.dumps(record, separators=(",", ":")))
    except OSError as e:
        # A job nobody could adopt must not run on unrecorded.
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        children[pid] = None
        if notify_r is not None:
            os.close(notify_r)
        send({"ev": "error", "id": job, "message": "cannot write %s: %s" % (req["jobFile"], e.strerror)})
        return
    send({"ev": "started", "id": job, "pid": pid, "at": at})
    if notify_r is not None:
        os.set_blocking(notify_r, False)
        notifies[job] = notify_r
        sel.register(notify_r, selectors.EVENT_READ, ("notify", job))

def drain_notify(job, final):
    fd = notifies.get(job)
    if fd is None:
        return
    try:
        if os.read(fd, 64):
            send({"ev": "leased", "id": job})
    except BlockingIOError:
        if not final:
            return
    del notifies[job]
    sel.unregister(fd)
    os.close(fd)

def reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        job = children.pop(pid, None)
        if job is None:
            continue
        drain_notify(job, True)  # "leased" before "exit" when the wrapper said so
        if os.WIFSIGNALED(status):
            send({"ev": "exit", "id": job, "code": None, "signal": signal.Signals(os.WTERMSIG(status)).name})
        else:
            send({"ev": "exit", "id": job, "code": os.WEXITSTATUS(status), "signal": None})

while True:
    for key, _ in sel.select():
        kind, job = key.data
        if kind == "chld":
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            reap()
        elif kind == "notify":
            drain_notify(job, False)
        else:
            try:
                chunk = os.read(0, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                reap()
                os._exit(0)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line:
                    spawn(json.loads(line))
`;
