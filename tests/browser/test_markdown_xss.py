"""Markdown XSS in a real browser (hardening issue, item 3).

Every payload in `tests/security/xss_payloads.txt` becomes the body of a
published post through `posts.services.post_create` (Markdown, Pygments,
nh3), and its public page, served by a real daphne with production settings
and the real Content-Security-Policy, is loaded in Chromium. Hooks count
what would show an XSS: dialogs (alert, confirm, prompt; print is wrapped),
calls recorded by wrappers installed before any page script, CSP
violations, uncaught page errors, and navigations away. After load every
element in the post body gets the events payloads wait for (mouseover,
focus, click...), then the DOM is searched for anything that could run
script later: `javascript:`/`data:`/`vbscript:` URLs in any URL attribute,
`on*` attributes, foreign `<script>` elements, frames, objects, forms,
`<base>`, `<meta>`.

The controls prove the hooks can fire: the same payloads rendered by
Markdown *without* nh3 and loaded without a CSP run script and leave
dangerous DOM; behind the site's real CSP, the inline ones are reported as
violations instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from posts import services
from posts.models import Post
from posts.rendering import _markdown
from tests.posts.factories import UserFactory
from tests.security.xss_corpus import payloads

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

# Installed through DevTools before any page script, in every frame (the CSP
# does not apply to it): records dialog-style calls and CSP reports.
HOOKS = """
window.__xss = [];
window.__csp = [];
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  const original = window[name];
  window[name] = function (...args) {
    window.__xss.push(name + '(' + args.map(String).join(',') + ')');
    // A real dialog for the first few only: `onfocus=alert(1) autofocus`
    // would otherwise refocus and alert forever.
    if (name === 'print' || window.__xss.length > 3) return undefined;
    return original.apply(this, args);
  };
}
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.effectiveDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});
"""

# One round trip per page. First fires the events payloads hang their
# handlers on, at every element of the post body (clicks on ordinary links,
# http, https, mailto or the same page, are cancelled so the page stays; any
# other link is let through), then lists everything in the DOM that could
# run script or leave the page.
CHECK = """async (selector) => {
  const root = document.querySelector(selector);
  const safe = new Set(['http:', 'https:', 'mailto:']);
  const ordinary = (el) => {
    const a = el.closest && el.closest('a[href], area[href]');
    return a && safe.has(a.protocol);
  };
  document.addEventListener('click', (e) => {
    if (ordinary(e.target)) e.preventDefault();
  }, true);
  const kinds = ['mouseover', 'mouseenter', 'mousemove', 'mousedown', 'mouseup',
                 'focus', 'focusin', 'blur', 'keydown', 'toggle', 'animationstart'];
  const provoked = root ? [...root.querySelectorAll('*')] : [];
  for (const el of provoked) {
    if (el.matches('.code-copy')) continue;  // the site's own copy button
    for (const kind of kinds) el.dispatchEvent(new Event(kind, { bubbles: true }));
    if (el.focus) el.focus();
    if (el.click && !ordinary(el)) el.click();
  }
  await new Promise((done) => setTimeout(done, 20));  // provoked timers run

  const found = [];
  const bad = new Set(['javascript:', 'data:', 'vbscript:']);
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data',
                    'poster', 'background', 'lowsrc', 'dynsrc', 'ping', 'cite',
                    'codebase', 'srcdoc', 'srcset', 'content'];
  const scheme = (value) => {
    try { return new URL(value, document.baseURI).protocol; } catch { return ''; }
  };
  const urls = (name, value) => {
    if (name === 'srcset') {
      return value.split(',').map((part) => part.trim().split(/\\s+/)[0]);
    }
    if (name !== 'content') return [value];
    const refresh = /url\\s*=\\s*(.*)$/i.exec(value);
    return refresh ? [refresh[1].trim()] : [];
  };
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(`handler ${el.tagName} ${name}`);
      if (name === 'srcdoc') found.push(`srcdoc ${el.tagName}`);
      if (!urlAttrs.includes(name)) continue;
      for (const v of urls(name, attr.value)) {
        if (bad.has(scheme(v))) {
          found.push(`url ${el.tagName} ${name}=${v.slice(0, 80)}`);
        }
      }
    }
  }
  for (const s of document.scripts) {
    let src = null;
    try { src = s.src ? new URL(s.src) : null; } catch { src = { origin: 'invalid' }; }
    const own = src && src.origin === location.origin
      && src.pathname.startsWith('/static/');
    if (src && !own) {
      found.push(`script src=${s.src}`);
    }
    if (!src && !['application/ld+json', 'application/json'].includes(s.type)) {
      found.push(`inline script ${s.textContent.slice(0, 60)}`);
    }
  }
  if (root) {
    const active = 'script,iframe,frame,frameset,object,embed,applet,base,meta,link,'
      + 'style,form,input,button:not(.code-copy),textarea,select,svg,math,portal,'
      + 'template,noscript,video,audio,source,area,map,isindex,keygen,[style]';
    for (const el of root.querySelectorAll(active)) found.push(`element ${el.tagName}`);
  }
  if (document.querySelector('base')) found.push('base element');
  return {
    bodies: document.querySelectorAll(selector).length,
    provoked: provoked.length,
    dom: found,
    calls: window.__xss || [],
    csp: window.__csp || [],
  };
}"""

BODY = ".post-body"
# Corpus payloads that run on their own, for the positive control.
LIVE_WITHOUT_NH3 = (
    "<img src=x onerror",
    "<svg/onload",
    "<svg onload",
    "<details open ontoggle",
    "<input onfocus",
    "<img/src=x/onerror",
)
# A post may show images from anywhere; the CSP blocks foreign hosts, and
# that is the policy working, not a script getting through.
HARMLESS_DIRECTIVES = ("img-src",)


@dataclass
class Findings:
    dialogs: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dom: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)
    bodies: int = 0
    provoked: int = 0

    @property
    def ran_script(self) -> bool:
        return bool(self.dialogs or self.calls)

    def script_csp(self) -> list[str]:
        return [v for v in self.csp if not v.startswith(HARMLESS_DIRECTIVES)]


class Hooks:
    """Every signal of script running, attached once to a page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.current = Findings()
        page.set_default_timeout(10_000)
        page.add_init_script(HOOKS)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.current.errors.append(str(exc)[:200]))
        page.on("console", self._console)
        page.on("framenavigated", self._navigated)
        self.expected_url = ""

    def _dialog(self, dialog: Any) -> None:
        self.current.dialogs.append(f"{dialog.type}({dialog.message})")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            # Also reported by the DOM event, which names the directive.
            return
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.current.errors.append(message.text[:200])

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame and frame.url not in (
            self.expected_url,
            "about:blank",
        ):
            self.current.navigations.append(frame.url)

    def start(self, expected_url: str) -> Findings:
        self.current = Findings()
        self.expected_url = expected_url
        return self.current

    def collect(self) -> Findings:
        """Provoke handlers, then read the DOM and what every frame recorded."""
        page, found = self.page, self.current
        try:
            result = page.evaluate(CHECK, BODY)
        except Exception as exc:  # noqa: BLE001 - the page navigated away
            found.navigations.append(f"{page.url[:80]} ({str(exc)[:80]})")
            return found
        found.bodies, found.provoked = result["bodies"], result["provoked"]
        found.dom, found.calls, found.csp = (
            result["dom"],
            result["calls"],
            result["csp"],
        )
        for frame in page.frames[1:]:
            try:
                found.calls += frame.evaluate("window.__xss || []")
                found.csp += frame.evaluate("window.__csp || []")
            except Exception as exc:  # noqa: BLE001 - a frame gone or cross-origin
                found.errors.append(f"frame {frame.url[:60]}: {exc}"[:200])
        return found


