"""Gunicorn settings for jiuye (read automatically when gunicorn starts in this folder):

    gunicorn 'webhooks:create_app()'                     # these settings, 127.0.0.1:8000
    gunicorn -c /path/to/jiuye/gunicorn.conf.py 'webhooks:create_app()'   # from elsewhere

Threaded workers (gthread): a request that waits — on PostgreSQL, on a slow phone's upload, on
the WeChat reply deadline — holds one thread, not a whole process. With the old sync workers,
two clients that drip-fed their requests blocked both workers until the 30-second timeout.
Threads are not a full defence against many slow clients: put a buffering proxy (nginx) in
front, which reads each request whole before passing it on (README, 部署).

Environment overrides: JIUYE_BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (worker
processes, default 2), JIUYE_THREADS (threads per worker, default 8). Each worker builds its
own engine (the matcher index), so several workers need a shared database: PostgreSQL.
"""
import os

bind = os.environ.get("JIUYE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("JIUYE_THREADS", "8"))

# A worker that stops answering its master for this long is killed and replaced. With threads the
# master's heartbeat does not wait for requests, so this catches a wedged process, not a slow page.
timeout = 30
graceful_timeout = 20   # on restart, in-flight requests get this long to finish
keepalive = 5           # seconds an idle kept-alive connection may wait for its next request

# Requests are small (a question, a WeChat XML of at most 64 KiB): refuse oversized heads early.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Log to stdout/stderr (systemd or docker keep them). The access log records no query strings
# beyond the path: WeChat's signature parameters are not secrets, but there is no need to keep them.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
errorlog = "-"

# Each worker creates the app itself (no preload): the rate limiter's memory store and the
# database pool must not be shared across a fork.
preload_app = False

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


def post_worker_init(worker):  # noqa: ANN001 — gunicorn's hook signature
    """Before a worker takes traffic: check the schema (refuse to start on one behind or ahead of
    the code, saying what to run) and build the engine, so its first request is not the slow one."""
    from webhooks.startup import warm_up

    warm_up(worker.wsgi)
