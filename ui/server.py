"""The app as an ASGI application: `streamlit run ui/server.py` serves app.py through st.App, with one
guard in front of Streamlit's own routes.

Streamlit answers every unknown path with its index page, whose asset links are relative: under a
nested path (/run/x, /etc/passwd) they resolve to /run/static/..., which are answered with the index
page again, so the browser never starts the client and shows a blank page (issue 24, defect 13).
NestedPaths sends such an address to a single-segment one, where Streamlit's client says
"Page not found" and opens the home page.
"""
from __future__ import annotations

from pathlib import Path

from starlette.middleware import Middleware
from starlette.responses import RedirectResponse
from streamlit.starlette import App
from streamlit.web.server.starlette.starlette_routes import (BASE_ROUTE_APP_STATIC, BASE_ROUTE_COMPONENT,
                                                              BASE_ROUTE_CORE, BASE_ROUTE_MEDIA, BASE_ROUTE_STATIC)

APP_PY = Path(__file__).resolve().parents[1] / "app.py"
# the paths Streamlit serves itself (its API, assets, uploaded media, components, app static
# files), taken from Streamlit's own route table so a route it adds under these is never redirected
STREAMLIT_ROUTES = frozenset({BASE_ROUTE_CORE, BASE_ROUTE_STATIC, BASE_ROUTE_MEDIA, BASE_ROUTE_COMPONENT,
                              BASE_ROUTE_APP_STATIC})


def unknown_nested(path: str) -> str | None:
    """The single-segment address to send a nested page address to, or None to leave it alone:
    a path of two or more segments that holds none of Streamlit's own routes and ends in no file name."""
    parts = [p for p in path.split("/") if p]
    inside = f"/{'/'.join(parts)}/"  # a route anywhere in the path: the client probes them under a page's path
    if len(parts) < 2 or "." in parts[-1] or any(f"/{route}/" in inside for route in STREAMLIT_ROUTES):
        return None
    return "/" + "-".join(parts)


class NestedPaths:
    """ASGI middleware: a GET or HEAD of an unknown nested path is redirected (302) by unknown_nested."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            target = unknown_nested(scope.get("path", ""))
            if target is not None:
                await RedirectResponse(target, status_code=302)(scope, receive, send)
                return
        await self.app(scope, receive, send)


app = App(APP_PY, middleware=[Middleware(NestedPaths)])