def _raw_html(payload: str) -> str:
    """What the pipeline would serve without nh3."""
    return _markdown().convert(payload)


@pytest.fixture
def xss_posts() -> list[tuple[str, Post]]:
    author = UserFactory(username="xss-author", display_name="XSS")
    category = services.category_create(name="xss")
    published = timezone.now() - dt.timedelta(minutes=5)
    return [
        (
            payload,
            services.post_create(
                author=author,
                title=f"XSS payload {number:03d}",
                slug=f"xss-{number:03d}",
                body=payload,
                category=category,
                status=Post.Status.PUBLISHED,
                published_at=published,
            ),
        )
        for number, payload in enumerate(payloads(), start=1)
    ]


def test_no_payload_runs_script_on_a_published_post_page(
    live_daphne: Any, page: Any, xss_posts: list[tuple[str, Post]]
) -> None:
    assert len(xss_posts) >= 100
    hooks = Hooks(page)
    bad: dict[str, Findings] = {}
    rendered = elements = 0
    harmless_csp: list[str] = []
    for payload, post in xss_posts:
        url = live_daphne.url + post.get_absolute_url()
        found = hooks.start(url)
        response = page.goto(url)
        assert response is not None and response.status == 200, (payload, url)
        assert "default-src 'self'" in response.headers["content-security-policy"]
        hooks.collect()
        rendered += found.bodies
        elements += found.provoked
        harmless_csp += [v for v in found.csp if v not in found.script_csp()]
        if (
            found.ran_script
            or found.script_csp()
            or found.errors
            or found.dom
            or found.navigations
        ):
            bad[payload] = found
    executed = sum(f.ran_script for f in bad.values())
    dangerous = sum(bool(f.dom) for f in bad.values())
    violations = sum(bool(f.script_csp()) for f in bad.values())
    print(
        f"\npayloads rendered: {rendered} (post-body elements provoked: {elements}); "
        f"scripts executed: {executed}; javascript:/data:/vbscript: URLs, handlers "
        f"or active elements in the DOM: {dangerous}; CSP violations other than "
        f"img-src: {violations}; blocked foreign images (img-src): "
        f"{len(harmless_csp)}; page errors: {sum(bool(f.errors) for f in bad.values())}"
        f"; navigations away: {sum(bool(f.navigations) for f in bad.values())}"
    )
    assert rendered == len(xss_posts)
    assert not bad, {p[:80]: f for p, f in list(bad.items())[:5]}


