"""区县报送情况 / District submissions: the stewards' page inside the Airflow 3 UI.

An Airflow 3 UI plugin is a FastAPI app that the API server mounts (``fastapi_apps``) plus a navigation entry
(``external_views``) that the UI shows under Browse and renders in an iframe at ``/plugin/district-submissions``.
The pages themselves (list, per-file findings, receipts, Data Docs) live in ``etl/web/stewards_page.py``.

Access: the same login as the rest of Airflow (the UI's ``_token`` cookie or an ``Authorization: Bearer``
token), read access to the ``district_ingest`` DAG (Airflow's own ``requires_access_dag``) and the page's own
permission (``is_authorized_custom_view`` on ``District Submissions``: with FAB, the Steward and Admin roles
of etl/web/access.py; a Viewer is refused), so whatever auth manager is configured decides. A browser that
is not logged in is sent to the login page.

Airflow imports this module in every component, task processes included, so it imports nothing heavy:
FastAPI, the API server's security module and the app are only built when the API server asks for
``fastapi_apps``.
"""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations at runtime.
from functools import cache
from urllib.parse import urlsplit

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from etl.web.stewards_page import URL_PREFIX  # light: no FastAPI or pandas until the app is built

DAG_ID = "district_ingest"
# Under a sub-path ([api] base_url = https://host/airflow/) the iframe must point there too.
_ROOT_PATH = urlsplit(conf.get("api", "base_url", fallback="") or "/").path.rstrip("/")


@cache
def build_app():
    """The pages' FastAPI app with Airflow's authentication and authorisation in front of every route."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
    from fastapi import Depends, HTTPException, Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import RedirectResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from etl.web.access import PAGE_RESOURCE
    from etl.web.stewards_page import create_app

    def may_see_the_page(user: GetUserDep) -> None:
        """The page's own permission (FAB: the Steward and Admin roles; etl/web/access.py)."""
        if not get_auth_manager().is_authorized_custom_view(method="GET", resource_name=PAGE_RESOURCE, user=user):
            raise HTTPException(status_code=403, detail="Forbidden: the stewards' page is for data stewards")

    app = create_app(dependencies=[Depends(requires_access_dag("GET", param_dag_id=DAG_ID)), Depends(may_see_the_page)])

    @app.exception_handler(StarletteHTTPException)
    async def login_first(request: Request, exc: StarletteHTTPException):
        """Not logged in, in a browser: to the login page and back, instead of a bare 401 JSON body."""
        if (
            exc.status_code == 401
            and request.method in ("GET", "HEAD")
            and "text/html" in request.headers.get("accept", "")
        ):
            from airflow.api_fastapi.app import get_auth_manager

            return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)
        return await http_exception_handler(request, exc)

    return app


class DistrictSubmissionsPlugin(AirflowPlugin):
    name = "district_submissions"
    external_views = [
        {
            "name": "District submissions",
            "href": f"{_ROOT_PATH}{URL_PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "district-submissions",
        }
    ]

    @property
    def fastapi_apps(self):  # built on first use: only the API server asks
        return [{"app": build_app(), "url_prefix": URL_PREFIX, "name": "District submissions"}]
