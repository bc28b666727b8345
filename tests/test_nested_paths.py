"""Unknown nested addresses (/run/x, /etc/passwd) give the app's "Page not found" and its home page,
not a blank page (issue 24, defect 13): ui/server.py serves app.py through st.App behind a guard that
sends them to a single-segment address. Streamlit's own routes pass through untouched."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from support import streamlit_server
from support.browser import chromium
from ui.server import unknown_nested


@pytest.mark.parametrize("path, target", [
    ("/run/x", "/run-x"), ("/etc/passwd", "/etc-passwd"), ("/a/b/c/", "/a-b-c"), ("//run//x", "/run-x")])
def test_a_nested_page_address_is_sent_to_one_segment(path, target):
    assert unknown_nested(path) == target


@pytest.mark.parametrize("path", [
    "/", "/run", "/results", "/_stcore/health", "/results/_stcore/health", "/run/_stcore/host-config",
    "/static/js/index.js", "/run/static/js/index.js", "/media/abc.png", "/component/x/index.html",
    "/app/static/report.html", "/app/static/figures", "/run/favicon.png"])
def test_streamlits_own_routes_and_single_pages_pass_through(path):
    assert unknown_nested(path) is None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nested")
    proc, url = streamlit_server.start({"LTH_STORE": str(tmp / "runs"), "LTH_GALLERY": str(tmp / "no-gallery")},
                                       tmp / "server.log")
    try:
        yield url
    finally:
        streamlit_server.stop(proc)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_server_redirects_a_nested_address_and_answers_its_own_probe_as_before(server):
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as moved:
        opener.open(server + "/run/x")
    assert moved.value.code == 302 and moved.value.headers["Location"] == "/run-x"
    assert urllib.request.urlopen(server + "/_stcore/health").read() == b"ok"
    with pytest.raises(urllib.error.HTTPError) as probe:  # the client's probe under a page's path: a 404, as before
        urllib.request.urlopen(server + "/results/_stcore/health")
    assert probe.value.code == 404


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/run/x", "/etc/passwd"])
def test_a_nested_unknown_address_shows_the_home_page_not_a_blank_one(server, path):
    with chromium() as browser:
        page = browser.new_page()
        page.goto(server + path, timeout=60_000)
        page.get_by_role("heading", name="Lottery Ticket Explorer").wait_for(timeout=60_000)
        page.get_by_text("Page not found").wait_for(timeout=30_000)  # Streamlit's client says so, over the home page
        assert page.url.rstrip("/") == server
