"""The benchmark runner: `python -m bench.run [--quick]` (scripts/bench.sh calls it).

It prepares its own data (a separate MariaDB database and Redis database
number), starts every server on free loopback ports, runs bounded wrk loads
interleaved across cases and rounds, and writes bench/RESULTS.md and
bench/results.json. Nothing here asserts a speed: it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import dataset, environment, redis_watch
from bench.procs import REPO, Proc, daphne, granian, nginx_static, uvicorn
from bench.report import CEILING_PAGES, CaseSummary, summarise
from bench.wrk import WrkParseError, WrkResult, run_wrk

DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/bdg_benchdata"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
# Headers a server writes itself; the bare app leaves them to daphne.
BARE_SKIP_HEADERS = {
    "date",
    "server",
    "content-length",
    "transfer-encoding",
    "connection",
}


@dataclass
class Config:
    quick: bool
    duration_s: int
    rounds: int
    posts: int
    images: int
    database_url: str
    redis_url: str
    out_md: Path
    out_json: Path
    keep: bool = False
    reuse_data: bool = False
    only: set[str] = field(default_factory=set)
    cases: list[str] = field(default_factory=list)
    chat_plan: list[tuple[int, list[int]]] = field(default_factory=list)
    chat_layers: list[str] = field(default_factory=list)
    soak_seconds: int = 600

    @property
    def redis_db(self) -> int:
        return int(urlsplit(self.redis_url).path.strip("/") or 0)

    def db_url(self, suffix: str = "") -> str:
        return self.database_url + suffix


def parse_args(argv: list[str]) -> Config:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a few minutes: 2 s runs, 200 posts"
    )
    parser.add_argument("--duration", type=int, help="seconds per wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="repeats of each case (>= 3)"
    )
    parser.add_argument(
        "--posts", type=int, help="posts in the data set (default 1000)"
    )
    parser.add_argument(
        "--images", type=int, help="images in the data set (default 300)"
    )
    parser.add_argument(
        "--reuse-data", action="store_true", help="skip the import if done"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder and logs"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated parts: import,queries,http,chat,wagtail,soak",
    )
    parser.add_argument("--out", type=Path, help="Markdown report path")
    parser.add_argument(
        "--soak-seconds",
        type=int,
        help="length of the soak (default 600; quick: 60)",
    )
    parser.add_argument(
        "--chat-plan",
        default="",
        help='chat clients and deliveries/s, e.g. "100:1000,10000;500:2500,10000"',
    )
    parser.add_argument(
        "--chat-layers", default="", help="pubsub,core (default: both; quick: pubsub)"
    )
    parser.add_argument(
        "--cases",
        default="",
        help="only HTTP cases whose name contains one of these (comma-separated)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    out_md = args.out or (
        REPO / "bench" / ("RESULTS-quick.md" if quick else "RESULTS.md")
    )
    return Config(
        quick=quick,
        duration_s=args.duration or (2 if quick else 6),
        rounds=max(3, args.rounds),
        posts=args.posts or (200 if quick else 1000),
        images=args.images or (60 if quick else 300),
        database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        out_md=out_md,
        out_json=out_md.with_name(out_md.stem.lower() + ".json"),
        keep=args.keep,
        reuse_data=args.reuse_data,
        only={p.strip() for p in args.only.split(",") if p.strip()},
        cases=[c.strip() for c in args.cases.split(",") if c.strip()],
        chat_plan=[
            (int(n), [int(r) for r in rates.split(",")])
            for n, rates in (
                part.split(":") for part in args.chat_plan.split(";") if part
            )
        ],
        chat_layers=[p for p in args.chat_layers.split(",") if p],
        soak_seconds=args.soak_seconds or (60 if quick else 600),
    )


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Services and the app's environment -------------------------------------------


def app_env(
    cfg: Config, s3_env: dict[str, str], db_suffix: str = "", **extra: str
) -> dict[str, str]:
    """Production settings (DEBUG off) against the bench's own database and Redis."""
    return {
        "DJANGO_SETTINGS_MODULE": "blog_site.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": _secret_key(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": cfg.db_url(db_suffix),
        "REDIS_URL": cfg.redis_url,
        "LOG_LEVEL": "WARNING",
        # Throttling is per client address and every wrk connection is one
        # client: a production rate would turn the API case into 429s.
        "API_THROTTLE_ANON": "100000000/min",
        "PYTHONUNBUFFERED": "1",
        **s3_env,
        **extra,
    }


_KEY = secrets.token_urlsafe(64)


def _secret_key() -> str:
    return _KEY


def manage(
    env: dict[str, str], *args: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def manage_ok(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    done = manage(env, *args, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def inside(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "bench.inside", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.inside {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def recreate_database(url: str, collation: str = "utf8mb4_unicode_ci") -> None:
    import MySQLdb

    parts = urlsplit(url)
    name = parts.path.strip("/")
    if not name.startswith("bdg_bench"):
        raise RuntimeError(
            f"refusing to drop {name!r}: bench databases start with bdg_bench"
        )
    conn = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
    )
    try:
        cur = conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {collation}"
        )
    finally:
        conn.close()


def mariadb_version(url: str) -> str | None:
    import MySQLdb

    parts = urlsplit(url)
    try:
        conn = MySQLdb.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
        )
    except MySQLdb.Error:
        return None
    try:
        cur = conn.cursor()
        cur.execute("SELECT VERSION()")
        return str(cur.fetchone()[0])
    finally:
        conn.close()


def redis_info(url: str) -> tuple[Any, str | None]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2)
    return client, str(client.info("server").get("redis_version"))


def static_is_stale() -> bool:
    """Whether collectstatic must run (compressing every file takes a minute)."""
    manifest = REPO / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [REPO / "static", *REPO.glob("*/static")]
    return any(
        path.stat().st_mtime > built
        for folder in sources
        for path in folder.rglob("*")
        if path.is_file()
    )


def has_command(env: dict[str, str], name: str) -> bool:
    return manage(env, "help", name).returncode == 0


# --- The data set --------------------------------------------------------------


def prepare_data(
    cfg: Config, env: dict[str, str], work: Path, posts: int, images: int
) -> dict[str, Any]:
    """Empty database, migrations, an owner account, then the timed import."""
    url = env["DATABASE_URL"]
    recreate_database(url)
    t0 = time.monotonic()
    manage_ok(env, "migrate", "--noinput")
    migrate_s = time.monotonic() - t0
    manage_ok(
        {**env, "DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(16)},
        "createsuperuser",
        "--noinput",
        "--username",
        "bench",
        "--email",
        "bench@bench.invalid",
    )
    info: dict[str, Any] = {
        "database": urlsplit(url).path.strip("/"),
        "migrate_s": migrate_s,
    }
    root = work / f"data-{posts}"
    t0 = time.monotonic()
    data = dataset.generate(root, posts=posts, images=images)
    info.update(
        generate_s=time.monotonic() - t0,
        posts=data.posts,
        images=data.images,
        categories=data.categories,
        seed_title=data.seed_title,
        seed_found=data.seed_title is not None,
    )
    if not has_command(env, "import_posts"):
        info["import"] = "not available (posts app has no import_posts command yet)"
        return info
    t0 = time.monotonic()
    done = manage(
        env, "import_posts", str(data.posts_dir), "--images", str(data.images_dir)
    )
    info["import_s"] = time.monotonic() - t0
    info["import_exit"] = done.returncode
    info["import_output"] = (done.stdout.strip().splitlines() or [""])[-1][:300]
    if done.returncode != 0:
        info["import_errors"] = done.stderr[-2000:]
    return info


# --- HTTP ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    label: str
    server: str
    path: str
    group: str


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback only

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def build_cases(urls: dict[str, str], wagtail_path: str | None) -> list[Case]:
    post = urls.get("post", "/")
    cases = [
        Case("nginx", "nginx static file (1 worker)", "nginx", "/", "reference"),
        *(
            Case(
                f"bare-daphne-{key}",
                f"bare ASGI app, daphne, {key} page (ceiling)",
                "bare-daphne",
                urls[key],
                "reference",
            )
            for key in CEILING_PAGES
            if key in urls
        ),
        Case(
            "bare-serve-post",
            "bare ASGI app, blog_site.serve (the blog's daphne launcher), post page",
            "bare-serve",
            post,
            "reference",
        ),
        Case(
            "bare-uvicorn", "bare ASGI app, uvicorn", "bare-uvicorn", post, "reference"
        ),
        Case(
            "bare-granian", "bare ASGI app, granian", "bare-granian", post, "reference"
        ),
    ]
    for key, title in (
        ("home", "home"),
        ("post", "post"),
        ("category", "category"),
        ("feed", "feed (RSS)"),
        ("search", "search"),
        ("api_posts", "/api/v1/posts/"),
        ("image", "/images/UUID (302)"),
    ):
        if key not in urls:
            continue
        cases.append(
            Case(
                f"cached-{key}",
                f"{title}, cached (daphne)",
                "daphne-cached",
                urls[key],
                "cached",
            )
        )
        cases.append(
            Case(
                f"uncached-{key}",
                f"{title}, uncached (daphne)",
                "daphne-uncached",
                urls[key],
                "uncached",
            )
        )
    if "post" in urls:
        post = urls["post"]
        cases += [
            Case(
                "djcache-post",
                "post, Django's Redis cache only (daphne)",
                "daphne-djcache",
                post,
                "server",
            ),
            Case(
                "uvicorn-cached-post",
                "post, cached (uvicorn)",
                "uvicorn-cached",
                post,
                "server",
            ),
            Case(
                "granian-cached-post",
                "post, cached (granian)",
                "granian-cached",
                post,
                "server",
            ),
            Case(
                "uvicorn-uncached-post",
                "post, uncached (uvicorn)",
                "uvicorn-uncached",
                post,
                "server",
            ),
            Case(
                "granian-uncached-post",
                "post, uncached (granian)",
                "granian-uncached",
                post,
                "server",
            ),
        ]
    if wagtail_path:
        cases += [
            Case(
                "wagtail-uncached",
                "Wagtail post, uncached (daphne)",
                "wagtail-uncached",
                wagtail_path,
                "wagtail",
            ),
            Case(
                "wagtail-cached",
                "Wagtail post, wagtail-cache (daphne)",
                "wagtail-cached",
                wagtail_path,
                "wagtail",
            ),
        ]
    return cases


def rss_mb(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        family = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in family) / 1024 / 1024
    except psutil.Error:
        return 0.0


def run_http(
    cfg: Config,
    cases: list[Case],
    servers: dict[str, Proc],
    watch: redis_watch.RedisWatch | None,
) -> tuple[dict[str, list[WrkResult]], dict[str, Any]]:
    results: dict[str, list[WrkResult]] = {c.name: [] for c in cases}
    connects: dict[str, list[tuple[int, int]]] = {c.name: [] for c in cases}
    checks: dict[str, Any] = {}
    for case in cases:
        status, body, headers = fetch(servers[case.server].url + case.path)
        fetch(servers[case.server].url + case.path)
        checks[case.name] = {"status": status, "bytes": len(body), "path": case.path}
        log(f"check {case.name}: HTTP {status}, {len(body)} bytes")
    # One short discarded run per case warms caches, connections and pools.
    for case in cases:
        _label(watch, f"warm:{case.server}")
        try:
            run_wrk(servers[case.server].url + case.path, duration_s=1)
        except WrkParseError as exc:
            log(f"warm-up of {case.name} failed: {exc}")
    for round_no in range(cfg.rounds):
        # Rotate the order each round so no case always runs first or last.
        order = cases[round_no % len(cases) :] + cases[: round_no % len(cases)]
        for case in order:
            settled = settle(servers[case.server])
            if settled is not None:
                log(f"{case.server} still busy after {settled:.0f} s; measuring anyway")
            _label(watch, f"load:{case.server}")
            before = _connections_received(cfg)
            try:
                result = run_wrk(
                    servers[case.server].url + case.path, duration_s=cfg.duration_s
                )
            except WrkParseError as exc:
                log(f"{case.name}: wrk failed: {exc}")
                continue
            results[case.name].append(result)
            connects[case.name].append(
                (_connections_received(cfg) - before, result.requests)
            )
            log(
                f"round {round_no + 1}/{cfg.rounds} {case.name:<24} "
                f"{result.requests_per_s:>10,.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}"
            )
        _label(watch, "idle")
    checks["redis_connects"] = {
        name: {
            "connects": sum(c for c, _ in pairs),
            "requests": sum(r for _, r in pairs),
        }
        for name, pairs in connects.items()
    }
    return results, checks


def settle(
    server: Proc, idle_percent: float = 5.0, limit_s: float = 60.0
) -> float | None:
    """Wait until `server` has stopped working on an earlier case's requests.

    When wrk stops, a slow case leaves its server with requests in flight
    that it keeps computing for seconds (wrk -c32 against a page that takes
    300 ms). The next case on the same server would share the CPU with them,
    so every run starts from an idle server. Returns None once idle, or the
    seconds waited if it never was."""
    import psutil

    try:
        proc = psutil.Process(server.pid)
        proc.cpu_percent(None)
    except (psutil.Error, RuntimeError):
        return None
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        time.sleep(0.25)
        try:
            if proc.cpu_percent(None) < idle_percent:
                return None
        except psutil.Error:
            return None
    return time.monotonic() - start


def _connections_received(cfg: Config) -> int:
    """Redis's count of accepted connections, less this call's own.

    Server-wide: other clients of the same Redis server add some noise."""
    import redis

    client = redis.Redis.from_url(cfg.redis_url, socket_timeout=2)
    try:
        return int(client.info("stats")["total_connections_received"]) - 1
    finally:
        client.close()


def _label(watch: redis_watch.RedisWatch | None, label: str) -> None:
    if watch is not None:
        watch.label = label


# --- The run ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cfg = parse_args(argv)
    want = lambda part: not cfg.only or part in cfg.only  # noqa: E731
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bdg-bench-"))
    log(f"work folder {work}")
    redis_client, redis_version = redis_info(cfg.redis_url)
    redis_client.flushdb()
    env_info = environment.collect(
        redis_version=redis_version, mariadb_version=mariadb_version(cfg.database_url)
    )
    log(
        f"{env_info['cpu']} x{env_info['cores']}, commit {env_info['git']['commit'][:10]}"
    )
    from tests.services import new_s3_server

    s3 = new_s3_server()
    procs: list[Proc] = []
    out: dict[str, Any] = {"environment": env_info, "config": _config_dict(cfg, argv)}
    try:
        s3.start()
        log(f"S3 server (SeaweedFS) on {s3.endpoint}")
        s3_env = {**s3.env(), "S3_BUCKET": "bdg-bench"}
        env = app_env(cfg, s3_env)
        manage_ok(env, "ensure_bucket")
        if static_is_stale():
            manage_ok(env, "collectstatic", "--noinput", "-v0")
        log("bucket ready, static files collected")

        if want("import") or want("queries") or want("http") or want("soak"):
            if cfg.reuse_data and _has_posts(env):
                log("reusing the data set already imported")
                out["dataset"] = {"reused": True}
            else:
                log(f"data set: {cfg.posts} posts, {cfg.images} images")
                out["dataset"] = prepare_data(cfg, env, work, cfg.posts, cfg.images)
                log(f"import: {json.dumps(out['dataset'], ensure_ascii=False)[:400]}")
        elif not _has_posts(env):
            # Chat alone needs only a migrated database (the lobby room).
            recreate_database(env["DATABASE_URL"])
            manage_ok(env, "migrate", "--noinput")
        urls = inside(env, "urls", (out.get("dataset") or {}).get("seed_title") or "")
        out["urls"] = urls
        log(f"case URLs: {urls}")

        if want("queries"):
            out["queries"] = measure_queries(cfg, env, s3_env, work, urls)

        if want("http"):
            out["http"] = http_phase(cfg, env, work, urls, procs)

        if want("chat"):
            from bench import chat

            out["chat"] = chat.run(cfg, env, work, procs, log)

        if want("soak"):
            from bench import soak

            out["soak"] = soak.run(cfg, env, work, procs, urls, log)
    finally:
        for proc in procs:
            proc.stop()
        s3.stop()
        if cfg.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(s3.data_dir, ignore_errors=True)
    out["elapsed_s"] = time.monotonic() - started
    from bench import results

    results.write(cfg, out)
    log(f"wrote {cfg.out_md} and {cfg.out_json} in {out['elapsed_s']:.0f} s")
    return 0


def _config_dict(cfg: Config, argv: list[str]) -> dict[str, Any]:
    return {
        "quick": cfg.quick,
        "duration_s": cfg.duration_s,
        "rounds": cfg.rounds,
        "posts": cfg.posts,
        "images": cfg.images,
        "wrk": "wrk -t1 -c32 --latency",
        "command": shlex.join(["scripts/bench.sh", *argv]),
    }


def _has_posts(env: dict[str, str]) -> bool:
    done = manage(
        env, "shell", "-c", "from posts.models import Post; print(Post.objects.count())"
    )
    # Django 5.2's shell first prints how many objects it imported by itself,
    # so the count is the last line (reading the whole output made every
    # --reuse-data run import the data set again).
    lines = done.stdout.strip().splitlines()
    count = lines[-1].strip() if lines else ""
    return done.returncode == 0 and count.isdigit() and int(count) > 0


def measure_queries(
    cfg: Config,
    env: dict[str, str],
    s3_env: dict[str, str],
    work: Path,
    urls: dict[str, str],
) -> dict[str, Any]:
    """SQL per page, uncached, at 10 posts and at the full data set."""
    counting = {
        "POSTS_PAGE_CACHE_SECONDS": "0",
        "PAGE_CACHE_ENABLED": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    }
    small_env = app_env(cfg, s3_env, db_suffix="_small")
    small_info = prepare_data(cfg, small_env, work, 10, 12)
    small_urls = inside(small_env, "urls", small_info.get("seed_title") or "")
    paths = [p for k, p in urls.items() if k != "image"]
    out = {
        "big": {
            "posts": cfg.posts,
            "pages": inside({**env, **counting}, "queries", *paths),
        },
        "small": {
            "posts": 10,
            "pages": inside(
                {**small_env, **counting},
                "queries",
                *[p for k, p in small_urls.items() if k != "image"],
            ),
        },
        "small_urls": small_urls,
    }
    for size in ("small", "big"):
        for path, page in out[size]["pages"].items():
            log(
                f"queries at {out[size]['posts']} posts: {path} -> {page['queries']} (HTTP {page['status']})"
            )
    return out


def http_phase(
    cfg: Config,
    env: dict[str, str],
    work: Path,
    urls: dict[str, str],
    procs: list[Proc],
) -> dict[str, Any]:
    app = "blog_site.asgi:application"
    uncached = {"PAGE_CACHE_ENABLED": "false", "POSTS_PAGE_CACHE_SECONDS": "0"}
    servers: dict[str, Proc] = {
        # The blog as production runs it (blog_site.serve, see the Dockerfile).
        "daphne-cached": daphne("daphne-cached", app, env, work, serve=True),
        "daphne-uncached": daphne(
            "daphne-uncached", app, {**env, **uncached}, work, serve=True
        ),
        "daphne-djcache": daphne(
            "daphne-djcache",
            app,
            {**env, "PAGE_CACHE_ENABLED": "false"},
            work,
            serve=True,
        ),
        "uvicorn-cached": uvicorn("uvicorn-cached", app, env, work),
        "granian-cached": granian("granian-cached", app, env, work),
        "uvicorn-uncached": uvicorn("uvicorn-uncached", app, {**env, **uncached}, work),
        "granian-uncached": granian("granian-uncached", app, {**env, **uncached}, work),
    }
    for proc in servers.values():
        procs.append(proc.start(ready_path="/healthz"))
    pages_file, body_file, page_bytes = capture_pages(
        servers["daphne-cached"], urls, work
    )
    bare_env = {"BENCH_PAGES_FILE": str(pages_file)}
    servers["nginx"] = nginx_static(body_file, work)
    # The ceiling is plain daphne at its fastest (no access log, like the
    # blog's launcher); bare-serve shows what that launcher itself changes.
    servers["bare-daphne"] = daphne(
        "bare-daphne", "bench.bare_app:app", bare_env, work, access_log=False
    )
    servers["bare-serve"] = daphne(
        "bare-serve", "bench.bare_app:app", bare_env, work, serve=True
    )
    servers["bare-uvicorn"] = uvicorn(
        "bare-uvicorn", "bench.bare_app:app", bare_env, work
    )
    servers["bare-granian"] = granian(
        "bare-granian", "bench.bare_app:app", bare_env, work
    )
    for name in ("nginx", "bare-daphne", "bare-serve", "bare-uvicorn", "bare-granian"):
        procs.append(servers[name].start())

    wagtail_path = None
    wagtail_facts: dict[str, Any] = {}
    if not cfg.only or "wagtail" in cfg.only:
        from bench import wagtail_ref

        try:
            wagtail_servers, wagtail_path, wagtail_facts = wagtail_ref.start(
                cfg, env, body_file, work, procs, log
            )
            servers.update(wagtail_servers)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            log(f"Wagtail reference unavailable: {exc}")
            wagtail_facts = {"error": str(exc)[-1500:]}

    cases = build_cases(urls, wagtail_path)
    if cfg.cases:
        cases = [c for c in cases if any(_matches(c.name, p) for p in cfg.cases)]
    app_servers = {
        n: [p.pid]
        for n, p in servers.items()
        if n.startswith(("daphne", "uvicorn", "granian"))
    }
    watch = redis_watch.RedisWatch(cfg.redis_url, cfg.redis_db, app_servers)
    rss_before = {n: rss_mb(p.pid) for n, p in servers.items()}
    baseline = watch.sample()
    watch.start()
    try:
        raw, checks = run_http(cfg, cases, servers, watch)
        redis_connects = checks.pop("redis_connects")
    finally:
        watch.stop()
    after = watch.sample()
    summaries: dict[str, CaseSummary] = {
        c.name: summarise(c.name, c.label, raw[c.name]) for c in cases if raw[c.name]
    }
    return {
        "page_bytes": page_bytes,
        "wagtail": wagtail_facts,
        "cases": [_case_dict(c) for c in cases],
        "checks": checks,
        "runs": {name: [r.as_dict() for r in runs] for name, runs in raw.items()},
        "summary": {name: s.as_dict() for name, s in summaries.items()},
        "redis": {
            "connects": redis_connects,
            "baseline": baseline,
            "after": after,
            "during": redis_watch.summarise(watch.samples),
        },
        "rss_mb": {
            n: {"before": rss_before[n], "after": rss_mb(p.pid)}
            for n, p in servers.items()
        },
    }


def capture_pages(
    server: Proc, urls: dict[str, str], work: Path
) -> tuple[Path, Path, dict[str, int]]:
    """Each ceiling page exactly as the blog sends it, for the bare ASGI app.

    The body and the blog's own response headers (CSP, security headers,
    Vary...): the ceiling sends the same response, not just the same body.
    The server adds its own Date/Server and framing headers. Returns the
    manifest, the post page's body (nginx serves it) and each page's size.
    """
    pages: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    for key in CEILING_PAGES:
        if key not in urls:
            continue
        path = urls[key]
        # Twice: the first request may be the one that fills the cache.
        fetch(server.url + path)
        status, body, headers = fetch(server.url + path)
        if status >= 400:
            raise RuntimeError(f"{path} answered {status}; cannot capture its bytes")
        body_file = work / f"page-{key}.bin"
        body_file.write_bytes(body)
        pages[path] = {
            "status": status,
            "headers": [
                [name, value]
                for name, value in headers.items()
                if name.lower() not in BARE_SKIP_HEADERS
            ],
            "body_file": str(body_file),
        }
        sizes[key] = len(body)
        log(f"captured {key} {path}: HTTP {status}, {len(body)} bytes")
    post = urls.get("post", "/")
    if post not in pages:
        raise RuntimeError("the post page is needed for the ceiling and nginx")
    manifest = work / "pages.json"
    manifest.write_text(json.dumps({"default": post, "pages": pages}))
    return manifest, Path(pages[post]["body_file"]), sizes


def _matches(name: str, part: str) -> bool:
    """`--cases` selection: a substring, or a prefix when it starts with ^."""
    return name.startswith(part[1:]) if part.startswith("^") else part in name


def _case_dict(case: Case) -> dict[str, str]:
    return {
        "name": case.name,
        "label": case.label,
        "server": case.server,
        "path": case.path,
        "group": case.group,
    }


if __name__ == "__main__":
    raise SystemExit(main())
