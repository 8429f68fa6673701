"""Gunicorn settings for jiuye (read automatically when gunicorn starts in this folder):

    gunicorn 'webhooks:create_app()'                     # these settings, 127.0.0.1:8000
    gunicorn -c /path/to/jiuye/gunicorn.conf.py 'webhooks:create_app()'   # from elsewhere

Environment overrides (all optional):

    JIUYE_ENV         production (default here; `make run` and the flask CLI stay development).
                      Production refuses to start without a JIUYE_SECRET_KEY of 32+ characters.
    JIUYE_BIND        address to listen on, default 127.0.0.1:8000 (nginx in front)
    WEB_CONCURRENCY   worker processes, default 2
    JIUYE_THREADS     threads per worker, default 4
    JIUYE_PRELOAD     1 (default): build the app once in the master and fork warm workers; 0: each
                      worker builds its own
    JIUYE_TIMEOUT     seconds a silent worker may live before the master replaces it, default 30
    JIUYE_ACCESS_LOG  file for the access log, "-" (default) = stdout, "" = no access log

Threaded workers (gthread): a request that waits — on PostgreSQL, on a slow phone's upload, on
the WeChat reply deadline — holds one thread, not a whole process. With the old sync workers,
two clients that drip-fed their requests blocked both workers until the 30-second timeout.
Threads are not a full defence against many slow clients: put a buffering proxy (nginx) in
front, which reads each request whole before passing it on (README, 部署; deploy/nginx/).
Several workers (or hosts) need a shared database: PostgreSQL.
"""
import gc
import os
import time

# Before anything reads the settings: this file is the production entry point. An explicit
# JIUYE_ENV (e.g. development for a local trial) still wins.
os.environ.setdefault("JIUYE_ENV", "production")

bind = os.environ.get("JIUYE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# Answering is CPU work (matching, the dialogue engine) between a few short database round trips:
# a worker needs a few threads to overlap those waits, not many. Measured on 2 cores with 2
# workers under the mixed load of scripts/loadbench.py: 4 threads served the most (245 req/s),
# 2 about as many, 8 fewer (175 req/s, the threads mostly contending for the interpreter lock).
# nginx buffers slow clients, so a thread is never held by one.
threads = int(os.environ.get("JIUYE_THREADS", "4"))

# A worker that stops answering its master for this long is killed and replaced. With threads the
# master's heartbeat does not wait for requests, so this catches a wedged process, not a slow page.
timeout = int(os.environ.get("JIUYE_TIMEOUT", "30"))
graceful_timeout = 20   # on restart, in-flight requests get this long to finish
keepalive = 5           # seconds an idle kept-alive connection may wait for its next request

# The workers' heartbeat files in memory where there is /dev/shm (gunicorn's advice: the systemd
# unit points TMPDIR at a disk-backed cache directory, where the heartbeat could stall).
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    worker_tmp_dir = "/dev/shm"

# Requests are small (a question, a WeChat XML of at most 64 KiB): refuse oversized heads early.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Log to stdout/stderr (systemd or docker keep them). The access log records no query strings
# beyond the path: WeChat's signature parameters are not secrets, but there is no need to keep them.
accesslog = os.environ.get("JIUYE_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
errorlog = "-"

# Preload: the master runs create_app() once — with WARM_START (on in production) that opens the
# database, loads the pack, the matcher index and jieba's dictionary, and renders the first
# pages — then forks the workers, which share those pages of memory copy-on-write. Measured on
# the 2-core test machine (docs/BENCHMARKS.md): a worker forked from a warm master serves in
# milliseconds, while one that builds the app itself needs 4-8 s of imports and index loading
# before it answers; a worker that dies (or is replaced) therefore costs nobody a slow answer,
# and the index is in memory once rather than once per worker.
# What must not cross the fork is made per worker: the database pool is emptied in the master
# before it forks (when_ready below) and forgotten in any child (knowledge.db registers an
# at-fork handler); the rate limiter's memory storage and its timer thread, the WeChat
# reply-deadline pool and the retention purge thread are all created lazily, in the worker,
# at first use; the warm-up starts no thread.
# The price: `kill -HUP` restarts workers but does not load new code — deploy new code with a
# restart of the service (systemctl restart jiuye).
preload_app = os.environ.get("JIUYE_PRELOAD", "1").strip().lower() not in ("0", "false", "no", "off")

# gunicorn 24+ opens a control socket at one fixed path per user: two services (or a test run
# beside a running server) would fight over it. jiuye does not use it. Older versions ignore this.
control_socket_disable = True


# -- metrics and JSON logs (webhooks/metrics.py, webhooks/logs.py; README, 监控与日志) ----------------
# /metrics sums every worker: prometheus-client keeps each worker's values in files under
# PROMETHEUS_MULTIPROC_DIR, and decides so when a worker first imports it — so the variable is set
# here, in the master, before any worker exists. Unless given, each master makes its own private
# directory (two servers on one host must not share, or wipe, each other's files).
import glob as _glob  # noqa: E402 — this block is kept self-contained
import shutil as _shutil  # noqa: E402
import tempfile as _tempfile  # noqa: E402

_METRICS_PREFIX = "jiuye-metrics-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _tempfile.mkdtemp(prefix=_METRICS_PREFIX)


def _metrics_dir_is_ours(path):
    return (os.path.dirname(os.path.abspath(path)) == os.path.abspath(_tempfile.gettempdir())
            and os.path.basename(path).startswith(_METRICS_PREFIX))


def on_starting(server):
    """Master start: counters from a previous run in a given directory would be summed into this one's."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    for name in _glob.glob(os.path.join(path, "*.db")):
        os.remove(name)


def child_exit(server, worker):
    """A worker ended: its live gauges go (its counters stay, so totals never go backwards)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if path and _metrics_dir_is_ours(path):
        _shutil.rmtree(path, ignore_errors=True)


# JIUYE_LOG_FORMAT=json (the app reads it too): every line on stderr one JSON object. The app writes
# one access line per request with its request id, so gunicorn's own access log (plain text, and
# without the id) is off, and gunicorn's messages (start, worker boot and exit) are JSON as well.
if os.environ.get("JIUYE_LOG_FORMAT", "").strip().lower() == "json":
    accesslog = None
    logconfig_dict = {
        "root": {"level": "INFO", "handlers": []},  # each worker's app puts its JSON handler there
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "formatters": {"json": {"()": "webhooks.logs.JsonFormatter"}},
    }


# -- process hooks (serving) -----------------------------------------------------------------------
def when_ready(server):
    """Master, after the preloaded app is built and before the first fork: close the database
    connections the warm-up used, so no worker inherits a socket another process also uses."""
    if server.cfg.preload_app:
        from webhooks.db import close_connections

        close_connections(server.app.wsgi())
        # What the master built (the app, the pack, the matcher index) lives as long as the
        # workers: out of the garbage collector's scans, so a worker does not copy those shared
        # pages merely by collecting (Python's advice for forking servers).
        gc.freeze()


def post_fork(server, worker):
    worker.jiuye_forked_at = time.monotonic()


def post_worker_init(worker):
    """Worker, after the app is loaded (and warm), just before it takes requests. Without preload
    (JIUYE_PRELOAD=0) this is where the schema is checked — a worker refuses to start on a schema
    behind or ahead of its code, saying what to run — and the engine built."""
    from webhooks.startup import warm_up

    warm_up(worker.wsgi)
    started = getattr(worker, "jiuye_forked_at", None)
    if started is not None:
        worker.log.info("worker %s ready %.2f s after fork", worker.pid, time.monotonic() - started)