def test_the_hooks_catch_the_payloads_when_nothing_sanitises_them(
    live_daphne: Any, page: Any
) -> None:
    """Positive control: Markdown output without nh3, first with no CSP
    (scripts run, the page navigates, the DOM scan finds the rest), then
    behind the site's own CSP header (inline scripts are refused and
    reported)."""
    corpus = payloads()
    control_url = live_daphne.url + "/__xss-control__/"
    served: dict[str, dict[str, str]] = {}
    page.route(
        control_url,
        lambda route: route.fulfill(
            status=200, headers=served["headers"], body=served["body"]
        ),
    )
    hooks = Hooks(page)

    def load(html: str, policy: str | None = None) -> Findings:
        served["body"] = f'<!doctype html><div class="post-body">{html}</div>'
        served["headers"] = {"Content-Type": "text/html"}
        if policy:
            served["headers"]["Content-Security-Policy"] = policy
        hooks.start(control_url)
        page.goto(control_url)
        return hooks.collect()

    # Payloads that neither navigate nor wait for a click, unsanitised together.
    live = [p for p in corpus if p.lower().startswith(LIVE_WITHOUT_NH3)]
    found = load("".join(map(_raw_html, live)))
    print(
        f"\nunsanitised, no CSP: {len(live)} payloads, {len(found.dialogs)} dialogs, "
        f"{len(found.calls)} recorded calls, {len(found.dom)} dangerous DOM findings"
    )
    assert len(live) >= 8 and found.dialogs and len(found.calls) >= len(live)
    handlers = [d for d in found.dom if d.startswith("handler ")]
    assert len(handlers) >= len(live) // 2 and any(
        d.startswith("element ") for d in found.dom
    )
    found = load(_raw_html("[x](javascript:alert(1)) [y](data:text/html,x)"))
    assert sum(d.startswith("url A href=") for d in found.dom) == 2, found.dom

    # The same payloads behind the real header of a real page: refused, reported.
    policy = page.goto(live_daphne.url + "/").headers["content-security-policy"]  # type: ignore[union-attr]
    found = load("".join(map(_raw_html, live)) + "<script>alert(1)</script>", policy)
    script_violations = [v for v in found.csp if v.startswith("script-src")]
    print(
        f"unsanitised behind the site's CSP: {len(script_violations)} script "
        f"violations reported, {len(found.dialogs)} dialogs"
    )
    assert len(script_violations) >= len(live) // 2 and not found.dialogs and found.dom
