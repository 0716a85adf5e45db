"""bench/RESULTS.md and bench/results.json from one run's measurements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.report import (
    CaseSummary,
    Target,
    fmt_ratio,
    fmt_rps,
    http_table,
    markdown_table,
    ratio,
    target,
    targets_table,
)

CACHED_PAGES = ("home", "post", "category", "feed")
# wrk -c32, the page cache version reader and a few spare.
POOL_BOUND = 36


def _summaries(http: dict[str, Any]) -> dict[str, CaseSummary]:
    out = {}
    for name, s in (http.get("summary") or {}).items():
        out[name] = CaseSummary(
            name=s["name"],
            label=s["label"],
            runs=s["runs"],
            rps=s["rps_median"],
            p50_ms=s["p50_ms_median"],
            p99_ms=s["p99_ms_median"],
            errors=s["errors"],
            rps_all=tuple(s["rps_all"]),
        )
    return out


def redis_rows(http: dict[str, Any]) -> list[list[Any]]:
    """Per app server: connections at the end of warm-up, under load, after."""
    during = (http.get("redis") or {}).get("during") or {}
    after = ((http.get("redis") or {}).get("after") or {}).get("per_server") or {}
    rows = []
    servers = sorted(
        {label.split(":", 1)[1] for label in during if ":" in label} | set(after)
    )
    for server in servers:
        if server == "other" or server.startswith(("nginx", "bare")):
            continue
        warm = (during.get(f"warm:{server}") or {}).get(server, {})
        load = (during.get(f"load:{server}") or {}).get(server, {})
        rows.append(
            [
                server,
                warm.get("max", 0),
                f"{load.get('min', 0)}–{load.get('max', 0)}",
                load.get("samples", 0),
                after.get(server, 0),
            ]
        )
    return rows


def connects_per_1k(http: dict[str, Any]) -> dict[str, float]:
    """New Redis connections per 1,000 requests, per app case, less background.

    Redis counts connections server-wide, so other clients of the same Redis
    server add a steady trickle. The lowest connect rate seen in any case
    (one whose process opens none) estimates that background; each case is
    charged only for what it opened beyond it.
    """
    connects = (http.get("redis") or {}).get("connects") or {}
    runs = http.get("runs") or {}
    seconds = {n: sum(r["duration_s"] for r in runs.get(n, [])) for n in connects}
    rates = [c["connects"] / seconds[n] for n, c in connects.items() if seconds.get(n)]
    background = max(min(rates), 0.0) if rates else 0.0
    out = {}
    for name, c in connects.items():
        if c["requests"] and not name.startswith(("nginx", "bare")):
            extra = max(c["connects"] - background * seconds.get(name, 0.0), 0.0)
            out[name] = 1000 * extra / c["requests"]
    return out


def redis_stable(rows: list[list[Any]]) -> tuple[int | None, bool | None]:
    """The most connections any process held, and whether that stayed bounded.

    A shared pool grows to the number of requests in flight (wrk keeps 32)
    and then stays; a leak keeps growing past it.
    """
    if not rows:
        return None, None
    worst, stable = 0, True
    for _server, _warm, load_range, _samples, after in rows:
        high = int(str(load_range).split("–")[1])
        worst = max(worst, high, after)
        if max(high, after) > POOL_BOUND:
            stable = False
    return worst, stable


def evaluate(out: dict[str, Any]) -> list[Target]:
    http = out.get("http") or {}
    s = _summaries(http)
    targets: list[Target] = []

    # Each page against the bare app sending that same page (bench/bare_app.py).
    cached_ratios = [ratio(s, f"cached-{p}", f"bare-daphne-{p}") for p in CACHED_PAGES]
    measured = [r for r in cached_ratios if r is not None]
    worst = min(measured) if measured else None
    targets.append(
        target(
            "Cached public pages vs bare ASGI on daphne (same bytes per page)",
            "≥ 0.80× (home, post, category, feed)",
            worst,
            None if worst is None else worst >= 0.8,
            "lowest {:.2f}× ("
            + ", ".join(
                f"{p} {fmt_ratio(r)}"
                for p, r in zip(CACHED_PAGES, cached_ratios, strict=True)
            )
            + ")"
            # The blog runs under its own launcher, which does less per
            # request than plain daphne; the same launcher serving the bare
            # app is the stricter ceiling, shown beside it.
            + (
                f"; post vs the bare app under blog_site.serve {fmt_ratio(strict)}"
                if (strict := ratio(s, "cached-post", "bare-serve-post")) is not None
                else ""
            ),
        )
    )
    vs_wagtail = ratio(s, "cached-post", "wagtail-cached")
    targets.append(
        target(
            "Cached post vs Wagtail with wagtail-cache",
            "≥ 15×",
            vs_wagtail,
            None if vs_wagtail is None else vs_wagtail >= 15,
            "{:.1f}×",
        )
    )
    p99s = [s[f"cached-{p}"].p99_ms for p in CACHED_PAGES if f"cached-{p}" in s]
    p99 = max(p99s) if p99s else None
    bare_p99s = [
        s[f"bare-daphne-{p}"].p99_ms for p in CACHED_PAGES if f"bare-daphne-{p}" in s
    ]
    targets.append(
        target(
            "Cached pages p99 at -c32",
            "≤ 25 ms",
            p99,
            None if p99 is None else p99 <= 25,
            "worst {:.2f} ms"
            + (
                f" (bare ASGI app on daphne, same pages: worst {max(bare_p99s):.2f} ms)"
                if bare_p99s
                else ""
            ),
        )
    )
    vs_wagtail_uncached = ratio(s, "uncached-post", "wagtail-uncached")
    targets.append(
        target(
            "Uncached post vs Wagtail uncached",
            "≥ 3×",
            vs_wagtail_uncached,
            None if vs_wagtail_uncached is None else vs_wagtail_uncached >= 3,
            "{:.1f}×",
        )
    )
    queries = out.get("queries") or {}
    post_counts = []
    for size in ("small", "big"):
        pages = (queries.get(size) or {}).get("pages") or {}
        urls = out.get("urls") if size == "big" else queries.get("small_urls")
        post_path = (urls or {}).get("post")
        if post_path in pages:
            post_counts.append(pages[post_path]["queries"])
    most = max(post_counts) if len(post_counts) == 2 else None
    targets.append(
        target(
            "Uncached post page SQL queries",
            "≤ 3 at 10 and 1,000 posts",
            most,
            None if most is None else most <= 3,
            " / ".join(str(c) for c in post_counts) + " (10 / full data set)",
        )
    )
    worst_conn, stable = redis_stable(redis_rows(http))
    churn = {k: v for k, v in connects_per_1k(http).items() if "wagtail" not in k}
    worst_churn = max(churn.values()) if churn else None
    if stable is not None and worst_churn is not None:
        # A pool per request shows as churn (~1,000 per 1,000 requests), not
        # as a growing CLIENT LIST. The background estimate is rough on slow
        # cases (a few hundred requests), hence the margin.
        stable = stable and worst_churn < 250
    targets.append(
        target(
            "Redis connections per process under load",
            "one pool per process, flat under load",
            worst_conn,
            stable,
            "at most {} per process in CLIENT LIST (bounded by the 32 requests "
            "in flight), "
            + ("no per-request connections" if stable else "growing or churning")
            + (
                f"; new connections per 1,000 requests: worst {worst_churn:.1f}"
                if worst_churn is not None
                else ""
            ),
        )
    )
    chat = out.get("chat") or {}
    for row in chat.get("targets", []):
        targets.append(Target(**row))
    if not chat.get("targets"):
        targets.append(
            Target(
                "Chat delivery, order, p99 and 10k deliveries/s",
                "see issue",
                "—",
                "not measured",
            )
        )
    soak = out.get("soak") or {}
    if soak.get("target"):
        targets.append(Target(**soak["target"]))
    else:
        targets.append(
            Target(
                "Soak (10 min pages + WebSocket churn)",
                "RSS growth ≤ 10%, Redis connections back to baseline",
                _rss_growth(http),
                "not measured",
            )
        )
    data = out.get("dataset") or {}
    import_s = data.get("import_s")
    full = (
        data.get("posts") == 1000
        and data.get("images") == 300
        and data.get("import_exit") == 0
    )
    targets.append(
        target(
            "Import of 1,000 Markdown posts with 300 images",
            "< 60 s",
            import_s if full else None,
            None if import_s is None or not full else import_s < 60,
            "{:.1f} s",
        )
    )
    return targets


def _rss_growth(http: dict[str, Any]) -> str:
    rss = http.get("rss_mb") or {}
    worst = None
    for name, v in rss.items():
        if name.startswith(("daphne", "uvicorn", "granian")) and v["before"]:
            growth = (v["after"] - v["before"]) / v["before"]
            worst = growth if worst is None else max(worst, growth)
    if worst is None:
        return "—"
    return f"(HTTP phase only, not a soak: worst RSS growth {worst:+.0%})"


def _captured_note(page_bytes: Any) -> str:
    if isinstance(page_bytes, dict):
        sizes = ", ".join(f"{key} {size:,}" for key, size in page_bytes.items())
        return (
            "Pages captured from the blog for the bare ASGI app, each with its "
            f"status, headers and body (bytes: {sizes}); the bare app answers each "
            "path with its own page, and every case is compared with the bare app "
            "on daphne serving the same page. nginx serves the post page's body."
        )
    return (
        f"Page captured for nginx and the bare ASGI app: {page_bytes or 0:,} bytes "
        "(the post page, exactly as the blog serves it)."
    )


def render(out: dict[str, Any]) -> str:
    env = out["environment"]
    cfg = out["config"]
    http = out.get("http") or {}
    s = _summaries(http)
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{cfg['command']}` on {env['date_utc']} "
        f"({'quick run' if cfg['quick'] else 'full run'}, {out.get('elapsed_s', 0):.0f} s).",
        "",
        f"- Machine: {env['cpu']}, {env['cores']} cores, {env['memory_gib']} GiB, "
        f"Linux {env['kernel']}, load average at start {env['loadavg_at_start'][0]:.2f}",
        f"- Software: Python {env['python']}, "
        + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
        + f", {env['wrk']}, nginx {env['nginx']}, Redis {env['redis']}, MariaDB {env['mariadb']}",
        f"- Commit: `{env['git']['commit'][:12]}`{' (with uncommitted changes)' if env['git']['dirty'] else ''}",
        *([f"- Code measured: {out['note']}"] if out.get("note") else []),
        f"- Load: `{cfg['wrk']} -d{cfg['duration_s']}s`, every case repeated "
        f"{cfg['rounds']} times, rounds interleaved (each round runs every case once, "
        "in a rotated order); figures are medians, ratios are between medians of "
        "this run. Absolute req/s on a shared 2-core machine drift by about ±20% "
        "between runs; the ratios are what to compare.",
        "",
        "## Where each target stands",
        "",
        targets_table(evaluate(out)),
        "",
    ]
    if s:
        lines += [
            "## HTTP",
            "",
            _captured_note(http.get("page_bytes")) + " *Cached* is the ASGI page "
            "cache (blog_site/page_cache.py) in front of Django; *uncached* runs with "
            "`PAGE_CACHE_ENABLED=false POSTS_PAGE_CACHE_SECONDS=0`, so every request "
            "renders in Django; *Django's Redis cache only* keeps the posts app's cache "
            "backend page cache but not the ASGI one.",
            "",
            http_table(s),
            "",
            "Ratios in this run:",
            "",
        ]
        for a, b, what in (
            *(
                (f"cached-{p}", f"bare-daphne-{p}", f"cached {p} / bare ASGI on daphne")
                for p in (*CACHED_PAGES, "search", "image")
            ),
            ("cached-post", "uncached-post", "cached post / uncached post (daphne)"),
            (
                "cached-post",
                "djcache-post",
                "ASGI page cache / Django's Redis cache (post)",
            ),
            ("uncached-post", "wagtail-uncached", "uncached post / Wagtail uncached"),
            (
                "cached-post",
                "wagtail-cached",
                "cached post / Wagtail with wagtail-cache",
            ),
            ("bare-daphne-post", "nginx", "bare ASGI on daphne / nginx (post)"),
            ("uvicorn-cached-post", "cached-post", "cached post: uvicorn / daphne"),
            ("granian-cached-post", "cached-post", "cached post: granian / daphne"),
            (
                "uvicorn-uncached-post",
                "uncached-post",
                "uncached post: uvicorn / daphne",
            ),
            (
                "granian-uncached-post",
                "uncached-post",
                "uncached post: granian / daphne",
            ),
        ):
            value = ratio(s, a, b)
            if value is not None:
                lines.append(
                    f"- {what}: **{fmt_ratio(value)}** ({fmt_rps(s[a].rps)} vs {fmt_rps(s[b].rps)} req/s)"
                )
        checks = http.get("checks") or {}
        bad = {k: v for k, v in checks.items() if v["status"] >= 400}
        if bad:
            lines += [
                "",
                "Cases whose first answer was an error: "
                + ", ".join(f"{k} (HTTP {v['status']})" for k, v in bad.items()),
            ]
        lines.append("")
    queries = out.get("queries")
    if queries:
        small = queries["small"]["pages"]
        big = queries["big"]["pages"]
        small_urls = queries.get("small_urls") or {}
        big_urls = out.get("urls") or {}
        rows = []
        for key, path in big_urls.items():
            if key == "image":
                continue
            small_path = small_urls.get(key)
            rows.append(
                [
                    key,
                    f"`{path}`",
                    small[small_path]["queries"] if small_path in small else "—",
                    big[path]["queries"] if path in big else "—",
                ]
            )
        lines += [
            "## SQL queries per page (uncached, a visitor's second request)",
            "",
            markdown_table(
                [
                    "page",
                    "path (full data set)",
                    f"{queries['small']['posts']} posts",
                    f"{queries['big']['posts']} posts",
                ],
                rows,
            ),
            "",
        ]
    rrows = redis_rows(http)
    if rrows:
        lines += [
            "## Redis connections under ASGI (`CLIENT LIST`, bench database only)",
            "",
            "Sampled every 0.5 s while wrk ran; each connection is attributed to the "
            "server process owning its local port.",
            "",
            markdown_table(
                [
                    "server process",
                    "after warm-up",
                    "under load (min–max)",
                    "samples",
                    "after the run",
                ],
                rrows,
            ),
            "",
        ]
    churn = connects_per_1k(http)
    if churn:
        lines += [
            "New Redis connections opened per 1,000 requests during each case "
            "(Redis `INFO stats` total_connections_received, which is server-wide: "
            "the lowest connect rate of any case is taken as other clients' "
            "background and subtracted). A pool shared by the process opens none; "
            "a pool per request opens about 1,000 (before SharedPoolRedisCache, "
            "uncached cases measured 700–1,100; the Wagtail reference, on Django's "
            "stock RedisCache, shows it in the same run). On slow cases (a few "
            "hundred requests) the background estimate dominates the figure.",
            "",
            markdown_table(
                ["case", "new connections / 1,000 requests"],
                [[name, f"{value:.1f}"] for name, value in churn.items()],
            ),
            "",
        ]
    rss = http.get("rss_mb") or {}
    if rss:
        lines += [
            "## Memory (RSS) of each server over the HTTP phase",
            "",
            markdown_table(
                ["server", "before MB", "after MB"],
                [
                    [n, f"{v['before']:.0f}", f"{v['after']:.0f}"]
                    for n, v in rss.items()
                ],
            ),
            "",
        ]
    data = out.get("dataset") or {}
    if data:
        lines += ["## Data set and import", ""]
        if data.get("reused"):
            lines.append(
                "Reused the data set of an earlier run (`--reuse-data`); import not timed."
            )
        else:
            lines.append(
                f"{data.get('posts')} posts (the seed post plus generated Korean and English "
                f"posts), {data.get('categories')} categories, {data.get('images')} images, "
                "written as Markdown with YAML front matter and imported with "
                "`manage.py import_posts DIR --images DIR` into an empty, migrated database "
                "(images go to the S3 server with their renditions)."
            )
            if "import_s" in data:
                lines.append(
                    f"Import: **{data['import_s']:.1f} s** (exit {data.get('import_exit')}; "
                    f"{data.get('import_output', '')})."
                )
            else:
                lines.append(f"Import: {data.get('import')}")
        lines.append("")
    chat = out.get("chat")
    if chat and chat.get("markdown"):
        lines += ["## Chat", "", chat["markdown"], ""]
    soak = out.get("soak")
    if soak and soak.get("markdown"):
        lines += ["## Soak", "", soak["markdown"], ""]
    wag = out.get("wagtail_note")
    if wag:
        lines += ["## Wagtail reference", "", wag, ""]
    findings = Path(__file__).with_name("FINDINGS.md")
    if findings.exists():
        lines += [findings.read_text(encoding="utf-8").strip(), ""]
    lines += [
        "## Reproduce",
        "",
        f"`{cfg['command']}` (see README, Benchmarks). Raw runs, every wrk result and "
        "the environment are in the JSON file next to this one.",
        "",
    ]
    return "\n".join(lines)


def write(cfg: Any, out: dict[str, Any]) -> None:
    cfg.out_json.write_text(
        json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n"
    )
    cfg.out_md.write_text(render(out))
