"""The token guards every page, API call, static file and Socket.IO connection."""
import pytest

from web.config import TestConfig

TOKEN = TestConfig.ONGGI_TOKEN


@pytest.mark.parametrize("path", ["/", "/lessons", "/api/containers", "/api/images",
                                  "/api/diagrams/namespaces.svg", "/static/js/app.js", "/nope"])
def test_refused_without_the_token(client, path):
    assert client.get(path).status_code == 401


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic dGVzdA==", "Bearer ", TOKEN])
def test_refused_with_a_wrong_token(client, header):
    assert client.get("/api/containers", headers={"Authorization": header}).status_code == 401


def test_api_refusal_is_json(client):
    r = client.get("/api/containers")
    assert r.get_json()["error"] == "missing or wrong token"
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_page_refusal_says_how_in_both_languages(client):
    text = client.get("/").get_data(as_text=True)
    assert "토큰이 필요합니다" in text and "A token is required" in text


def test_bearer_token_opens_the_api(client, auth):
    r = client.get("/api/containers", headers=auth)
    assert r.status_code == 200 and r.get_json() == []


def test_query_token_sets_a_strict_httponly_cookie_and_redirects(client):
    r = client.get(f"/?token={TOKEN}&lang=en")
    assert r.status_code == 302
    assert r.headers["Location"] == "/?lang=en"        # the token leaves the address bar
    cookie = r.headers["Set-Cookie"]
    assert f"onggi_token={TOKEN}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/")                             # the cookie now carries it
    assert page.status_code == 200 and "옹기" in page.get_data(as_text=True)
    assert client.get("/static/js/app.js").status_code == 200


def test_wrong_query_token_sets_nothing(client):
    r = client.get("/?token=nope")
    assert r.status_code == 401 and "Set-Cookie" not in r.headers


def test_socketio_refused_without_the_token(app, sio):
    assert not sio(app).is_connected()
    assert not sio(app, auth={"token": "wrong"}).is_connected()


def test_socketio_accepts_auth_or_the_cookie(app, client, sio):
    assert sio(app, auth={"token": TOKEN}).is_connected()
    client.get(f"/?token={TOKEN}")
    assert sio(app, flask_client=client).is_connected()


def test_no_token_configured_refuses_everything(onggi_dirs, sio):
    from web import create_app
    from web.config import TestConfig

    class NoToken(TestConfig):
        ONGGI_TOKEN = None
        ONGGI_RUNTIME = onggi_dirs
    app = create_app(NoToken)
    assert app.test_client().get("/api/containers", headers={"Authorization": "Bearer "}).status_code == 401
    assert not sio(app, auth={"token": ""}).is_connected()


@pytest.mark.parametrize("method, path, code, says", [
    ("get", "/nope", 404, "This page does not exist"),
    ("post", "/", 405, "does not take that method"),
])
def test_an_error_page_says_what_went_wrong_for_its_status(client, auth, method, path, code, says):
    r = getattr(client, method)(path, headers=auth)
    text = r.get_data(as_text=True)
    assert r.status_code == code and says in text and f"{code} " in text
    assert (code == 404) == ("This page does not exist" in text)
